# golden-args: {"x": "int32[6, 40]", "counts": "int32[6, 40]"}
# golden-config: {"block_sizes": [1, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def claim_cells(x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    old = torch.empty([m, n], dtype=torch.int32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        # The old values lose the unit row's dim; the row becomes a scalar index.
        old[tile_m, tile_n] = hl.atomic_cas(counts, [tile_m, tile_n], 0, x[tile_m, tile_n])
    return old
