# golden-args: {"x": "float32[1000, 300]", "y": "float32[1000, 300]"}
# golden-config: {"block_sizes": [[32, 64]], "indexing": "pointer"}
# golden-settings: {"static_shapes": false}
import torch
import helion
import helion.language as hl


@helion.kernel()
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out
