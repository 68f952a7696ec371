# golden-args: {"x": "float32[64, 48]", "y": "float32[48, 40]"}
# golden-config: {"block_sizes": [[16, 16, 1], [16]], "split_k": 4, "relu": true, "scale": 0.5}
import torch
import helion
import helion.autotuner
import helion.language as hl


@helion.kernel()
def split_k_matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    split_k = hl.register_tunable("split_k", helion.autotuner.PowerOfTwoFragment(1, 8, 2))
    relu = hl.register_tunable("relu", helion.autotuner.BooleanFragment())
    scale = hl.register_tunable("scale", helion.autotuner.EnumFragment((1.0, 0.5)))
    k_chunk = k // split_k
    partial = torch.zeros([split_k, m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n, part in hl.tile([m, n, split_k], block_size=[None, None, 1]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(part.begin * k_chunk, part.begin * k_chunk + k_chunk):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        if relu:
            acc = torch.relu(acc)
        partial[part.begin, tile_m, tile_n] = acc * scale
    return partial.sum(0)
