"""Reductions and scans by a combine function (hl.reduce, hl.associative_scan,
cumsum, cumprod) against PyTorch eager, with odd row lengths (the masked
lanes past the end must not change a result)."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def larger_magnitude(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(torch.abs(a) > torch.abs(b), a, b)


@helion.kernel(configs=[helion.Config(block_sizes=[b]) for b in (1, 4)])
def row_reductions(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, 3], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        out[tile_m, 0] = hl.reduce(larger_magnitude, row, dim=1)
        out[tile_m, 1] = hl.reduce(lambda a, b: a * b, row, dim=1, other=1)
        out[tile_m, 2] = hl.reduce(lambda a, b: torch.maximum(a, b), row, 1, float("-inf"))
    return out


@pytest.mark.parametrize("n", [1, 7, 33])
def test_reduce_with_a_combine_function(n: int) -> None:
    x = torch.rand(5, n, device=DEVICE) + 0.5
    x[:, 0] = -3.0
    expected = torch.stack(
        [x.gather(1, x.abs().argmax(1, keepdim=True))[:, 0], x.prod(1), x.amax(1)], 1
    )
    for config in row_reductions.configs:
        got = row_reductions.bind((x,)).compile_config(config)(x)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


@helion.kernel(config=helion.Config(block_sizes=[2]))
def row_scans(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([3, m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        out[0, tile_m, :] = hl.associative_scan(lambda a, b: torch.maximum(a, b), row, dim=1)
        out[1, tile_m, :] = torch.cumsum(row, dim=1)
        out[2, tile_m, :] = hl.cumprod(row, 1)
    return out


@pytest.mark.parametrize("n", [1, 6, 40])
def test_scans(n: int) -> None:
    x = torch.rand(3, n, device=DEVICE) + 0.5
    expected = torch.stack([x.cummax(1).values, x.cumsum(1), x.cumprod(1)])
    torch.testing.assert_close(row_scans(x), expected, rtol=1e-4, atol=1e-5)


@helion.kernel(config=helion.Config(block_sizes=[8]))
def int_cumsum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m, :] = x[tile_m, :].cumsum(1)
    return out


def test_integer_cumsum_accumulates_in_int64() -> None:
    x = torch.randint(-5, 5, (9, 13), dtype=torch.int32, device=DEVICE)
    torch.testing.assert_close(int_cumsum(x), x.cumsum(1))


@helion.kernel(config=helion.Config(block_sizes=[8]))
def reverse_scans(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    sums = torch.empty_like(x)
    products = torch.empty_like(x)
    for tile_m in hl.tile(m):
        sums[tile_m, :] = hl.cumsum(x[tile_m, :], 1, reverse=True)
        products[tile_m, :] = torch.cumprod(x[tile_m, :], 1, reverse=True)
    return sums, products


@pytest.mark.parametrize("n", [1, 7, 32])
def test_reverse_scans(n: int) -> None:
    x = torch.rand(5, n, device=DEVICE) + 0.5
    sums, products = reverse_scans(x)
    torch.testing.assert_close(sums, x.flip(1).cumsum(1).flip(1), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(products, x.flip(1).cumprod(1).flip(1), rtol=1e-4, atol=1e-5)


@helion.kernel(config=helion.Config(block_sizes=[8]))
def reverse_scan_of_my_own(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        out[tile_m, :] = hl.associative_scan(
            lambda a, b: torch.maximum(a, b), x[tile_m, :], 1, reverse=True
        )
    return out


@helion.kernel(config=helion.Config(block_sizes=[8]))
def combine_returns_a_row(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        out[tile_m] = hl.reduce(lambda a, b: row, row, dim=1)
    return out


def test_reverse_scan_of_a_function_of_mine() -> None:
    x = torch.randn(4, 16, device=DEVICE)
    torch.testing.assert_close(reverse_scan_of_my_own(x), x.flip(1).cummax(1).values.flip(1))
    # Rows of 13 pad to 16 lanes, which no identity of a function of mine can fill.
    with pytest.raises(exc.InvalidConfig, match="reverse scan"):
        reverse_scan_of_my_own(torch.randn(4, 13, device=DEVICE))


@pytest.mark.parametrize(
    ("kernel", "cls", "words"),
    [
        (combine_returns_a_row, exc.CompileError, ("combine function",)),
    ],
    ids=["non-scalar-combine"],
)
def test_combine_errors(kernel: helion.Kernel, cls: type, words: tuple[str, ...]) -> None:
    with pytest.raises(cls) as error:
        kernel(torch.randn(4, 8, device=DEVICE))
    for word in words:
        assert word in str(error.value)


def segment_sum(left_value, left_key, right_value, right_key):
    same = left_key == right_key
    return torch.where(same, left_value + right_value, right_value), right_key


def larger_with_position(left_value, left_index, right_value, right_index):
    take_left = left_value >= right_value
    return torch.where(take_left, left_value, right_value), torch.where(
        take_left, left_index, right_index
    )


@helion.kernel(config=helion.Config(block_sizes=[2]))
def tuple_combines(
    x: torch.Tensor, keys: torch.Tensor, columns: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    sums = torch.empty_like(x)
    positions = torch.empty([m], dtype=torch.int32, device=x.device)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        row_keys = keys[tile_m, :]
        running, _ = hl.associative_scan(segment_sum, (row, row_keys), dim=1)
        sums[tile_m, :] = running
        _, best = hl.reduce(
            larger_with_position, (row, columns[None, :]), dim=1, other=(float("-inf"), 0)
        )
        positions[tile_m] = best
    return sums, positions


@pytest.mark.parametrize("n", [1, 9, 32])
def test_combine_functions_over_tuples(n: int) -> None:
    x = torch.randn(5, n, device=DEVICE)
    keys = torch.randint(0, 3, (5, n), device=DEVICE).sort(1).values.to(torch.int32)
    columns = torch.arange(n, dtype=torch.int32, device=DEVICE)
    sums, positions = tuple_combines(x, keys, columns)
    expected = torch.empty_like(x)
    for i in range(5):
        running = 0.0
        for j in range(n):
            same = j > 0 and keys[i, j] == keys[i, j - 1]
            running = running + float(x[i, j]) if same else float(x[i, j])
            expected[i, j] = running
    torch.testing.assert_close(sums, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(positions, x.argmax(1).to(torch.int32))
