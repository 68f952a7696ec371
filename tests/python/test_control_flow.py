"""Structured control flow on the device: `if`/`else` and `while` on scalar
conditions, `range()` loops, conditions known at compile time (`is None`,
`and`/`or`), each against PyTorch eager with odd sizes, size-1 and empty
dimensions and non-contiguous inputs, under several configs."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def configs(*block_sizes: list[int]) -> list[helion.Config]:
    return [helion.Config(block_sizes=b) for b in block_sizes]


# --- if / else on a loaded scalar -----------------------------------------------------------


@helion.kernel(configs=configs([16], [64]))
def scale_or_clip_rows(x: torch.Tensor, mode: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for row in hl.grid(m):
        for tile_n in hl.tile(n):
            v = x[row, tile_n]
            flag = mode[row]
            if flag > 0:
                v = torch.clamp(v, max=0.5)
            elif flag < 0:
                v = v * 2
            else:
                w = v + 1
                v = w * w
            out[row, tile_n] = v
    return out


def scale_or_clip_rows_ref(x: torch.Tensor, mode: torch.Tensor) -> torch.Tensor:
    flag = mode[:, None]
    return torch.where(flag > 0, x.clamp(max=0.5), torch.where(flag < 0, x * 2, (x + 1) ** 2))


@pytest.mark.parametrize("shape", [(5, 37), (1, 1), (3, 130)])
def test_if_elif_else_on_loaded_scalar(shape: tuple[int, int]) -> None:
    x = torch.randn(*shape, device=DEVICE)
    mode = torch.randint(-1, 2, (shape[0],), device=DEVICE)
    torch.testing.assert_close(scale_or_clip_rows(x, mode), scale_or_clip_rows_ref(x, mode))


def test_if_on_non_contiguous_input() -> None:
    x = torch.randn(40, 6, device=DEVICE).t()
    mode = torch.tensor([1, -1, 0, 1, 0, -1], device=DEVICE)
    torch.testing.assert_close(scale_or_clip_rows(x, mode), scale_or_clip_rows_ref(x, mode))


@helion.kernel(config=helion.Config(block_sizes=[32]))
def row_sign_sum(x: torch.Tensor) -> torch.Tensor:
    """A new name defined in both branches, and a store in one branch only."""
    m, n = x.size()
    out = torch.zeros_like(x)
    for row in hl.grid(m):
        for tile_n in hl.tile(n):
            v = x[row, tile_n]
            first = x[row, 0]
            if first >= 0:
                sign = torch.ones_like(v)
                out[row, tile_n] = v
            else:
                sign = -torch.ones_like(v)
            out[row, tile_n] = out[row, tile_n] + sign
    return out


def test_name_defined_in_both_branches_and_store_in_one() -> None:
    x = torch.randn(7, 45, device=DEVICE)
    positive = x[:, :1] >= 0
    expected = torch.where(positive, x + 1, torch.full_like(x, -1.0))
    torch.testing.assert_close(row_sign_sum(x), expected)


# --- while ----------------------------------------------------------------------------------


@helion.kernel(configs=configs([16], [128]))
def halve_until_below(x: torch.Tensor, bound: float) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile]
        peak = torch.amax(torch.abs(v), 0)
        steps = 0
        while peak > bound and steps < 20:
            v = v * 0.5
            peak = peak * 0.5
            steps = steps + 1
        out[tile] = v
    return out


def halve_until_below_ref(x: torch.Tensor, bound: float, block: int) -> torch.Tensor:
    out = x.clone()
    for start in range(0, x.numel(), block):
        v = x[start : start + block]
        peak, steps = v.abs().max(), 0
        while peak > bound and steps < 20:
            v, peak, steps = v * 0.5, peak * 0.5, steps + 1
        out[start : start + block] = v
    return out


@pytest.mark.parametrize("n", [1, 37, 300])
def test_while_with_carried_values(n: int) -> None:
    x = torch.randn(n, device=DEVICE) * 16
    bound = 1.0
    for config in halve_until_below.configs:
        bound_kernel = halve_until_below.bind((x, bound))
        run = bound_kernel.compile_config(config)
        expected = halve_until_below_ref(x, bound, config.block_sizes[0])
        torch.testing.assert_close(run(x, bound), expected)


# --- range() loops --------------------------------------------------------------------------


@helion.kernel(configs=configs([16], [64]))
def integer_power(x: torch.Tensor, k: int) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile]
        acc = torch.ones_like(v)
        for _ in range(k):
            acc = acc * v
        out[tile] = acc
    return out


@pytest.mark.parametrize("k", [0, 1, 3])
def test_range_over_an_int_argument(k: int) -> None:
    x = torch.randn(53, device=DEVICE)
    torch.testing.assert_close(integer_power(x, k), x**k)


@helion.kernel(config=helion.Config(block_sizes=[]))
def prefix_counts(lengths: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """A range whose bound is loaded on the device."""
    (b,) = lengths.size()
    for row in hl.grid(b):
        count = lengths[row]
        acc = 0
        for j in range(1, count + 1, 2):
            acc = acc + j
        out[row] = acc
    return out


def test_range_with_a_device_bound_and_step() -> None:
    lengths = torch.tensor([0, 1, 5, 8, 3], device=DEVICE)
    out = torch.empty_like(lengths)
    expected = torch.tensor([sum(range(1, int(c) + 1, 2)) for c in lengths], device=DEVICE)
    torch.testing.assert_close(prefix_counts(lengths, out), expected)


# --- conditions the compiler decides --------------------------------------------------------


@helion.kernel(config=helion.Config(block_sizes=[32]))
def add_bias(x: torch.Tensor, bias: torch.Tensor | None, scale: float) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile] * (1 - scale)
        if bias is not None and scale != 0.0:
            v = v + bias[tile]
        out[tile] = v
    return out


def test_optional_argument_and_host_scalar_arithmetic() -> None:
    x = torch.randn(45, device=DEVICE)
    bias = torch.randn(45, device=DEVICE)
    torch.testing.assert_close(add_bias(x, bias, 0.25), x * 0.75 + bias)
    torch.testing.assert_close(add_bias(x, None, 0.25), x * 0.75)
    torch.testing.assert_close(add_bias(x, bias, 0.0), x)


@helion.kernel(config=helion.Config(block_sizes=[16]))
def pick_scalar(x: torch.Tensor, threshold: float) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        peak = torch.amax(x[tile], 0)
        factor = 2.0 if peak > threshold else -1.0
        out[tile] = x[tile] * factor
    return out


def test_conditional_expression_on_a_scalar() -> None:
    x = torch.randn(48, device=DEVICE)
    expected = torch.cat(
        [c * (2.0 if c.max() > 0.5 else -1.0) for c in x.split(16)]
    )
    torch.testing.assert_close(pick_scalar(x, 0.5), expected)


def test_empty_input() -> None:
    x = torch.randn(0, 8, device=DEVICE)
    mode = torch.zeros(0, dtype=torch.int64, device=DEVICE)
    assert scale_or_clip_rows(x, mode).shape == (0, 8)


# --- errors -----------------------------------------------------------------------------------


@helion.kernel(config=helion.Config(block_sizes=[16]))
def if_on_tensor(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile]
        if v > 0:
            v = -v
        out[tile] = v
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def one_branch_name(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        peak = torch.amax(x[tile], 0)
        if peak > 0:
            w = x[tile] * 2
        out[tile] = w
    return out


@helion.kernel(config=helion.Config(block_sizes=[16, 16]))
def branches_disagree_on_shape(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        v = x[tile_m, tile_n]
        if x[tile_m.begin, 0] > 0:
            v = torch.sum(v, 1)
        out[tile_m, tile_n] = v
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def break_on_device(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile]
        for _ in range(3):
            break
        out[tile] = v
    return out


@pytest.mark.parametrize(
    ("kernel", "cls", "words"),
    [
        (if_on_tensor, exc.UnsupportedSyntax, ("scalar", "torch.where")),
        (one_branch_name, exc.UndefinedVariable, ("only one branch",)),
        (branches_disagree_on_shape, exc.ShapeMismatch, ("both branches",)),
        (break_on_device, exc.UnsupportedSyntax, ("break",)),
    ],
    ids=["tensor-condition", "one-branch-name", "branch-shapes", "break"],
)
def test_control_flow_errors(kernel: helion.Kernel, cls: type, words: tuple[str, ...]) -> None:
    x = torch.randn(16, 16, device=DEVICE) if kernel is branches_disagree_on_shape else (
        torch.randn(16, device=DEVICE)
    )
    with pytest.raises(cls) as error:
        kernel(x)
    message = str(error.value)
    assert f"in kernel '{kernel.name}'" in message
    for word in words:
        assert word in message, message


@helion.kernel(config=helion.Config(block_sizes=[32]))
def add_row_count(x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """A Python int changed by a while loop whose condition reads an int64 load."""
    m, n = x.size()
    out = torch.empty_like(x)
    for row in hl.grid(m):
        for tile_n in hl.tile(n):
            v = x[row, tile_n]
            steps = 0
            while steps < counts[row]:
                v = v + 1
                steps = steps + 1
            out[row, tile_n] = v
    return out


def test_while_counting_to_a_loaded_int64() -> None:
    x = torch.randn(4, 33, device=DEVICE)
    counts = torch.tensor([0, 3, 1, 5], device=DEVICE)
    torch.testing.assert_close(add_row_count(x, counts), x + counts[:, None].to(x.dtype))


# --- what a tile tells about itself ---------------------------------------------------------


@helion.kernel(configs=configs([8, 16], [4, 32]))
def tile_facts(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, 4], dtype=torch.int32, device=x.device)
    for tile_m in hl.tile(m):
        ids = hl.zeros([tile_m], dtype=torch.int32)
        counts = hl.zeros([tile_m], dtype=torch.int32)
        for tile_n in hl.tile(2, n):
            ids = hl.zeros([tile_m], dtype=torch.int32) + tile_n.id
            counts = hl.zeros([tile_m], dtype=torch.int32) + tile_n.count
        out[tile_m, 0] = hl.zeros([tile_m], dtype=torch.int32) + tile_m.id
        out[tile_m, 1] = hl.zeros([tile_m], dtype=torch.int32) + hl.tile_id(tile_m)
        out[tile_m, 2] = ids
        out[tile_m, 3] = counts + hl.tile_block_size(tile_m) - tile_m.block_size
    return out


def test_tile_id_and_count() -> None:
    x = torch.randn(19, 45, device=DEVICE)
    for config in tile_facts.configs:
        bm, bn = config.block_sizes
        got = tile_facts.bind((x,)).compile_config(config)(x)
        rows = torch.arange(19, device=DEVICE) // bm
        count = -(-(45 - 2) // bn)
        expected = torch.stack(
            [rows, rows, torch.full_like(rows, count - 1), torch.full_like(rows, count)], 1
        ).to(torch.int32)
        torch.testing.assert_close(got, expected)


# --- loops over ranges computed on the device -----------------------------------------------


@helion.kernel(configs=configs([16, 4], [8, 8]))
def rows_within_tile(x: torch.Tensor) -> torch.Tensor:
    """An inner loop over the outer tile's own rows, `hl.tile(t.begin, t.end)`."""
    m, n = x.size()
    out = torch.empty_like(x)
    for outer in hl.tile(m):
        for inner in hl.tile(outer.begin, outer.end):
            out[inner, :] = x[inner, :] * 3
    return out


