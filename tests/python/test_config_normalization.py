"""A config is normalized once, by the compiler, and its canonical form reused.

The compiler core counts its normalizations per specialization
(``_core.Kernel.normalization_count``): a first call, the code it generates
and every later use of the same config must add exactly one.
"""

from __future__ import annotations

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import exc


def _normalizations(kernel: helion.Kernel, x: torch.Tensor) -> int:
    return kernel.bind((x,))._core.normalization_count()


def test_a_first_call_with_a_given_config_normalizes_it_once(device: str) -> None:
    kernel = helion.kernel(config=helion.Config(num_warps=2, block_sizes=[16]))(K.add_one)
    x = torch.randn(64, device=device)
    torch.testing.assert_close(kernel(x), x + 1)
    assert _normalizations(kernel, x) == 1
    bound = kernel.bind((x,))
    kernel(x)
    bound.to_triton_code()
    bound.to_triton_code({"block_sizes": [16], "num_warps": 2})
    bound.set_config(bound.config)
    bound.compile_config(helion.Config(num_warps=2, block_sizes=[16]))
    bound.config_spec.normalize(bound.config)
    assert _normalizations(kernel, x) == 1


def test_the_default_config_is_normalized_once(device: str) -> None:
    kernel = helion.kernel(autotune_effort="none")(K.add_one)
    x = torch.randn(64, device=device)
    kernel(x)
    bound = kernel.bind((x,))
    bound.to_triton_code()
    bound.to_triton_code(bound.config_spec.default_config())
    assert _normalizations(kernel, x) == 1


def test_each_spelling_is_normalized_once(device: str) -> None:
    kernel = helion.kernel(autotune_effort="none")(K.add_one)
    x = torch.randn(64, device=device)
    bound = kernel.bind((x,))
    flat = bound.config_spec.normalize({"pid_type": "flat"})
    for _ in range(2):
        assert bound.config_spec.normalize({"use_yz_grid": False}) == flat
        bound.to_triton_code({"use_yz_grid": False})
    assert _normalizations(kernel, x) == 2


def test_an_invalid_config_is_reported_every_time(device: str) -> None:
    kernel = helion.kernel(autotune_effort="none")(K.add_one)
    x = torch.randn(64, device=device)
    bound = kernel.bind((x,))
    for _ in range(2):
        with pytest.raises(exc.InvalidConfig):
            bound.to_triton_code({"block_sizes": [3]})


def add_with_fixed_columns(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(out.size(), block_size=[None, 32]):
        out[tile_m, tile_n] = x[tile_m, tile_n] + y[tile_m, tile_n]
    return out


@pytest.mark.parametrize("block_sizes", [[16], [16, 32], [[16, 32]]])
def test_block_sizes_with_a_fixed_dimension_in_every_spelling(
    device: str, block_sizes: list[object]
) -> None:
    # [16] is Helion 1.4's flat form: a dimension fixed by block_size= has no entry.
    x = torch.randn(40, 70, device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=block_sizes))(add_with_fixed_columns)
    torch.testing.assert_close(kernel(x, x), x + x)
    assert kernel.bind((x, x)).config["block_sizes"] == [[16, 32]]


def test_config_errors_name_the_file_line_of_the_tile_call(device: str) -> None:
    import inspect

    lines, first = inspect.getsourcelines(add_with_fixed_columns)
    call_line = first + next(i for i, line in enumerate(lines) if "hl.tile(" in line)
    x = torch.randn(40, 70, device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=[[16]]))(add_with_fixed_columns)
    with pytest.raises(exc.InvalidConfig, match=f"the hl.tile call at line {call_line}\\)"):
        kernel(x, x)
