# golden-args: {"x": "float32[1024, 1024]"}
# golden-config: {"block_sizes": [64]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def double(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * 2
    return out
