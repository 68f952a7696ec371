# golden-args: {"x": "float32[64, 1000]"}
# golden-config: {"block_sizes": [128, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def row_sum_blocks(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_n], dtype=torch.float32)
        for tile_n in hl.tile(n, block_size=block_n):
            acc += x[tile_m, tile_n]
        out[tile_m] = acc.sum(-1)
    return out
