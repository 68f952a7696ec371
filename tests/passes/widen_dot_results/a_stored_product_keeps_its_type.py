# golden-args: {"a": "float16[64, 32]", "b": "float16[32, 64]"}
# golden-config: {"block_sizes": [16, 16]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def scaled_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0), b.size(1)], dtype=a.dtype, device=a.device)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = torch.mm(a[tile_m, :], b[:, tile_n]) * 2.0
    return out
