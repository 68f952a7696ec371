# golden-args: {"x": "float32[100]", "y": "float32[30, 7]"}
# golden-config: {"block_sizes": [32, 8], "pid_type": "persistent_interleaved"}
import torch
import helion
import helion.language as hl


@helion.kernel()
def two_loops(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    doubled = torch.empty_like(x)
    sums = torch.empty([y.size(0)], dtype=y.dtype, device=y.device)
    for tile in hl.tile(x.size(0)):
        doubled[tile] = x[tile] * 2
    for tile in hl.tile(y.size(0)):
        sums[tile] = torch.sum(y[tile, :], 1)
    return doubled, sums
