# golden-args: {"x": "float32[64, 128]", "counts": "int32[64, 128]", "out": "float32[64, 128]", "flags": "float32[64, 128]"}
# golden-config: {"block_sizes": [[16, 32]], "atomic_indexing": ["tensor_descriptor", "tensor_descriptor", "pointer"]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def atomic_descriptor(
    x: torch.Tensor, counts: torch.Tensor, out: torch.Tensor, flags: torch.Tensor
) -> torch.Tensor:
    m, n = x.size()
    for tile_m, tile_n in hl.tile([m, n]):
        v = x[tile_m, tile_n]
        hl.atomic_add(out, [tile_m, tile_n], v)
        hl.atomic_max(counts, [tile_m, tile_n], (v > 0).to(torch.int32))
        hl.atomic_xchg(flags, [tile_m, tile_n], v)
    return out
