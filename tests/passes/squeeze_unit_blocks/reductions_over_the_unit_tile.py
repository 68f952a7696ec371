# golden-args: {"x": "float32[6, 40]"}
# golden-config: {"block_sizes": [1, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def column_sums(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    sums = torch.zeros([n], dtype=torch.float32, device=x.device)
    transposed = torch.empty([n, m], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        block = x[tile_m, tile_n]
        # Over a tile of one row the partial sum is the row itself.
        hl.atomic_add(sums, [tile_n], torch.sum(block, 0))
        transposed[tile_n, tile_m] = block.T
    return sums, transposed
