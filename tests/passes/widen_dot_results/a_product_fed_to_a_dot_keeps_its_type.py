# golden-args: {"a": "float16[64, 32]", "b": "float16[32, 32]", "c": "float16[32, 16]"}
# golden-config: {"block_sizes": [16]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def chain(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0), c.size(1)], dtype=torch.float32, device=a.device)
    for tile_m in hl.tile(a.size(0)):
        ab = torch.mm(a[tile_m, :], b[:, :]) * 0.5
        out[tile_m, :] = torch.mm(ab, c[:, :]).float()
    return out
