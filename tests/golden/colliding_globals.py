# golden-args: {"x": "float32[64, 48]"}
# golden-config: {"block_sizes": [16]}
# Globals named like what the generated code imports or calls: the module
# imports triton.language under another name and calls the builtin float
# through `builtins`.
import math as tl
import torch
import helion
import helion.language as hl

float = 2.0


@helion.kernel()
def scaled_max(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile, :].amax(-1) * float + tl.pi
    return out
