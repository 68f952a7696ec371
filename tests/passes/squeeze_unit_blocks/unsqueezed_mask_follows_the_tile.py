# golden-args: {"scores": "float32[4, 24, 40]"}
# golden-config: {"block_sizes": [1, 8, 16]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def causal_mask(scores: torch.Tensor) -> torch.Tensor:
    batch, m, n = scores.size()
    out = torch.empty_like(scores)
    for tile_b, tile_m, tile_n in hl.tile([batch, m, n]):
        # The [None] axis of the mask lines up with tile_b: both go, and the
        # mask stays two-dimensional.
        visible = tile_m.index[:, None] >= tile_n.index[None, :]
        out[tile_b, tile_m, tile_n] = torch.where(
            visible[None, :, :], scores[tile_b, tile_m, tile_n], float("-inf")
        )
    return out
