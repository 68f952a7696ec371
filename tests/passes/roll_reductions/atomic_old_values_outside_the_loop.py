# golden-args: {"x": "float32[8, 64]", "totals": "float32[8]"}
# golden-config: {"block_sizes": [4], "reduction_loops": [16]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def running_totals(x: torch.Tensor, totals: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    before = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile in hl.tile(m):
        # The atomic reads the finished sum after the loop, once.
        before[tile] = hl.atomic_add(totals, [tile], x[tile, :].sum(-1))
    return before
