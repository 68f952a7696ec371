# golden-args: {"x": "float32[1000, 300]"}
# golden-config: {"block_sizes": [[32, 32]]}
# golden-settings: {"static_shapes": false}
import torch
import helion
import helion.language as hl


@helion.kernel()
def double(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2
    return out
