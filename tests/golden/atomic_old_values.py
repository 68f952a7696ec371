# golden-args: {"x": "int32[100]", "counter": "int32[1]", "slots": "int32[100]", "claimed": "int32[100]", "total": "float32[100]", "lock": "int32[1]"}
# golden-config: {"block_sizes": [32], "atomic_indexing": "tensor_descriptor"}
import torch
import helion
import helion.language as hl


@helion.kernel()
def atomic_old_values(
    x: torch.Tensor,
    counter: torch.Tensor,
    slots: torch.Tensor,
    claimed: torch.Tensor,
    total: torch.Tensor,
    lock: torch.Tensor,
) -> torch.Tensor:
    (n,) = x.size()
    for tile in hl.tile(n):
        v = x[tile]
        ticket = hl.atomic_add(counter, [0], 1, sem="acq_rel")
        old = hl.atomic_cas(slots, [tile], 0, v)
        claimed[tile] = torch.where(old == 0, ticket, -1)
        hl.atomic_max(slots, [tile], v, sem="release")
        hl.atomic_add(total, [tile], v.to(torch.float32))
        while hl.atomic_cas(lock, [0], 0, 1, sem="acquire") != 0:
            pass
        hl.atomic_xchg(lock, [0], 0, sem="release")
    return claimed
