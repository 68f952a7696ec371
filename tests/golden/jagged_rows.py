# golden-args: {"values": "float32[1000]", "offsets": "int64[9]"}
# golden-config: {"block_sizes": [32]}
import torch
import helion
import helion.language as hl


def halve(v):
    return v * 0.5


@helion.kernel()
def jagged_rows(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    rows = offsets.size(0) - 1
    out = torch.zeros([rows], dtype=values.dtype, device=values.device)
    for row in hl.grid(rows):
        total = hl.zeros([1], dtype=torch.float32)
        for chunk in hl.tile(offsets[row], offsets[row + 1]):
            keep = hl.rand([chunk], seed=17) > 0.1
            total = total + torch.sum(torch.where(keep, halve(values[chunk]), 0.0), 0, keepdim=True)
        out[row] = torch.sum(total, 0)
    return out
