"""Functions and lambdas passed to a kernel are inlined into its device code.

What they capture (closure cells, their module's globals) is read from them
at each launch: tensors become kernel arguments, scalars follow the rules of
other host scalars. The callable's code is part of the specialization key.
"""

from __future__ import annotations

from typing import Callable

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

MODULE_BIAS = torch.randn(24, device=DEVICE)


@helion.kernel(config=helion.Config(block_sizes=[16, 8]))
def rows_with_epilogue(
    x: torch.Tensor,
    epilogue: Callable[[torch.Tensor, tuple[object, ...]], torch.Tensor] = lambda v, tile: v,
) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = epilogue(x[tile_m, tile_n] * 2, (tile_m, tile_n))
    return out


def test_default_lambda_is_inlined() -> None:
    x = torch.randn(20, 24, device=DEVICE)
    torch.testing.assert_close(rows_with_epilogue(x), x * 2)


def test_lambda_reads_a_captured_tensor_and_scalar() -> None:
    x = torch.randn(20, 24, device=DEVICE)
    bias = torch.randn(24, device=DEVICE)
    scale = 0.5
    result = rows_with_epilogue(x, lambda v, tile: v * scale + bias[tile[1]])
    torch.testing.assert_close(result, x * 2 * 0.5 + bias)


def test_lambda_reads_a_module_global_tensor() -> None:
    x = torch.randn(20, 24, device=DEVICE)
    result = rows_with_epilogue(x, lambda v, tile: torch.relu(v + MODULE_BIAS[tile[-1]]))
    torch.testing.assert_close(result, torch.relu(x * 2 + MODULE_BIAS))


def test_def_with_broadcast_capture_and_nested_helper() -> None:
    x = torch.randn(20, 24, device=DEVICE)
    table = torch.broadcast_to(torch.randn(1, device=DEVICE), [20, 24])

    def shifted(v: torch.Tensor) -> torch.Tensor:
        return v - 1.0

    def epilogue(v: torch.Tensor, tile: tuple[object, ...]) -> torch.Tensor:
        return shifted(v) + table[tile[0], tile[1]]

    torch.testing.assert_close(rows_with_epilogue(x, epilogue), x * 2 - 1.0 + table)


def test_closure_values_are_read_at_each_launch() -> None:
    """A lambda made anew per call with new captured values reuses the kernel
    and sees the new values; a lambda with other code compiles anew."""
    x = torch.randn(20, 24, device=DEVICE)
    rows_with_epilogue.reset()
    for scale in (1.0, 3.0):
        bias = torch.randn(24, device=DEVICE)
        result = rows_with_epilogue(x, lambda v, tile: v * scale + bias[tile[1]])
        torch.testing.assert_close(result, x * 2 * scale + bias)
    assert len(rows_with_epilogue._bound) == 1
    torch.testing.assert_close(rows_with_epilogue(x, lambda v, tile: -v), -x * 2)
    assert len(rows_with_epilogue._bound) == 2


def test_captured_tensor_of_other_shape_is_another_specialization() -> None:
    x = torch.randn(20, 24, device=DEVICE)
    wide = torch.randn(3, 24, device=DEVICE)
    rows_with_epilogue.reset()
    for rows in (wide, wide[1:]):
        result = rows_with_epilogue(x, lambda v, tile: v + rows[rows.size(0) - 1, tile[1]])
        torch.testing.assert_close(result, x * 2 + rows[-1])
    assert len(rows_with_epilogue._bound) == 2


@helion.kernel(config=helion.Config(block_sizes=[8]))
def accumulate_into(x: torch.Tensor, store: Callable[[torch.Tensor, object], None]) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        out[tile] = x[tile]
        store(x[tile] + 1, tile)
    return out


def test_callable_stores_into_a_captured_tensor() -> None:
    x = torch.randn(19, device=DEVICE)
    side = torch.zeros(19, device=DEVICE)

    def store(v: torch.Tensor, tile: object) -> None:
        side[tile] = v

    accumulate_into(x, store)
    torch.testing.assert_close(side, x + 1)


@pytest.mark.parametrize("static_shapes", [True, False])
def test_matmul_bias_epilogue(static_shapes: bool) -> None:
    x = torch.randn(33, 40, device=DEVICE)
    y = torch.randn(40, 29, device=DEVICE)
    bias = torch.randn(29, device=DEVICE)
    kernel = helion.kernel(
        K.matmul_with_epilogue,
        config=helion.Config(block_sizes=[16, 16, 16]),
        static_shapes=static_shapes,
    )
    result = kernel(x, y, lambda acc, tile: torch.relu(acc + bias[tile[1]]))
    # The GPU's dots round float32 inputs to tf32 (the default dot_precision).
    tolerance = 5e-2 if DEVICE == "cuda" else 1e-4
    torch.testing.assert_close(result, torch.relu(x @ y + bias), rtol=tolerance, atol=tolerance)


def test_callable_error_names_the_callable() -> None:
    x = torch.randn(20, 24, device=DEVICE)
    with pytest.raises(exc.UnsupportedOp, match="in callable argument 'epilogue'"):
        rows_with_epilogue(x, lambda v, tile: torch.linalg.svd(v))


def test_tuple_index_out_of_range() -> None:
    x = torch.randn(20, 24, device=DEVICE)
    with pytest.raises(exc.InvalidSequenceSubscription, match="tuple index 2 is out of range"):
        rows_with_epilogue(x, lambda v, tile: v[tile[2]])
