"""Ref mode's eager meaning of each ``hl`` function but the loops (see ``ref_tiles``):
loads and stores, atomics, creation, tunables, dot, reductions and scans,
random numbers, and the functions ref mode cannot run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .. import exc
from .ref_tiles import RefTile, as_int, current_run, location, read, write


def _check_tensor(name: str, value: Any) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise exc.InvalidAPIUsage(
            f"{location()}hl.{name} takes a tensor, got {type(value).__name__}"
        )
    return value


def _index_list(name: str, index: Any) -> list[Any]:
    if not isinstance(index, (list, tuple)):
        raise exc.InvalidAPIUsage(
            f"{location()}hl.{name}'s index is a list with one entry per dimension "
            f"(e.g. [tile_m, tile_n]), got {type(index).__name__}"
        )
    return list(index)


_EVICTION_POLICIES = (None, "", "evict_normal", "evict_first", "evict_last")


def load(
    tensor: Any, index: Any, extra_mask: Any = None, eviction_policy: str | None = None
) -> torch.Tensor:
    tensor = _check_tensor("load", tensor)
    if eviction_policy not in _EVICTION_POLICIES:
        raise exc.InvalidAPIUsage(
            f"{location()}hl.load got eviction_policy={eviction_policy!r}; use one of "
            + ", ".join(repr(p) for p in _EVICTION_POLICIES)
        )
    value = read(tensor, _index_list("load", index), masked=True)
    if extra_mask is None:
        return value
    return torch.where(extra_mask, value, torch.zeros((), dtype=value.dtype, device=value.device))


def store(tensor: Any, index: Any, value: Any, extra_mask: Any = None) -> None:
    tensor = _check_tensor("store", tensor)
    write(tensor, _index_list("store", index), value, extra_mask, masked=True)


# --- atomics --------------------------------------------------------------------------

_SEMANTICS = ("relaxed", "acquire", "release", "acq_rel")


def _positions(target: torch.Tensor, index: list[Any]) -> torch.Tensor:
    """The flat element positions of ``target[index]``, in its shape."""
    flat = torch.arange(target.numel(), device=target.device).view(target.shape)
    return read(flat, index)


Update = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _atomic(
    name: str, update: Update, target: Any, index: Any, operands: Sequence[Any], sem: str
) -> torch.Tensor:
    """Applies ``update(flat_target, positions, values)``, which returns the old values.

    ``values`` holds each lane's operand (cast to the target's dtype), or with
    several operands a row of them per lane.
    """
    target = _check_tensor(name, target)
    if sem not in _SEMANTICS:
        raise exc.InvalidAPIUsage(
            f"{location()}hl.{name} got sem={sem!r}; use one of " + ", ".join(map(repr, _SEMANTICS))
        )
    positions = _positions(target, _index_list(name, index))
    shape = positions.shape
    columns = [
        torch.as_tensor(operand, device=target.device).to(target.dtype).expand(shape).reshape(-1)
        for operand in operands
    ]
    values = columns[0] if len(columns) == 1 else torch.stack(columns, -1)
    flat = target.reshape(-1) if target.is_contiguous() else target.contiguous().view(-1)
    old = update(flat, positions.reshape(-1), values)
    if flat.data_ptr() != target.data_ptr():
        target.copy_(flat.view(target.shape))
    return old.view(shape)


def _lane_by_lane(combine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Update:
    """An atomic update as if lanes ran one after another in order: where lanes share a
    position, each sees (and returns) what the lanes before it left."""

    def update(flat: torch.Tensor, positions: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        if positions.unique().numel() == positions.numel():
            old = flat[positions].clone()
            flat[positions] = combine(old, values)
            return old
        old = torch.empty_like(flat[positions])
        for lane, position in enumerate(positions.tolist()):
            old[lane] = flat[position]
            flat[position] = combine(flat[position], values[lane])
        return old

    return update


def _add(flat: torch.Tensor, positions: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Atomic add in lane order without a loop: a lane's old value is the target's plus
    what the earlier lanes of its position added."""
    order = torch.argsort(positions, stable=True)
    sorted_positions, sorted_values = positions[order], values[order]
    added_before = torch.cumsum(sorted_values, 0, dtype=values.dtype) - sorted_values
    starts = torch.ones_like(sorted_positions, dtype=torch.bool)
    starts[1:] = sorted_positions[1:] != sorted_positions[:-1]
    lane = torch.arange(positions.numel(), device=positions.device)
    group_start = torch.cummax(torch.where(starts, lane, 0), 0).values
    added_before = added_before - added_before[group_start]
    old = torch.empty_like(values)
    old[order] = flat[sorted_positions] + added_before
    flat.index_add_(0, positions, values)
    return old


