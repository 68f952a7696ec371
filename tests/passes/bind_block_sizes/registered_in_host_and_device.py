# golden-args: {"x": "float32[64, 100]"}
# golden-config: {"block_sizes": [32, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def partial_sums(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    block_n = hl.register_block_size(n)
    partial = torch.empty([m, (n + block_n - 1) // block_n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n, block_size=block_n):
            partial[tile_m, tile_n.begin // block_n] = torch.sum(x[tile_m, tile_n], 1)
    return partial
