# golden-args: {"x": "float32[32, 24]", "rows": "int64[20]", "count": "int64[1]"}
# golden-config: {"block_sizes": [8, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def scatter_rows(x: torch.Tensor, rows: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile_t, tile_n in hl.tile([rows.size(0), x.size(1)]):
        # Lanes past `count` point at row rows[0] and would write back what it
        # held: the store becomes masked instead.
        valid = tile_t.index < count[0]
        picked = rows[torch.where(valid, tile_t.index, 0)]
        old = out[picked, tile_n]
        out[picked, tile_n] = torch.where(valid[:, None], x[picked, tile_n] * 2, old)
    return out
