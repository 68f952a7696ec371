# golden-args: {"x": "float32[32, 50]"}
# golden-config: {"block_sizes": [4]}
import torch
import helion
import helion.language as hl


def larger(a, b):
    return torch.maximum(a, b)


@helion.kernel()
def scan_and_reduce(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        prefix = hl.associative_scan(larger, row, dim=1)
        out[tile_m, :] = prefix * hl.reduce(lambda a, b: a + b, row, dim=1, keep_dims=True)
    return out
