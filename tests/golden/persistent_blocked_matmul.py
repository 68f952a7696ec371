# golden-args: {"x": "float32[127, 65]", "y": "float32[65, 33]"}
# golden-config: {"block_sizes": [[32, 16], [16]], "loop_orders": [[1, 0]], "l2_grouping": 4, "pid_type": "persistent_blocked", "num_sm_multiplier": 2}
import torch
import helion
import helion.language as hl


@helion.kernel()
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out
