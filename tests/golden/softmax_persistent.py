# golden-args: {"x": "float32[4096, 1000]"}
# golden-config: {"block_sizes": [[4]], "reduction_loops": [null], "num_warps": 8}
import torch
import helion
import helion.language as hl


@helion.kernel()
def softmax(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.amax(values, dim=1)
        exp = torch.exp(values - amax[:, None])
        sum_exp = torch.sum(exp, dim=1)
        out[tile_n, :] = exp / sum_exp[:, None]
    return out
