# golden-args: {"x": "float32[32, 1000]", "flags": "int32[32]"}
# golden-config: {"block_sizes": [1], "reduction_loops": [256]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def masked_row_sum(x: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.zeros([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        if flags[tile_m.begin] != 0:
            out[tile_m] = torch.sum(x[tile_m, :] * 2, dim=1)
    return out
