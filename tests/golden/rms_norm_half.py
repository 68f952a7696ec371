# golden-args: {"x": "float16[512, 768]", "weight": "float16[768]", "eps": "float"}
# golden-config: {"block_sizes": [[16]], "reduction_loops": [null]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :].to(torch.float32)
        mean_square = torch.mean(row * row, dim=-1)
        inv_rms = torch.rsqrt(mean_square + eps)
        out[tile_m, :] = (row * inv_rms[:, None] * weight[:].to(torch.float32)).to(out.dtype)
    return out