def _swap_if_expected(old: torch.Tensor, expected_and_new: torch.Tensor) -> torch.Tensor:
    return torch.where(old == expected_and_new[..., 0], expected_and_new[..., 1], old)


def _keep_new(old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    return new


def atomic_add(target: Any, index: Any, value: Any, sem: str = "relaxed") -> torch.Tensor:
    return _atomic("atomic_add", _add, target, index, [value], sem)


def atomic_max(target: Any, index: Any, value: Any, sem: str = "relaxed") -> torch.Tensor:
    return _atomic("atomic_max", _lane_by_lane(torch.maximum), target, index, [value], sem)


def atomic_min(target: Any, index: Any, value: Any, sem: str = "relaxed") -> torch.Tensor:
    return _atomic("atomic_min", _lane_by_lane(torch.minimum), target, index, [value], sem)


def atomic_and(target: Any, index: Any, value: Any, sem: str = "relaxed") -> torch.Tensor:
    return _atomic("atomic_and", _lane_by_lane(torch.bitwise_and), target, index, [value], sem)


def atomic_or(target: Any, index: Any, value: Any, sem: str = "relaxed") -> torch.Tensor:
    return _atomic("atomic_or", _lane_by_lane(torch.bitwise_or), target, index, [value], sem)


def atomic_xor(target: Any, index: Any, value: Any, sem: str = "relaxed") -> torch.Tensor:
    return _atomic("atomic_xor", _lane_by_lane(torch.bitwise_xor), target, index, [value], sem)


def atomic_xchg(target: Any, index: Any, value: Any, sem: str = "relaxed") -> torch.Tensor:
    return _atomic("atomic_xchg", _lane_by_lane(_keep_new), target, index, [value], sem)


def atomic_cas(
    target: Any, index: Any, expected: Any, value: Any, sem: str = "relaxed"
) -> torch.Tensor:
    swap = _lane_by_lane(_swap_if_expected)
    return _atomic("atomic_cas", swap, target, index, [expected, value], sem)


# --- creation -------------------------------------------------------------------------


def _shape(name: str, shape: Any) -> list[int]:
    if isinstance(shape, (RefTile, int)):
        shape = [shape]
    if not isinstance(shape, (list, tuple)):
        raise exc.InvalidAPIUsage(
            f"{location()}hl.{name}'s shape is a list of tiles and sizes, got "
            f"{type(shape).__name__}"
        )
    return [len(s) if isinstance(s, RefTile) else as_int(s, f"hl.{name}'s shape") for s in shape]


def zeros(shape: Any, dtype: torch.dtype = torch.float32, device: Any = None) -> torch.Tensor:
    return torch.zeros(_shape("zeros", shape), dtype=dtype, device=device or current_run().device)


def full(
    shape: Any, value: Any, dtype: torch.dtype = torch.float32, device: Any = None
) -> torch.Tensor:
    out = torch.empty(_shape("full", shape), dtype=dtype, device=device or current_run().device)
    return out.fill_(value)


def arange(*args: Any, dtype: torch.dtype | None = None, device: Any = None, **kwargs: Any) -> Any:
    return torch.arange(
        *args, dtype=dtype or torch.int32, device=device or current_run().device, **kwargs
    )


# --- block sizes and tunables ---------------------------------------------------------


def register_block_size(min_or_max: Any, max_or_none: Any = None, /) -> int:
    maximum = min_or_max if max_or_none is None else max_or_none
    return as_int(maximum, "hl.register_block_size")


def register_reduction_dim(size: Any) -> int:
    return as_int(size, "hl.register_reduction_dim")


def register_tunable(name: Any, fragment: Any) -> Any:
    from .. import _core
    from ..autotuner.fragments import Fragment, ListOf

    if not isinstance(name, str) or not isinstance(fragment, Fragment):
        raise exc.RegisterTunableArgTypes(
            f"{location()}hl.register_tunable takes a name (a str) and a fragment from "
            "helion.autotuner (e.g. PowerOfTwoFragment(16, 128)); got "
            f"{type(name).__name__} and {type(fragment).__name__}"
        )
    field = _core.tunable_name_conflict(name)
    if field:
        raise exc.TunableNameConflict(
            f"{location()}hl.register_tunable('{name}', ...) reads as the config field "
            f"'{field}'; choose another name for the tunable"
        )
    if isinstance(fragment, ListOf) or not isinstance(fragment.default(), (int, float, bool)):
        raise exc.TunableTypeNotSupported(
            f"{location()}hl.register_tunable('{name}', {fragment!r}): a tunable is an int, "
            "float or bool; use PowerOfTwoFragment, IntegerFragment, BooleanFragment or an "
            "EnumFragment of numbers"
        )
    run = current_run()
    known = run.tunables.get(name)
    if known is not None and repr(known) != repr(fragment):
        raise exc.TunableNameConflict(
            f"{location()}hl.register_tunable('{name}', ...) was registered before with "
            f"{known!r}; register each name once, or with the same fragment"
        )
    run.tunables[name] = fragment
    value = run.config.get(name, fragment.default())
    return int(value) if isinstance(value, bool) else value


# --- compute --------------------------------------------------------------------------

_DOT_DTYPES = (
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.int8,
    torch.float8_e4m3fn,
    torch.float8_e5m2,
)


def dot(
    mat1: Any, mat2: Any, acc: Any = None, out_dtype: torch.dtype | None = None
) -> torch.Tensor:
    for operand in (mat1, mat2):
        _check_tensor("dot", operand)
        if operand.dtype not in _DOT_DTYPES:
            raise TypeError(
                f"{location()}hl.dot takes fp16, bf16, fp32, int8 or fp8 tensors, got "
                f"{operand.dtype}"
            )
    if mat1.size(-1) != mat2.size(-2):
        raise ValueError(
            f"{location()}hl.dot's inner dimensions differ: {list(mat1.shape)} @ {list(mat2.shape)}"
        )
    integral = mat1.dtype == torch.int8
    # Like the compiled kernel, products accumulate in fp32 (int32 for int8).
    product = (
        torch.matmul(mat1.double(), mat2.double())
        if integral
        else torch.matmul(mat1.float(), mat2.float())
    )
    product = product.to(torch.int32 if integral else torch.float32)
    if acc is not None:
        return (acc.to(product.dtype) + product).to(acc.dtype)
    if out_dtype is not None:
        return product.to(out_dtype)
    return product


def _as_tuple(value: Any) -> tuple[torch.Tensor, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _combine(
    combine_fn: Callable[..., Any],
    left: tuple[torch.Tensor, ...],
    right: tuple[torch.Tensor, ...],
) -> tuple[torch.Tensor, ...]:
    # Tuples are passed unpacked: combine_fn(left_0, left_1, right_0, right_1).
    return _as_tuple(combine_fn(*left, *right))


def _take(values: tuple[torch.Tensor, ...], dim: int, part: slice) -> tuple[torch.Tensor, ...]:
    return tuple(v[(slice(None),) * dim + (part,)] for v in values)


def reduce(
    combine_fn: Callable[..., Any],
    input: Any,
    dim: int | None = None,
    other: Any = 0,
    keep_dims: bool = False,
) -> Any:
    values = _as_tuple(input)
    if dim is None:
        values = tuple(v.reshape(-1) for v in values)
        dim = 0
    dim = dim % values[0].ndim
    length = values[0].size(dim)
    if length == 0:
        shape = [s for d, s in enumerate(values[0].shape) if d != dim]
        others = _as_tuple(other) if isinstance(other, (tuple, list)) else (other,) * len(values)
        result = tuple(
            torch.full(shape, o, dtype=v.dtype, device=v.device) for v, o in zip(values, others)
        )
    else:
        # Pairs of neighbours, halving each round: only associativity is assumed.
        while length > 1:
            even = length // 2 * 2
            merged = _combine(
                combine_fn,
                _take(values, dim, slice(0, even, 2)),
                _take(values, dim, slice(1, even, 2)),
            )
            if length % 2:
                last = _take(values, dim, slice(even, length))
                merged = tuple(torch.cat([m, t], dim) for m, t in zip(merged, last))
            values, length = merged, even // 2 + length % 2
        result = tuple(v.select(dim, 0) for v in values)
    if keep_dims:
        result = tuple(r.unsqueeze(dim) for r in result)
    return result if isinstance(input, (tuple, list)) else result[0]


def associative_scan(
    combine_fn: Callable[..., Any],
    input: Any,
    dim: int,
    reverse: bool = False,
) -> Any:
    values = _as_tuple(input)
    dim = dim % values[0].ndim
    if reverse:
        values = tuple(v.flip(dim) for v in values)
        forward = combine_fn

        def combine_fn(*args: Any) -> Any:
            half = len(args) // 2
            return forward(*args[half:], *args[:half])

    length = values[0].size(dim)
    step = 1
    # Hillis-Steele: after the round with step s, each element combines the 2s before it.
    while step < length:
        combined = _combine(
            combine_fn,
            _take(values, dim, slice(0, length - step)),
            _take(values, dim, slice(step, length)),
        )
        head = _take(values, dim, slice(0, step))
        values = tuple(torch.cat([h, c], dim) for h, c in zip(head, combined))
        step *= 2
    if reverse:
        values = tuple(v.flip(dim) for v in values)
    return values if isinstance(input, (tuple, list)) else values[0]


def _scan_dtype(x: torch.Tensor) -> torch.dtype | None:
    return None if x.dtype == torch.bool else x.dtype


def cumsum(input: Any, dim: int, reverse: bool = False) -> torch.Tensor:
    if reverse:
        return torch.cumsum(input.flip(dim), dim, dtype=_scan_dtype(input)).flip(dim)
    return torch.cumsum(input, dim, dtype=_scan_dtype(input))


def cumprod(input: Any, dim: int, reverse: bool = False) -> torch.Tensor:
    if reverse:
        return torch.cumprod(input.flip(dim), dim, dtype=_scan_dtype(input)).flip(dim)
    return torch.cumprod(input, dim, dtype=_scan_dtype(input))


def join(a: Any, b: Any) -> torch.Tensor:
    x, y = torch.broadcast_tensors(torch.as_tensor(a), torch.as_tensor(b))
    dtype = torch.promote_types(x.dtype, y.dtype)
    return torch.stack([x.to(dtype), y.to(dtype)], dim=-1)


def split(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if t.dim() == 0 or t.size(-1) != 2:
        raise exc.ShapeMismatch(
            f"{location()}hl.split takes a value whose last dimension has size 2; "
            f"this one has shape {list(t.shape)}"
        )
    return t[..., 0], t[..., 1]


def device_print(prefix: str, *values: Any) -> None:
    print(prefix, *values)


# --- random numbers -------------------------------------------------------------------

_MASK32 = 0xFFFFFFFF
_PHILOX_ROUND_A, _PHILOX_ROUND_B = 0xD2511F53, 0xCD9E8D57
_PHILOX_KEY_A, _PHILOX_KEY_B = 0x9E3779B9, 0xBB67AE85


def _philox_first_word(seed: int, offsets: torch.Tensor, rounds: int = 10) -> torch.Tensor:
    """The first of the four words of Philox-4x32 (Triton's ``tl.randint``) for each
    offset, as int64 holding uint32 values: 32-bit products are kept exact in 64 bits."""
    c0 = offsets.to(torch.int64) & _MASK32
    c1 = torch.zeros_like(c0)
    c2 = torch.zeros_like(c0)
    c3 = torch.zeros_like(c0)
    k0, k1 = seed & _MASK32, (seed >> 32) & _MASK32
    for _ in range(rounds):
        product_b = c2 * _PHILOX_ROUND_B
        product_a = c0 * _PHILOX_ROUND_A
        # Products of two uint32 need 64 unsigned bits; int64 wraps, so split the high half.
        high_b = _umulhi(c2, _PHILOX_ROUND_B)
        high_a = _umulhi(c0, _PHILOX_ROUND_A)
        c0, c1, c2, c3 = (
            (high_b ^ c1 ^ k0) & _MASK32,
            product_b & _MASK32,
            (high_a ^ c3 ^ k1) & _MASK32,
            product_a & _MASK32,
        )
        k0, k1 = (k0 + _PHILOX_KEY_A) & _MASK32, (k1 + _PHILOX_KEY_B) & _MASK32
    return c0


def _umulhi(x: torch.Tensor, constant: int) -> torch.Tensor:
    """The high 32 bits of the 64-bit product of uint32 values ``x`` and ``constant``."""
    x_high, x_low = x >> 16, x & 0xFFFF
    c_high, c_low = constant >> 16, constant & 0xFFFF
    low = x_low * c_low
    middle_1 = x_high * c_low + (low >> 16)
    middle_2 = x_low * c_high + (middle_1 & 0xFFFF)
    return x_high * c_high + (middle_1 >> 16) + (middle_2 >> 16)


def _uniform(words: torch.Tensor) -> torch.Tensor:
    """Triton's ``uint_to_uniform_float`` for 32-bit words."""
    signed = torch.where(words >= 1 << 31, words - (1 << 32), words)
    signed = torch.where(signed < 0, -signed - 1, signed)
    return signed.to(torch.float32) * 4.6566127342e-10


def _seed_value(seed: Any) -> int:
    if isinstance(seed, torch.Tensor):
        if seed.numel() != 1:
            raise exc.InvalidAPIUsage(
                f"{location()}hl.rand's seed is a tensor of {seed.numel()} elements; use an int "
                "or a one-element tensor"
            )
        return int(seed.item())
    return int(seed)


def _default_offsets(shape: Any) -> torch.Tensor:
    """Each element's row-major index over the full ranges of the tiles in ``shape``."""
    entries = shape if isinstance(shape, (list, tuple)) else [shape]
    device = current_run().device
    offsets = torch.zeros((), dtype=torch.int64, device=device)
    for entry in entries:
        if isinstance(entry, RefTile):
            coordinate = entry.index.to(torch.int64)
            extent = entry._range_end
        else:
            extent = as_int(entry, "hl.rand's shape")
            coordinate = torch.arange(extent, device=device)
        offsets = offsets.unsqueeze(-1) * extent + coordinate
    return offsets


def rand(shape: Any, seed: Any, device: Any = None, offsets: Any = None) -> torch.Tensor:
    if offsets is None:
        offsets = _default_offsets(shape)
    words = _philox_first_word(_seed_value(seed), torch.as_tensor(offsets))
    return _uniform(words).to(device or current_run().device)


# --- what ref mode cannot run ---------------------------------------------------------


def cannot_run(name: str, why: str, instead: str) -> Callable[..., Any]:
    def function(*args: Any, **kwargs: Any) -> Any:
        raise exc.UnsupportedOp(f"{location()}hl.{name} cannot run in ref mode: {why}; {instead}")

    return function


def no_op(*args: Any, **kwargs: Any) -> None:
    """hl.barrier: the eager body runs its loops one after another, already in order."""
