# golden-args: {"x": "int8[65536]", "y": "int8[32769]"}
# golden-config: {"block_sizes": [[16, 16]]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def outer(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), y.size(0)], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([x.size(0), y.size(0)]):
        out[tile_m, tile_n] = x[tile_m, None] * y[None, tile_n]
    return out
