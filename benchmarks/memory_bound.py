"""The cases bound by memory bandwidth: the example kernels add, softmax, row sum and rms_norm,
plain Triton kernels for the same jobs, and the PyTorch code that defines the right answer.

The plain Triton kernels are what a Triton user writes first: one block of
elements per program for add, one row per program for the row reductions.
benchmarks/gpu_table.py runs them.
"""

# Triton's compile-time parameters are upper case by convention.
# ruff: noqa: N803

from __future__ import annotations

import functools
from collections.abc import Iterator

import torch
import triton
import triton.language as tl
from common import Case, load_example

# --- the same jobs in plain Triton ---------------------------------------------------


@triton.jit
def _triton_add(x, y, out, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    total = tl.load(x + offsets, mask=mask) + tl.load(y + offsets, mask=mask)
    tl.store(out + offsets, total, mask=mask)


def triton_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    n = out.numel()
    block = 1024
    _triton_add[(triton.cdiv(n, block),)](x, y, out, n, block, num_warps=4)
    return out


@triton.jit
def _triton_softmax(x, out, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    values = tl.load(x + row * n_cols + cols, mask=mask, other=float("-inf")).to(tl.float32)
    exp = tl.exp(values - tl.max(values, axis=0))
    result = exp / tl.sum(exp, axis=0)
    tl.store(out + row * n_cols + cols, result.to(out.dtype.element_ty), mask=mask)


def triton_softmax(x: torch.Tensor) -> torch.Tensor:
    rows, cols = x.shape
    out = torch.empty_like(x)
    block = triton.next_power_of_2(cols)
    _triton_softmax[(rows,)](x, out, cols, block, num_warps=_warps_for_row(block))
    return out


@triton.jit
def _triton_row_sum(x, out, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for start in tl.range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        acc += tl.load(x + row * n_cols + cols, mask=cols < n_cols, other=0.0).to(tl.float32)
    tl.store(out + row, tl.sum(acc, axis=0).to(out.dtype.element_ty))


def triton_row_sum(x: torch.Tensor) -> torch.Tensor:
    rows, cols = x.shape
    out = torch.empty([rows], device=x.device, dtype=x.dtype)
    block = min(triton.next_power_of_2(cols), 2048)
    _triton_row_sum[(rows,)](x, out, cols, block, num_warps=_warps_for_row(block))
    return out


@triton.jit
def _triton_rms_norm(x, weight, out, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    values = tl.load(x + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
    inv_rms = tl.rsqrt(tl.sum(values * values, axis=0) / n_cols + eps)
    scale = tl.load(weight + cols, mask=mask, other=0.0).to(tl.float32)
    result = values * inv_rms * scale
    tl.store(out + row * n_cols + cols, result.to(out.dtype.element_ty), mask=mask)


def triton_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    rows, cols = x.shape
    out = torch.empty_like(x)
    block = triton.next_power_of_2(cols)
    _triton_rms_norm[(rows,)](x, weight, out, cols, eps, block, num_warps=_warps_for_row(block))
    return out


def _warps_for_row(block: int) -> int:
    """Enough warps that each thread holds a few vectors of a row, as Triton's tutorials pick."""
    if block >= 4096:
        return 16
    if block >= 2048:
        return 8
    return 4


# --- the cases -----------------------------------------------------------------------

ADD_SHAPE = (8192, 8192)
SOFTMAX_SHAPE = (4096, 2560)
ROW_SUM_SHAPE = (4096, 8192)
RMS_NORM_SHAPE = (4096, 4096)


def cases(device: str = "cuda") -> Iterator[Case]:
    p, q = (torch.randn(ADD_SHAPE, device=device) for _ in range(2))
    yield Case(
        f"add {_shape(ADD_SHAPE)} fp32",
        load_example("add").add.fn,
        (p, q),
        torch.add,
        triton=triton_add,
    )

    r = torch.randn(SOFTMAX_SHAPE, device=device, dtype=torch.float16)
    yield Case(
        f"softmax {_shape(SOFTMAX_SHAPE)} fp16",
        load_example("softmax").softmax.fn,
        (r,),
        functools.partial(torch.softmax, dim=1),
        triton=triton_softmax,
    )

    t = torch.randn(ROW_SUM_SHAPE, device=device)
    yield Case(
        f"row sum {_shape(ROW_SUM_SHAPE)} fp32",
        load_example("sum").row_sum.fn,
        (t,),
        functools.partial(torch.sum, dim=-1),
        triton=triton_row_sum,
    )

    module = load_example("rms_norm")
    u = torch.randn(RMS_NORM_SHAPE, device=device, dtype=torch.float16)
    w = torch.randn(RMS_NORM_SHAPE[1:], device=device, dtype=torch.float16)
    yield Case(
        f"rms_norm {_shape(RMS_NORM_SHAPE)} fp16",
        module.rms_norm.fn,
        (u, w),
        module.rms_norm_reference,
        triton=triton_rms_norm,
    )


def _shape(shape: tuple[int, int]) -> str:
    """``8192^2`` for a square, ``4096x2560`` otherwise, as the earlier tables named them."""
    rows, cols = shape
    return f"{rows}^2" if rows == cols else f"{rows}x{cols}"
