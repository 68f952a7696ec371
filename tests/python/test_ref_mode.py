"""Ref mode: the kernel body run eagerly in PyTorch agrees with the compiled kernel.

Each kernel of ``kernels.py`` and ``ref_kernels.py`` runs compiled (under
Triton's interpreter on the CPU, on the GPU where there is one) and in ref
mode on the same arguments; the results must match. Then the ``hl``
functions' eager meanings, the settings that turn ref mode on, and the
errors it raises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import kernels as K  # noqa: N812
import pytest
import ref_kernels as R  # noqa: N812
import torch

import helion
import helion.language as hl
from helion import _settings, exc
from helion.autotuner import BooleanFragment, IntegerFragment, ListOf, PowerOfTwoFragment
from helion.runtime import ref_mode


def _case(
    fn: Callable[..., Any], make_args: Callable[[str], Sequence[Any]], tolerance: float = 1e-4
) -> Any:
    return pytest.param(fn, make_args, tolerance, id=fn.__name__)


def _randn(*shape: int, dtype: torch.dtype = torch.float32) -> Callable[[str], torch.Tensor]:
    return lambda device: torch.randn(*shape, device=device, dtype=dtype)


def _args(*makers: Any) -> Callable[[str], list[Any]]:
    return lambda device: [m(device) if callable(m) else m for m in makers]


CASES = [
    _case(K.add, _args(_randn(13, 37), _randn(13, 37))),
    _case(K.add_1d, _args(_randn(101), _randn(101))),
    _case(K.pointwise_chain, _args(_randn(7, 29), _randn(7, 29))),
    _case(K.scale_shift, _args(_randn(9, 21), _randn(9), _randn(21))),
    _case(K.activations, _args(_randn(5, 33))),
    _case(K.matmul, _args(_randn(19, 40), _randn(40, 23)), 1e-3),
    _case(
        K.matmul,
        _args(_randn(16, 32, dtype=torch.float16), _randn(32, 16, dtype=torch.float16)),
        1e-2,
    ),
    _case(K.matmul_matmul_op, _args(_randn(16, 48), _randn(48, 16)), 1e-3),
    _case(K.softmax, _args(_randn(11, 45))),
    _case(K.row_sum, _args(_randn(10, 77))),
    _case(K.row_mean_keepdim, _args(_randn(6, 31))),
    _case(K.center_rows, _args(_randn(6, 31))),
    _case(K.rms_norm, _args(_randn(9, 65), _randn(65))),
    _case(R.scale_add_odd, _args(_randn(13, 37), _randn(13, 37), 0.5)),
    _case(R.looped_row_sum, _args(_randn(9, 70))),
    _case(R.online_softmax, _args(_randn(9, 70))),
    _case(R.grid_rows_times_two, _args(_randn(5, 19))),
    _case(R.shifted_difference, _args(_randn(29))),
    _case(R.masked_store_positive, _args(_randn(29))),
    _case(
        R.histogram_atomic,
        _args(lambda device: torch.randint(0, 7, (50,), device=device), 7),
    ),
    _case(R.column_max_atomic, _args(_randn(11, 23))),
    _case(R.split_k_matmul, _args(_randn(16, 48), _randn(48, 16)), 1e-3),
    _case(K.dot_with_acc, _args(_randn(16, 48), _randn(48, 16)), 1e-3),
    _case(R.nested_fixed_blocks, _args(_randn(10, 19))),
    _case(R.tile_attributes, _args(_randn(21))),
]


@pytest.mark.parametrize(("fn", "make_args", "tolerance"), CASES)
def test_ref_mode_agrees_with_the_compiled_kernel(
    fn: Callable[..., Any], make_args: Callable[[str], Sequence[Any]], tolerance: float, device: str
) -> None:
    torch.manual_seed(0)
    args = make_args(device)
    compiled = helion.kernel(autotune_effort="none", dot_precision="ieee")(fn)
    eager = helion.kernel(ref_mode=helion.RefMode.EAGER)(fn)
    expected = compiled(*args)
    torch.testing.assert_close(eager(*args), expected, atol=tolerance, rtol=tolerance)
    torch.testing.assert_close(compiled.run_ref(*args), expected, atol=tolerance, rtol=tolerance)
    bound = compiled.bind(args)
    torch.testing.assert_close(bound.run_ref(*args), expected, atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize(
    ("fn", "make_args", "config"),
    [
        (K.softmax, _args(_randn(9, 70)), {"block_sizes": [4], "reduction_loops": [16]}),
        (
            K.rms_norm,
            _args(_randn(9, 70), _randn(70)),
            {"block_sizes": [2], "reduction_loops": [8]},
        ),
        (K.matmul, _args(_randn(19, 40), _randn(40, 23)), {"block_sizes": [16, 16, 16]}),
    ],
    ids=["softmax", "rms_norm", "matmul"],
)
def test_ref_mode_agrees_with_small_blocks_and_looped_reductions(
    fn: Callable[..., Any],
    make_args: Callable[[str], Sequence[Any]],
    config: dict[str, Any],
    device: str,
) -> None:
    torch.manual_seed(0)
    args = make_args(device)
    compiled = helion.kernel(config=helion.Config(**config), dot_precision="ieee")(fn)
    torch.testing.assert_close(compiled.run_ref(*args), compiled(*args), atol=1e-3, rtol=1e-3)


# --- how ref mode is turned on -------------------------------------------------------


def test_helion_interpret_runs_the_body_without_the_compiler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The compiler takes no tile-derived bounds; ref mode never asks it.
    monkeypatch.setattr(_settings, "_triton_interpret_set_by_helion", True)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setenv("HELION_INTERPRET", "1")
    kernel = helion.kernel(R.tile_within_tile)
    assert kernel.settings.ref_mode == helion.RefMode.EAGER
    x = torch.randn(21)
    expected = x + torch.arange(21).div(8, rounding_mode="floor").float()
    torch.testing.assert_close(kernel(x), expected)


def test_helion_interpret_with_a_user_set_triton_interpret_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_settings, "_triton_interpret_set_by_helion", False)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setenv("HELION_INTERPRET", "1")
    with pytest.raises(exc.IncompatibleInterpretModes, match=r"unset one of them"):
        helion.kernel(K.add)


def test_ref_mode_off_by_default_and_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELION_INTERPRET", raising=False)
    assert helion.Settings().ref_mode == helion.RefMode.OFF
    monkeypatch.setenv("HELION_INTERPRET", "0")
    assert helion.Settings().ref_mode == helion.RefMode.OFF
    assert helion.Settings(ref_mode="eager").ref_mode is helion.RefMode.EAGER


def test_print_output_code_in_ref_mode_is_an_error() -> None:
    with pytest.raises(exc.RefEagerModeCodePrintError, match=r"kernel 'add'.*turn one of them off"):
        helion.kernel(ref_mode=helion.RefMode.EAGER, print_output_code=True)(K.add)


def test_prints_inside_the_kernel_run(capsys: pytest.CaptureFixture[str]) -> None:
    kernel = helion.kernel(ref_mode=helion.RefMode.EAGER)(R.nested_fixed_blocks)
    kernel(torch.zeros(5, 3))
    hl_print = helion.kernel(ref_mode=helion.RefMode.EAGER)(_prints_each_tile)
    hl_print(torch.arange(10.0))
    out = capsys.readouterr().out
    assert "tile RefTile(begin=0, end=4, block_size=4)" in out
    assert "tile RefTile(begin=8, end=10, block_size=4)" in out


def _prints_each_tile(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=4):
        hl.device_print("tile", tile)
        out[tile] = x[tile]
    return out


def test_hl_functions_still_refuse_to_run_outside_a_kernel() -> None:
    with pytest.raises(exc.NotInsideKernel):
        hl.zeros([4])
    with pytest.raises(exc.NotInsideKernel):
        list(hl.tile(4))


def test_every_hl_function_has_an_eager_meaning() -> None:
    device_only = {
        name
        for name in hl.__all__
        if callable(getattr(hl, name)) and name not in ("Tile", "constexpr", "specialize")
    }
    assert device_only <= set(ref_mode.EAGER_FUNCTIONS)


# --- the eager meaning of hl functions ------------------------------------------------


def _in_ref_mode(body: Callable[..., Any], *args: Any, config: dict[str, Any] | None = None) -> Any:
    return ref_mode.run(body, "test_kernel", args, config or {})


def test_tiles_cover_the_whole_range_unless_the_block_size_is_fixed() -> None:
    def body(n: int) -> list[tuple[int, int, int, int, int]]:
        seen = []
        for tile in hl.tile(n):
            seen.append((tile.begin, tile.end, tile.block_size, tile.id, tile.count))
        for tile in hl.tile(3, n, 4):
            seen.append((tile.begin, tile.end, tile.block_size, tile.id, tile.count))
        return seen

    assert _in_ref_mode(body, 10) == [
        (0, 10, 10, 0, 1),
        (3, 7, 4, 0, 2),
        (7, 10, 4, 1, 2),
    ]


def test_multi_dimensional_tiles_and_grids() -> None:
    def body(x: torch.Tensor) -> tuple[list[Any], list[Any]]:
        tiles = [(a.begin, b.end) for a, b in hl.tile(x.size(), block_size=[2, None])]
        cells = list(hl.grid([1, 2], [3, 5], step=[1, 2]))
        return tiles, cells

    tiles, cells = _in_ref_mode(body, torch.zeros(3, 5))
    assert tiles == [(0, 5), (2, 5)]
    assert cells == [(1, 2), (1, 4), (2, 2), (2, 4)]


def test_tile_index_and_tile_functions() -> None:
    def body(x: torch.Tensor) -> list[Any]:
        out = []
        for tile in hl.tile(x.size(0), block_size=4):
            out.append(
                (
                    hl.tile_index(tile).tolist(),
                    hl.tile_begin(tile),
                    hl.tile_end(tile),
                    hl.tile_block_size(tile),
                    hl.tile_id(tile),
                    tile.index.dtype,
                )
            )
        return out

    assert _in_ref_mode(body, torch.zeros(6)) == [
        ([0, 1, 2, 3], 0, 4, 4, 0, torch.int32),
        ([4, 5], 4, 6, 4, 1, torch.int32),
    ]


def test_tiles_as_sizes() -> None:
    def body(x: torch.Tensor) -> list[list[int]]:
        shapes = []
        for tile_m, tile_n in hl.tile(x.size(), block_size=[2, 3]):
            shapes.append(list(hl.zeros([tile_m, tile_n]).shape))
            shapes.append(list(torch.empty([tile_m, 2]).shape))
            shapes.append(list(x.new_zeros(tile_n).shape))
            break
        return shapes

    assert _in_ref_mode(body, torch.zeros(5, 7)) == [[2, 3], [2, 2], [3]]


def test_creation_functions() -> None:
    def body(x: torch.Tensor) -> list[torch.Tensor]:
        for tile in hl.tile(x.size(0)):
            return [
                hl.zeros([tile], dtype=torch.float16),
                hl.full([tile, 2], 7, dtype=torch.int64),
                hl.arange(4),
                hl.arange(2, 8, 2, dtype=torch.int64),
            ]
        return []

    zeros, full, arange, stepped = _in_ref_mode(body, torch.zeros(3))
    assert zeros.dtype == torch.float16 and zeros.tolist() == [0, 0, 0]
    assert full.tolist() == [[7, 7]] * 3
    assert arange.dtype == torch.int32 and arange.tolist() == [0, 1, 2, 3]
    assert stepped.tolist() == [2, 4, 6]


def test_register_block_size_returns_its_maximum() -> None:
    def body(x: torch.Tensor) -> list[int]:
        block = hl.register_block_size(16, x.size(0))
        only_max = hl.register_block_size(32)
        return [block, only_max, len(list(hl.tile(x.size(0), block_size=block)))]

    assert _in_ref_mode(body, torch.zeros(40)) == [40, 32, 1]


def test_register_tunable_reads_the_config_or_the_default() -> None:
    def body(x: torch.Tensor) -> list[Any]:
        return [
            hl.register_tunable("split", PowerOfTwoFragment(2, 16, 4)),
            hl.register_tunable("tail", IntegerFragment(1, 8, 20)),
            hl.register_tunable("flag", BooleanFragment()),
        ]

    assert _in_ref_mode(body, torch.zeros(1)) == [4, 8, 0]
    assert _in_ref_mode(body, torch.zeros(1), config={"split": 8, "flag": True}) == [8, 8, 1]


def test_register_tunable_errors() -> None:
    def bad_fragment(x: torch.Tensor) -> Any:
        return hl.register_tunable("sizes", ListOf(PowerOfTwoFragment(1, 4), 2))

    def bad_name(x: torch.Tensor) -> Any:
        return hl.register_tunable("num_warps", PowerOfTwoFragment(1, 4))

    def bad_arguments(x: torch.Tensor) -> Any:
        return hl.register_tunable("size", 4)

    with pytest.raises(exc.TunableTypeNotSupported, match=r"kernel 'test_kernel'"):
        _in_ref_mode(bad_fragment, torch.zeros(1))
    with pytest.raises(exc.TunableNameConflict, match=r"reads as the config field 'num_warps'"):
        _in_ref_mode(bad_name, torch.zeros(1))
    with pytest.raises(exc.RegisterTunableArgTypes):
        _in_ref_mode(bad_arguments, torch.zeros(1))


def test_masked_loads_read_zeros_and_index_tensors_are_clamped() -> None:
    def body(x: torch.Tensor) -> list[torch.Tensor]:
        for tile in hl.tile(x.size(0)):
            return [
                hl.load(x, [tile], extra_mask=tile.index % 2 == 0),
                x[tile.index + 2],
            ]
        return []

    masked, shifted = _in_ref_mode(body, torch.arange(1.0, 6.0))
    assert masked.tolist() == [1, 0, 3, 0, 5]
    assert shifted.tolist() == [3, 4, 5, 5, 5]


def test_atomics_return_old_values_and_see_each_other() -> None:
    def body(target: torch.Tensor, index: torch.Tensor) -> list[Any]:
        results = []
        for tile in hl.tile(index.size(0)):
            results.append(hl.atomic_add(target, [index[tile]], 1).tolist())
            results.append(hl.atomic_or(target, [index[tile]], 8).tolist())
            results.append(hl.atomic_xor(target, [index[tile]], 1).tolist())
            results.append(hl.atomic_and(target, [index[tile]], 12).tolist())
            results.append(hl.atomic_min(target, [index[tile]], 9).tolist())
            results.append(hl.atomic_xchg(target, [index[tile]], 3).tolist())
            results.append(hl.atomic_cas(target, [index[tile]], 3, 5, sem="acq_rel").tolist())
        return results

    target = torch.zeros(3, dtype=torch.int32)
    results = _in_ref_mode(body, target, torch.tensor([0, 0, 2]))
    # Lanes that share a position run one after another: the second sees the first.
    assert results[0] == [0, 1, 0]
    assert results[1] == [2, 10, 1]
    assert target.tolist() == [5, 0, 5]


def test_atomics_check_their_memory_order() -> None:
    def body(target: torch.Tensor) -> None:
        for tile in hl.tile(target.size(0)):
            hl.atomic_add(target, [tile], 1, sem="sequential")

    with pytest.raises(exc.InvalidAPIUsage, match=r"sem='sequential'.*'relaxed'"):
        _in_ref_mode(body, torch.zeros(2))


def test_dot_result_dtypes() -> None:
    def body(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> list[torch.Tensor]:
        for _ in hl.grid(1):
            return [
                hl.dot(a, b),
                hl.dot(a, b, out_dtype=torch.float16),
                hl.dot(c, c.T),
                hl.dot(a, b, acc=torch.ones(2, 2, dtype=torch.float16)),
            ]
        return []

    a = torch.randn(2, 3, dtype=torch.float16)
    b = torch.randn(3, 2, dtype=torch.float16)
    c = torch.randint(-5, 5, (2, 3), dtype=torch.int8)
    plain, narrowed, integral, accumulated = _in_ref_mode(body, a, b, c)
    assert plain.dtype == torch.float32
    assert narrowed.dtype == torch.float16
    assert integral.dtype == torch.int32
    assert integral.tolist() == (c.int() @ c.int().T).tolist()
    assert accumulated.dtype == torch.float16
    torch.testing.assert_close(accumulated.float(), plain + 1, atol=1e-2, rtol=1e-2)


def test_reduce_and_scans() -> None:
    def add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b

    def argmax_combine(
        value_a: torch.Tensor, index_a: torch.Tensor, value_b: torch.Tensor, index_b: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        take_b = value_b > value_a
        return torch.where(take_b, value_b, value_a), torch.where(take_b, index_b, index_a)

    def body(x: torch.Tensor) -> list[Any]:
        for tile_m in hl.tile(x.size(0)):
            rows = x[tile_m, :]
            indices = torch.arange(x.size(1)).expand_as(rows)
            return [
                hl.reduce(add, rows, dim=1),
                hl.reduce(add, rows, dim=1, keep_dims=True),
                hl.reduce(argmax_combine, (rows, indices), dim=1),
                hl.associative_scan(add, rows, dim=1),
                hl.associative_scan(add, rows, dim=1, reverse=True),
                hl.cumsum(rows, 1),
                hl.cumprod(rows, 1, reverse=True),
            ]
        return []

    x = torch.randn(3, 7)
    total, kept, (best, where), scan, reverse_scan, cumsum, cumprod = _in_ref_mode(body, x)
    torch.testing.assert_close(total, x.sum(1))
    assert kept.shape == (3, 1)
    torch.testing.assert_close(best, x.amax(1))
    assert where.tolist() == x.argmax(1).tolist()
    torch.testing.assert_close(scan, x.cumsum(1))
    torch.testing.assert_close(reverse_scan, x.flip(1).cumsum(1).flip(1))
    torch.testing.assert_close(cumsum, x.cumsum(1))
    torch.testing.assert_close(cumprod, x.flip(1).cumprod(1).flip(1))


def test_scan_keeps_the_order_of_a_non_commutative_combine() -> None:
    def keep_right_unless_nan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.where(torch.isnan(b), a, b)

    def body(x: torch.Tensor) -> torch.Tensor:
        for _ in hl.grid(1):
            return hl.associative_scan(keep_right_unless_nan, x, dim=0)
        return x

    nan = float("nan")
    result = _in_ref_mode(body, torch.tensor([1.0, nan, nan, 4.0, nan]))
    assert result.tolist() == [1.0, 1.0, 1.0, 4.0, 4.0]


def test_static_range_and_barrierless_loops() -> None:
    def body(x: torch.Tensor) -> list[int]:
        return list(hl.static_range(2, 8, 3))

    assert _in_ref_mode(body, torch.zeros(1)) == [2, 5]


def test_rand_matches_triton_philox(device: str) -> None:
    import triton
    import triton.language as tl

    @triton.jit
    def triton_rand(out_ptr, seed, n: tl.constexpr):
        offsets = tl.arange(0, n)
        tl.store(out_ptr + offsets, tl.rand(seed, offsets))

    expected = torch.empty(64, device=device)
    triton_rand[(1,)](expected, 1234, 64)

    def body(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty(64, device=x.device)
        for tile in hl.tile(64, block_size=16):
            out[tile] = hl.rand([tile], seed=1234)
        return out

    torch.testing.assert_close(_in_ref_mode(body, torch.zeros(1, device=device)), expected)


def test_what_ref_mode_cannot_run() -> None:
    def body(x: torch.Tensor) -> Any:
        for tile in hl.tile(x.size(0)):
            return hl.randint([tile], 0, 10, seed=1)
        return None

    with pytest.raises(exc.UnsupportedOp, match=r"hl.randint cannot run in ref mode"):
        _in_ref_mode(body, torch.zeros(2))


# --- misuse of tiles ------------------------------------------------------------------


def test_arithmetic_on_a_tile_is_incorrect_tile_usage() -> None:
    def body(x: torch.Tensor) -> Any:
        for tile in hl.tile(x.size(0)):
            return tile + 1
        return None

    with pytest.raises(exc.IncorrectTileUsage, match=r"(?s)kernel 'test_kernel'.*tile \+ 1"):
        _in_ref_mode(body, torch.zeros(2))


def test_a_tile_as_a_bound_is_tile_of_tile() -> None:
    def body(x: torch.Tensor) -> None:
        for tile in hl.tile(x.size(0)):
            for _ in hl.tile(tile):
                pass

    with pytest.raises(exc.TileOfTile, match=r"hl.tile\(t.begin, t.end\)"):
        _in_ref_mode(body, torch.zeros(2))


def test_bad_ranges() -> None:
    def reversed_range(x: torch.Tensor) -> None:
        for _ in hl.tile(5, 2):
            pass

    def mixed_forms(x: torch.Tensor) -> None:
        for _ in hl.tile([0, 0], 5):
            pass

    with pytest.raises(exc.InvalidTileRange, match=r"\[5, 2\)"):
        _in_ref_mode(reversed_range, torch.zeros(1))
    with pytest.raises(exc.IncorrectTileUsage, match=r"both as scalars or both as lists"):
        _in_ref_mode(mixed_forms, torch.zeros(1))


def test_a_tile_past_the_end_of_a_dimension_is_a_shape_mismatch() -> None:
    def body(x: torch.Tensor, y: torch.Tensor) -> None:
        for tile in hl.tile(x.size(0)):
            y[tile] = x[tile]

    with pytest.raises(exc.ShapeMismatch, match=r"dimension 0 of a tensor of shape \[3\]"):
        _in_ref_mode(body, torch.zeros(5), torch.zeros(3))


# --- indexing as kernels index ---------------------------------------------------------


def test_several_index_vectors_give_an_outer_product() -> None:
    def body(x: torch.Tensor) -> list[torch.Tensor]:
        for _ in hl.grid(1):
            rows = torch.tensor([2, 0])
            cols = torch.tensor([1, 3, 3])
            return [x[rows, cols], hl.load(x, [rows, cols])]
        return []

    x = torch.arange(12).view(3, 4)
    plain, loaded = _in_ref_mode(body, x)
    assert plain.tolist() == [[9, 11, 11], [1, 3, 3]]
    assert loaded.tolist() == plain.tolist()


def test_masked_loads_and_stores_past_the_end_of_a_dimension() -> None:
    def body(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        for tile in hl.tile(out.size(0), block_size=4):
            # out is longer than x: the lanes past x's end read zeros.
            hl.store(out, [tile], hl.load(x, [tile]) + 1)
        for tile in hl.tile(6):
            # out is shorter than the tile: the lanes past its end write nothing.
            hl.store(out, [tile], hl.load(out, [tile]) * 10, extra_mask=tile.index % 2 == 0)
        return out

    result = _in_ref_mode(body, torch.arange(3.0), torch.zeros(5))
    assert result.tolist() == [10, 2, 30, 1, 10]


def test_a_scalar_index_into_a_size_one_dimension_broadcasts() -> None:
    def body(x: torch.Tensor) -> list[float]:
        return [x[0, head].item() for head in hl.grid(3)]

    assert _in_ref_mode(body, torch.tensor([[5.0]])) == [5.0, 5.0, 5.0]


def test_matmuls_with_an_out_dtype_or_a_wider_bias() -> None:
    def body(a: torch.Tensor, b: torch.Tensor) -> list[torch.Tensor]:
        for _ in hl.grid(1):
            acc = torch.zeros(2, 2, 2)
            return [
                torch.bmm(a, b, torch.float32),
                torch.baddbmm(acc, a, b),
                torch.addmm(acc[0], a[0], b[0]),
            ]
        return []

    a = torch.randn(2, 2, 3, dtype=torch.float16)
    b = torch.randn(2, 3, 2, dtype=torch.float16)
    product = a.float() @ b.float()
    batched, accumulated, single = _in_ref_mode(body, a, b)
    assert batched.dtype == accumulated.dtype == single.dtype == torch.float32
    torch.testing.assert_close(batched, product)
    torch.testing.assert_close(accumulated, product)
    torch.testing.assert_close(single, product[0])


def test_barrier_is_a_no_op_and_jagged_tiles_are_refused() -> None:
    def body(x: torch.Tensor) -> None:
        hl.barrier()
        for tile in hl.tile(x.size(0)):
            for _ in hl.jagged_tile(x[tile]):
                pass

    with pytest.raises(exc.UnsupportedOp, match=r"hl.jagged_tile cannot run in ref mode.*"):
        _in_ref_mode(body, torch.ones(2))


def test_constexpr_arguments_and_keywords() -> None:
    kernel = helion.kernel(ref_mode=helion.RefMode.EAGER)(R.scale_add_odd)
    x = torch.randn(3, 5)
    expected = x * 2.0 + torch.sigmoid(x)
    torch.testing.assert_close(kernel(x, x, hl.constexpr(2.0)), expected)
    torch.testing.assert_close(kernel(x, y=x, alpha=2.0), expected)