@pytest.mark.parametrize("m", [1, 21, 32])
def test_inner_loop_over_the_outer_tile(m: int) -> None:
    x = torch.randn(m, 10, device=DEVICE)
    for config in rows_within_tile.configs:
        run = rows_within_tile.bind((x,)).compile_config(config)
        torch.testing.assert_close(run(x), x * 3)


@helion.kernel(configs=configs([4], [16]))
def jagged_row_sums(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Rows of different lengths: row i is values[offsets[i]:offsets[i + 1]]."""
    (rows_plus_one,) = offsets.size()
    rows = rows_plus_one - 1
    out = torch.zeros([rows], dtype=values.dtype, device=values.device)
    for row in hl.grid(rows):
        start = offsets[row]
        end = offsets[row + 1]
        total = hl.zeros([1], dtype=torch.float32)
        for chunk in hl.tile(start, end):
            total = total + torch.sum(values[chunk], 0, keepdim=True)
        out[row] = torch.sum(total, 0)
    return out


def test_loop_bounds_loaded_from_a_tensor() -> None:
    lengths = torch.tensor([3, 0, 17, 1, 40], device=DEVICE)
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64, device=DEVICE), lengths.cumsum(0)])
    values = torch.randn(int(lengths.sum()), device=DEVICE)
    expected = torch.stack([c.sum() for c in values.split(lengths.tolist())])
    for config in jagged_row_sums.configs:
        run = jagged_row_sums.bind((values, offsets)).compile_config(config)
        torch.testing.assert_close(run(values, offsets), expected, rtol=1e-5, atol=1e-5)


# --- slices with bounds ---------------------------------------------------------------------


@helion.kernel(config=helion.Config(block_sizes=[4]))
def concat_columns(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, n1 = x.size()
    _, n2 = y.size()
    out = torch.empty([m, n1 + n2], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m, :n1] = x[tile_m, :]
        out[tile_m, n1:] = y[tile_m, :]
    return out


@helion.kernel(config=helion.Config(block_sizes=[4]))
def middle_columns(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.zeros([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m, 2:-3] = x[tile_m, 2:-3] * 2
    return out


def test_slices_with_bounds() -> None:
    x, y = torch.randn(7, 13, device=DEVICE), torch.randn(7, 5, device=DEVICE)
    torch.testing.assert_close(concat_columns(x, y), torch.cat([x, y], 1))
    expected = torch.zeros_like(x)
    expected[:, 2:-3] = x[:, 2:-3] * 2
    torch.testing.assert_close(middle_columns(x), expected)


@helion.kernel(config=helion.Config(block_sizes=[16]))
def tuple_kept_across_if(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        pair = (x[tile], x[tile] * 2)
        if torch.amax(x[tile], 0) > 0:
            scale = 3.0
        else:
            scale = 1.0
        first, second = pair
        out[tile] = first * scale + second
    return out


def test_names_an_if_leaves_alone_stay_usable() -> None:
    x = torch.randn(48, device=DEVICE)
    chunks = [c * (3.0 if c.max() > 0 else 1.0) + c * 2 for c in x.split(16)]
    torch.testing.assert_close(tuple_kept_across_if(x), torch.cat(chunks))
