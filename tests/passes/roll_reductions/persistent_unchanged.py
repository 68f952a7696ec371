# golden-args: {"x": "float32[32, 1000]"}
# golden-config: {"block_sizes": [4], "reduction_loops": [null]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def row_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = torch.sum(x[tile_m, :], dim=1)
    return out
