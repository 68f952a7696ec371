# golden-args: {"x": "float32[64, 100]", "mode": "int64[64]", "k": "int"}
# golden-config: {"block_sizes": [1, 32]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def control_flow(x: torch.Tensor, mode: torch.Tensor, k: int) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n):
            v = x[tile_m, tile_n]
            flag = mode[tile_m.begin]
            if flag > 0:
                v = v * 2
            else:
                v = -v
            for _ in range(k):
                v = v * 0.5
            steps = 0
            while steps < flag:
                v = v + 1
                steps = steps + 1
            out[tile_m, tile_n] = v
    return out
