# golden-args: {"x": "float32[6, 40]", "bias": "float32[1, 40]"}
# golden-config: {"block_sizes": [1, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def add_row(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        # bias's size-1 dim lines up with tile_m: tile_m keeps its dimension.
        out[tile_m, tile_n] = x[tile_m, tile_n] + bias[:, tile_n]
    return out
