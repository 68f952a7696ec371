# golden-args: {"x": "float32[32, 1000]"}
# golden-config: {"block_sizes": [4], "reduction_loops": [128]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def softmax(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        peak = torch.amax(row, dim=1, keepdim=True)
        e = torch.exp(row - peak)
        out[tile_m, :] = e / torch.sum(e, dim=1, keepdim=True)
    return out
