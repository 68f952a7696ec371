# golden-args: {"a": "float16[64, 32]", "b": "float16[32, 64]"}
# golden-config: {"block_sizes": [16, 16]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def half_sums(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0)], dtype=torch.float32, device=a.device)
    for tile_m in hl.tile(a.size(0)):
        total = hl.zeros([tile_m], dtype=torch.float16)
        for tile_n in hl.tile(b.size(1)):
            total = total + torch.sum(torch.mm(a[tile_m, :], b[:, tile_n]), -1)
        out[tile_m] = total.float()
    return out
