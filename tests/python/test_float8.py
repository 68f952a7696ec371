"""float8 dtypes (float8_e4m3fn, float8_e5m2) in loads, casts and dot."""

from __future__ import annotations

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
FLOAT8 = [torch.float8_e4m3fn, torch.float8_e5m2]


@helion.kernel(config=helion.Config(block_sizes=[16]))
def upcast_and_back(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    (n,) = x.size()
    wide = torch.empty([n], dtype=torch.float32, device=x.device)
    narrow = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile].to(torch.float32)
        wide[tile] = v * 2
        narrow[tile] = (v * 0.5).to(x.dtype)
    return wide, narrow


@pytest.mark.parametrize("dtype", FLOAT8, ids=["e4m3fn", "e5m2"])
def test_float8_kernel_compiles_to_triton_float8(dtype: torch.dtype) -> None:
    x = torch.randn(40).to(dtype)
    code = upcast_and_back.bind((x,)).to_triton_code(helion.Config(block_sizes=[16]))
    spelled = "tl.float8e4nv" if dtype == torch.float8_e4m3fn else "tl.float8e5"
    assert spelled in code


@pytest.mark.skipif(torch.cuda.is_available(), reason="the interpreter runs where there is no GPU")
def test_float8_under_the_interpreter_says_it_needs_a_gpu() -> None:
    with pytest.raises(exc.GPURequired, match="float8"):
        upcast_and_back(torch.randn(40).to(torch.float8_e4m3fn))


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", FLOAT8, ids=["e4m3fn", "e5m2"])
def test_float8_loads_and_casts(dtype: torch.dtype) -> None:
    x = torch.randn(40, device=DEVICE).to(dtype)
    wide, narrow = upcast_and_back(x)
    torch.testing.assert_close(wide, x.to(torch.float32) * 2)
    torch.testing.assert_close(narrow, (x.to(torch.float32) * 0.5).to(dtype))


fp8_matmul = helion.kernel(config=helion.Config(block_sizes=[[32, 32], [32]]))(K.dot_with_acc)


@pytest.mark.gpu
def test_float8_dot() -> None:
    x = torch.randn(64, 96, device=DEVICE).to(torch.float8_e4m3fn)
    y = torch.randn(96, 48, device=DEVICE).to(torch.float8_e4m3fn).t().contiguous().t()
    expected = x.to(torch.float32) @ y.to(torch.float32)
    torch.testing.assert_close(fp8_matmul(x, y), expected, rtol=1e-2, atol=1e-2)
