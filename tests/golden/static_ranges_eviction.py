# golden-args: {"x": "float32[64, 8]", "w": "float32[8]", "b": "float32[64]"}
# golden-config: {"block_sizes": [32, 4], "indexing": ["block_ptr", "pointer", "block_ptr", "pointer", "pointer"], "static_ranges": [true, false], "load_eviction_policies": ["first", "", "last"]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def static_ranges_eviction(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            acc = acc + (x[tile_m, tile_n] * w[tile_n][None, :]).sum(-1)
        for i in range(3):
            acc = acc + hl.load(b, [tile_m], eviction_policy="evict_last") * i
        out[tile_m] = acc + b[tile_m]
    return out
