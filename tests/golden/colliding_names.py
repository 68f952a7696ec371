# golden-args: {"x": "float32[100, 30]", "tl": "float32[100]"}
# golden-config: {"block_sizes": [32], "indexing": "pointer"}
# Names the generated code uses for itself, chosen by the user: the user's
# keep their spelling on the host and get other names on the device where the
# generated ones take theirs.
import torch
import helion
import helion.language as hl


@helion.kernel()
def colliding(x: torch.Tensor, tl: torch.Tensor) -> torch.Tensor:
    triton = x.size(0)
    _helion_colliding = torch.empty_like(tl)
    for tile in hl.tile(triton):
        mask_0 = x[tile, :] * 2
        pid = mask_0.sum(-1)
        _RBLOCK_1 = mask_0.amax(-1)
        _helion_colliding[tile] = pid + _RBLOCK_1 + tl[tile]
    return _helion_colliding
