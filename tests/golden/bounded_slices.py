# golden-args: {"x": "float32[16, 40]", "y": "float32[16, 24]"}
# golden-config: {"block_sizes": [8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def concat(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, n1 = x.size()
    n2 = y.size(1)
    out = torch.empty([m, n1 + n2], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m, :n1] = x[tile_m, :]
        out[tile_m, n1:] = y[tile_m, :]
    return out
