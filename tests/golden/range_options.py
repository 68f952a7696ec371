# golden-args: {"x": "float32[64, 48, 40]", "k": "int"}
# golden-config: {"block_sizes": [16, [8, 16]], "loop_orders": [[1, 0]], "range_unroll_factors": [0, 2, 0, 4], "range_num_stages": [0, 0, 3], "range_multi_buffers": [null, null, false], "range_flattens": [null, null, true], "range_warp_specializes": [null, null, null, true]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def range_options(x: torch.Tensor, k: int) -> torch.Tensor:
    m, n, p = x.size()
    out = torch.zeros([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n, tile_p in hl.tile([n, p]):
            acc = acc + x[tile_m, tile_n, tile_p].sum(-1).sum(-1)
        for _ in range(k):
            acc = acc * 0.5
        out[tile_m] = acc
    return out
