# golden-args: {"x": "float32[64, 1000]"}
# golden-config: {"block_sizes": [[32, 1]], "parts": 8}
import torch
import helion
import helion.autotuner
import helion.language as hl


@helion.kernel()
def row_chunks(x: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    parts = hl.register_tunable("parts", helion.autotuner.PowerOfTwoFragment(1, 16))
    width = helion.next_power_of_2(helion.cdiv(k, parts))
    partial = torch.zeros([helion.cdiv(k, width), m], dtype=x.dtype, device=x.device)
    for tile_m, tile_k in hl.tile([m, k], block_size=[None, width]):
        partial[tile_k.id, tile_m] = torch.sum(x[tile_m, tile_k], 1) * width
    return partial
