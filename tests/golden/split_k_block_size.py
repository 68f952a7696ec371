# golden-args: {"x": "float16[64, 1000]", "y": "float16[1000, 48]"}
# golden-config: {"block_sizes": [[16, 16, 256], [32]], "split_k": 4}
import torch
import helion
import helion.autotuner
import helion.language as hl


@helion.kernel()
def split_k_atomic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.zeros([m, n], dtype=torch.float32, device=x.device)
    split_k = hl.register_tunable("split_k", helion.autotuner.PowerOfTwoFragment(1, 256))
    k_block = helion.next_power_of_2(helion.cdiv(k, split_k))
    for tile_m, tile_n, outer_k in hl.tile([m, n, k], block_size=[None, None, k_block]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for inner_k in hl.tile(outer_k.begin, outer_k.end):
            acc = torch.addmm(acc, x[tile_m, inner_k], y[inner_k, tile_n])
        if outer_k.begin == 0:
            acc = acc + k_block
        hl.atomic_add(out, [tile_m, tile_n], acc)
    return out
