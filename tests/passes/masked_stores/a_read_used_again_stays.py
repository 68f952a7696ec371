# golden-args: {"x": "float32[16, 24]", "total": "float32[16, 24]"}
# golden-config: {"block_sizes": [8, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def relu_and_sum(x: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    for tile_m, tile_n in hl.tile(x.size()):
        old = x[tile_m, tile_n]
        x[tile_m, tile_n] = torch.where(old < 0, 0.0, old)
        total[tile_m, tile_n] = total[tile_m, tile_n] + old
    return x
