# golden-args: {"q": "float16[64, 32]", "k": "float16[32, 64]"}
# golden-config: {"block_sizes": [16, 16]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def row_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    out = torch.empty([q.size(0)], dtype=torch.float32, device=q.device)
    for tile_m in hl.tile(q.size(0)):
        total = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(k.size(1)):
            scores = torch.mm(q[tile_m, :], k[:, tile_n])
            top = torch.amax(scores, -1) * 0.5
            total = total + torch.sum(torch.exp2(scores.float() * 0.5 - top[:, None].float()), -1)
        out[tile_m] = total
    return out
