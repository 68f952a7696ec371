# golden-args: {"x": "float32[30, 20]", "y": "float32[30, 20]"}
# golden-config: {"block_sizes": [8, 16]}
import torch
import triton
import triton.language as tl
import helion
import helion.language as hl


@triton.jit
def sum_and_difference(a, b):
    return a + b, a - b


@triton.jit
def store_scaled(out_ptr, offsets, values, mask, scale):
    tl.store(out_ptr + offsets, values * scale, mask=mask)


SQUARE = """
@triton.jit
def square(v):
    return v * v
"""


@helion.kernel()
def triton_kernel_calls(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for i, j in hl.tile(x.size()):
        a = x[i, j]
        s, d = hl.triton_kernel(sum_and_difference, (a, y[i, j]), output_like=(a, a))
        offsets = i.index[:, None] * x.stride(0) + j.index[None, :]
        mask = (i.index[:, None] < x.size(0)) & (j.index[None, :] < x.size(1))
        product = hl.triton_kernel(SQUARE, {"v": s * d}, output_like=a)
        hl.triton_kernel(store_scaled, (out, offsets, product, mask, 0.5), output_like=None)
    return out
