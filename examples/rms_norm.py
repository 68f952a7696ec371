"""RMS normalization of each row with a learned weight, checked against PyTorch."""

import torch

import helion
import helion.language as hl


@helion.kernel()
def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    m, n = x.size()
    assert weight.size(0) == n, f"weight has {weight.size(0)} elements, expected {n}"
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :].to(torch.float32)
        mean_square = torch.mean(row * row, dim=-1)
        inv_rms = torch.rsqrt(mean_square + eps)
        normalized = row * inv_rms[:, None]
        out[tile_m, :] = (normalized * weight[:].to(torch.float32)).to(out.dtype)
    return out


def rms_norm_reference(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    row = x.float()
    inv_rms = torch.rsqrt(row.pow(2).mean(-1, keepdim=True) + eps)
    return (row * inv_rms * weight.float()).to(x.dtype)


if __name__ == "__main__":
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    shape = [4096, 4096] if device == "cuda" else [33, 130]
    x = torch.randn(shape, device=device, dtype=dtype)
    weight = torch.randn(shape[1], device=device, dtype=dtype)
    torch.testing.assert_close(
        rms_norm(x, weight), rms_norm_reference(x, weight), rtol=1e-2, atol=1e-2
    )
    print(f"rms_norm {shape} {dtype} on {device}: matches torch")
