# golden-args: {"x": "float32[64, 100]", "s": "float32[64]"}
# golden-config: {"block_sizes": [32]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def scale_rows(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for i in hl.grid(m):
        for tile_n in hl.tile(n):
            out[i, tile_n] = x[i, tile_n] * s[i]
    return out
