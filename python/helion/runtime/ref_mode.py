"""Ref mode: a kernel's Python body run eagerly in PyTorch, tile by tile.

``ref_mode=helion.RefMode.EAGER`` (or ``HELION_INTERPRET=1``) and
``run_ref`` call the kernel's function as it is written, with no compiler and
no Triton, on whatever device its tensors live (the CPU included), so prints
and breakpoints work. While it runs, every ``hl`` function has the eager
meaning given here (``helion.language`` looks it up in ``EAGER_FUNCTIONS``),
and a torch function mode lets ``RefTile`` objects index tensors.

Semantics, as in Helion: ``hl.tile`` yields one tile covering the whole range
unless ``block_size`` is a fixed int (then the last tile may be partial, and
shapes follow the clipped length); ``hl.grid`` yields ints;
``hl.register_block_size`` returns its maximum; tunables read the given
config or their fragment's default; masked loads read zeros; integer index
tensors read out of range are clamped to the tensor.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import itertools
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from .. import exc
from .. import language as hl

_HELION_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass
class _Run:
    """What one ref-mode run of a kernel knows."""

    kernel_name: str
    device: torch.device
    config: Mapping[str, Any]
    tunables: dict[str, Any] = dataclasses.field(default_factory=dict)
    # How many device loops enclose the code running now (0: host code).
    loop_depth: int = 0


_current: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "helion_ref_mode_run", default=None
)


def _run() -> _Run:
    run = _current.get()
    assert run is not None, "a ref-mode function ran outside a ref-mode run"
    return run


def _where() -> str:
    """The kernel and the user's source line running now, for messages."""
    run = _current.get()
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_HELION_DIR):
        frame = frame.f_back
    name = f"kernel '{run.kernel_name}'" if run is not None else "a kernel"
    if frame is None:
        return f"{name} (ref mode)"
    import linecache

    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{name} (ref mode) at {frame.f_code.co_filename}:{frame.f_lineno}:\n    {line}\n"


# --- tiles ----------------------------------------------------------------------------


def _tile_usage_error(what: str) -> exc.IncorrectTileUsage:
    return exc.IncorrectTileUsage(
        f"{_where()}{what}: a tile is an index or a size; use tile.index (its element "
        "indices), tile.begin, tile.end or tile.block_size for arithmetic"
    )


class RefTile(hl.Tile):
    """A tile of ``[begin, end)`` within the range ``[range_begin, range_end)``."""

    __slots__ = ("_begin", "_end", "_block_size", "_range_begin", "_range_end")

    def __init__(
        self, begin: int, end: int, block_size: int, range_begin: int, range_end: int
    ) -> None:
        self._begin, self._end, self._block_size = begin, end, block_size
        self._range_begin, self._range_end = range_begin, range_end

    @property
    def index(self) -> torch.Tensor:
        return torch.arange(self._begin, self._end, dtype=torch.int32, device=_run().device)

    @property
    def begin(self) -> int:
        return self._begin

    @property
    def end(self) -> int:
        return self._end

    @property
    def block_size(self) -> int:
        return self._block_size

    @property
    def id(self) -> int:
        return self._begin // self._block_size

    @property
    def count(self) -> int:
        return -(-(self._range_end - self._range_begin) // self._block_size)

    def __len__(self) -> int:
        return self._end - self._begin

    def __index__(self) -> int:
        # A tile used as a size (torch.zeros([tile]), x.new_empty(tile)) is its length.
        return self._end - self._begin

    def as_slice(self) -> slice:
        return slice(self._begin, self._end)

    def __repr__(self) -> str:
        return (
            f"RefTile(begin={self._begin}, end={self._end}, block_size={self._block_size})"
        )


def _reject_arithmetic(name: str) -> Callable[..., Any]:
    def method(self: RefTile, *args: Any) -> Any:
        raise _tile_usage_error(f"'{name}' applied to a tile itself")

    method.__name__ = name
    return method


for _name in (
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__neg__",
    "__lt__", "__le__", "__gt__", "__ge__",
):  # fmt: skip
    setattr(RefTile, _name, _reject_arithmetic(_name))


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, RefTile):
        raise exc.TileOfTile(
            f"{_where()}a tile was passed as a bound of {what}; use hl.tile(t.begin, t.end) "
            "to iterate within a tile t"
        )
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise exc.IncorrectTileUsage(
                f"{_where()}a bound of {what} is a tensor of shape {list(value.shape)}; "
                "a bound is an int or a one-element tensor"
            )
        return int(value.item())
    try:
        return int(value)
    except (TypeError, ValueError):
        raise exc.IncorrectTileUsage(
            f"{_where()}a bound of {what} is {value!r}; bounds are ints or sizes"
        ) from None


def _ranges(
    what: str, begin_or_end: Any, end_or_none: Any
) -> tuple[list[int], list[int], bool]:
    """(begins, ends, is_list_form) of hl.tile/hl.grid's bounds."""
    if end_or_none is None:
        begin_or_end, end_or_none = None, begin_or_end
    is_list = isinstance(end_or_none, (list, tuple))
    if begin_or_end is not None and isinstance(begin_or_end, (list, tuple)) != is_list:
        raise exc.IncorrectTileUsage(
            f"{_where()}{what} got one bound as a list and the other as a scalar; give both "
            "as scalars or both as lists of the same length"
        )
    ends = list(end_or_none) if is_list else [end_or_none]
    begins = [0] * len(ends) if begin_or_end is None else (
        list(begin_or_end) if is_list else [begin_or_end]
    )
    if len(begins) != len(ends):
        raise exc.IncorrectTileUsage(
            f"{_where()}{what} got {len(begins)} begins and {len(ends)} ends; give as many "
            "of each"
        )
    begins = [_as_int(b, what) for b in begins]
    ends = [_as_int(e, what) for e in ends]
    for b, e in zip(begins, ends):
        if b > e:
            raise exc.InvalidTileRange(
                f"{_where()}{what} got the range [{b}, {e}), whose begin is past its end"
            )
    return begins, ends, is_list


def _per_dim(what: str, name: str, value: Any, count: int, is_list: bool) -> list[Any]:
    if value is None:
        return [None] * count
    if isinstance(value, (list, tuple)) != is_list or (is_list and len(value) != count):
        raise exc.IncorrectTileUsage(
            f"{_where()}{what}'s {name} must be "
            + (f"a list of {count} entries, one per dimension" if is_list else "one int")
        )
    return list(value) if is_list else [value]


@contextlib.contextmanager
def _device_loop() -> Iterator[None]:
    run = _run()
    run.loop_depth += 1
    try:
        yield
    finally:
        run.loop_depth -= 1


def _tiles_of_dim(begin: int, end: int, block_size: Any) -> list[RefTile]:
    if begin == end:
        return []
    if block_size is None:
        return [RefTile(begin, end, end - begin, begin, end)]
    size = _as_int(block_size, "hl.tile's block_size")
    if size <= 0:
        raise exc.IncorrectTileUsage(f"{_where()}hl.tile's block_size is {size}; use a size >= 1")
    return [
        RefTile(start, min(start + size, end), size, begin, end)
        for start in range(begin, end, size)
    ]


def tile(
    begin_or_end: Any, end_or_none: Any = None, /, block_size: Any = None
) -> Iterator[Any]:
    begins, ends, is_list = _ranges("hl.tile", begin_or_end, end_or_none)
    sizes = _per_dim("hl.tile", "block_size", block_size, len(ends), is_list)
    per_dim = [_tiles_of_dim(b, e, s) for b, e, s in zip(begins, ends, sizes)]
    with _device_loop():
        for tiles in itertools.product(*per_dim):
            yield tiles if is_list else tiles[0]


def grid(begin_or_end: Any, end_or_none: Any = None, /, step: Any = None) -> Iterator[Any]:
    begins, ends, is_list = _ranges("hl.grid", begin_or_end, end_or_none)
    steps = _per_dim("hl.grid", "step", step, len(ends), is_list)
    steps = [1 if s is None else _as_int(s, "hl.grid's step") for s in steps]
    per_dim = [range(b, e, s) for b, e, s in zip(begins, ends, steps)]
    with _device_loop():
        for indices in itertools.product(*per_dim):
            yield indices if is_list else indices[0]


def static_range(begin_or_end: Any, end_or_none: Any = None, /, step: int = 1) -> range:
    if end_or_none is None:
        return range(0, begin_or_end, step)
    return range(begin_or_end, end_or_none, step)


def _tile_argument(name: str, value: Any) -> RefTile:
    if not isinstance(value, RefTile):
        raise exc.IncorrectTileUsage(
            f"{_where()}hl.{name} takes a tile from hl.tile, got {type(value).__name__}"
        )
    return value


def tile_index(t: Any) -> torch.Tensor:
    return _tile_argument("tile_index", t).index


def tile_begin(t: Any) -> int:
    return _tile_argument("tile_begin", t).begin


def tile_end(t: Any) -> int:
    return _tile_argument("tile_end", t).end


def tile_block_size(t: Any) -> int:
    return _tile_argument("tile_block_size", t).block_size


def tile_id(t: Any) -> int:
    return _tile_argument("tile_id", t).id


# --- indexing -------------------------------------------------------------------------


def _dims_taken(entry: Any) -> int:
    if entry is None or entry is Ellipsis:
        return 0
    if isinstance(entry, torch.Tensor) and entry.dtype == torch.bool:
        return entry.ndim
    return 1


def _index_entries(index: Any) -> list[Any]:
    return list(index) if isinstance(index, (tuple, list)) else [index]


def _convert_index(tensor: torch.Tensor, index: Any, *, clamp: bool) -> tuple[Any, ...]:
    """``index`` with tiles as slices (checked against the sizes they index) and, with
    ``clamp``, integer index tensors clamped to the dimension they index."""
    entries = _index_entries(index)
    explicit = sum(_dims_taken(e) for e in entries)
    converted: list[Any] = []
    dim = 0
    for entry in entries:
        if entry is Ellipsis:
            dim += tensor.ndim - explicit
        elif isinstance(entry, RefTile):
            if dim < tensor.ndim and entry.end > tensor.size(dim):
                raise exc.ShapeMismatch(
                    f"{_where()}a tile of [{entry.begin}, {entry.end}) indexes dimension "
                    f"{dim} of a tensor of shape {list(tensor.shape)}, past its end; tile "
                    "that dimension by its own size"
                )
            entry = entry.as_slice()
        elif (
            clamp
            and isinstance(entry, torch.Tensor)
            and entry.dtype not in (torch.bool, torch.uint8)
            and entry.ndim > 0
            and dim < tensor.ndim
        ):
            entry = entry.clamp(0, max(tensor.size(dim) - 1, 0))
        converted.append(entry)
        dim += _dims_taken(entry)
    return tuple(converted)


def _read(tensor: torch.Tensor, index: Any) -> torch.Tensor:
    clamp = _run().loop_depth > 0
    return torch.Tensor.__getitem__(tensor, _convert_index(tensor, index, clamp=clamp))


def _write(tensor: torch.Tensor, index: Any, value: Any) -> None:
    torch.Tensor.__setitem__(tensor, _convert_index(tensor, index, clamp=False), value)


def _check_tensor(name: str, value: Any) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise exc.InvalidAPIUsage(
            f"{_where()}hl.{name} takes a tensor, got {type(value).__name__}"
        )
    return value


def _index_list(name: str, index: Any) -> list[Any]:
    if not isinstance(index, (list, tuple)):
        raise exc.InvalidAPIUsage(
            f"{_where()}hl.{name}'s index is a list with one entry per dimension "
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
            f"{_where()}hl.load got eviction_policy={eviction_policy!r}; use one of "
            + ", ".join(repr(p) for p in _EVICTION_POLICIES)
        )
    value = _read(tensor, _index_list("load", index))
    if extra_mask is None:
        return value
    return torch.where(extra_mask, value, torch.zeros((), dtype=value.dtype, device=value.device))


def store(tensor: Any, index: Any, value: Any, extra_mask: Any = None) -> None:
    tensor = _check_tensor("store", tensor)
    index = _index_list("store", index)
    if extra_mask is not None:
        current = _read(tensor, index)
        value = torch.where(extra_mask, torch.as_tensor(value, device=tensor.device), current)
    _write(tensor, index, value)


# --- atomics --------------------------------------------------------------------------

_SEMANTICS = ("relaxed", "acquire", "release", "acq_rel")


def _positions(target: torch.Tensor, index: list[Any]) -> torch.Tensor:
    """The flat element positions of ``target[index]``, in its shape."""
    flat = torch.arange(target.numel(), device=target.device).view(target.shape)
    return _read(flat, index)


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
            f"{_where()}hl.{name} got sem={sem!r}; use one of "
            + ", ".join(map(repr, _SEMANTICS))
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
            f"{_where()}hl.{name}'s shape is a list of tiles and sizes, got "
            f"{type(shape).__name__}"
        )
    return [len(s) if isinstance(s, RefTile) else _as_int(s, f"hl.{name}'s shape") for s in shape]


def zeros(shape: Any, dtype: torch.dtype = torch.float32, device: Any = None) -> torch.Tensor:
    return torch.zeros(_shape("zeros", shape), dtype=dtype, device=device or _run().device)


def full(
    shape: Any, value: Any, dtype: torch.dtype = torch.float32, device: Any = None
) -> torch.Tensor:
    out = torch.empty(_shape("full", shape), dtype=dtype, device=device or _run().device)
    return out.fill_(value)


def arange(*args: Any, dtype: torch.dtype | None = None, device: Any = None, **kwargs: Any) -> Any:
    return torch.arange(
        *args, dtype=dtype or torch.int32, device=device or _run().device, **kwargs
    )


# --- block sizes and tunables ---------------------------------------------------------


def register_block_size(min_or_max: Any, max_or_none: Any = None, /) -> int:
    maximum = min_or_max if max_or_none is None else max_or_none
    return _as_int(maximum, "hl.register_block_size")


def register_reduction_dim(size: Any) -> int:
    return _as_int(size, "hl.register_reduction_dim")


def register_tunable(name: Any, fragment: Any) -> Any:
    from .._config import _FIELD_ORDER
    from ..autotuner.fragments import Fragment, ListOf

    if not isinstance(name, str) or not isinstance(fragment, Fragment):
        raise exc.RegisterTunableArgTypes(
            f"{_where()}hl.register_tunable takes a name (a str) and a fragment from "
            "helion.autotuner (e.g. PowerOfTwoFragment(16, 128)); got "
            f"{type(name).__name__} and {type(fragment).__name__}"
        )
    if name in _FIELD_ORDER:
        raise exc.TunableNameConflict(
            f"{_where()}hl.register_tunable('{name}', ...) uses the name of a config field; "
            "choose another name"
        )
    if isinstance(fragment, ListOf) or not isinstance(fragment.default(), (int, float, bool)):
        raise exc.TunableTypeNotSupported(
            f"{_where()}hl.register_tunable('{name}', {fragment!r}): a tunable is an int, "
            "float or bool; use PowerOfTwoFragment, IntegerFragment, BooleanFragment or an "
            "EnumFragment of numbers"
        )
    run = _run()
    known = run.tunables.get(name)
    if known is not None and repr(known) != repr(fragment):
        raise exc.TunableNameConflict(
            f"{_where()}hl.register_tunable('{name}', ...) was registered before with "
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
                f"{_where()}hl.dot takes fp16, bf16, fp32, int8 or fp8 tensors, got "
                f"{operand.dtype}"
            )
    if mat1.size(-1) != mat2.size(-2):
        raise ValueError(
            f"{_where()}hl.dot's inner dimensions differ: {list(mat1.shape)} @ "
            f"{list(mat2.shape)}"
        )
    integral = mat1.dtype == torch.int8
    # Like the compiled kernel, products accumulate in fp32 (int32 for int8).
    product = torch.matmul(mat1.double(), mat2.double()) if integral else torch.matmul(
        mat1.float(), mat2.float()
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
    input: Any,  # noqa: A002 - Helion's parameter name
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
    input: Any,  # noqa: A002 - Helion's parameter name
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


def cumsum(input: Any, dim: int, reverse: bool = False) -> torch.Tensor:  # noqa: A002
    if reverse:
        return torch.cumsum(input.flip(dim), dim, dtype=_scan_dtype(input)).flip(dim)
    return torch.cumsum(input, dim, dtype=_scan_dtype(input))


def cumprod(input: Any, dim: int, reverse: bool = False) -> torch.Tensor:  # noqa: A002
    if reverse:
        return torch.cumprod(input.flip(dim), dim, dtype=_scan_dtype(input)).flip(dim)
    return torch.cumprod(input, dim, dtype=_scan_dtype(input))


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
                f"{_where()}hl.rand's seed is a tensor of {seed.numel()} elements; use an int "
                "or a one-element tensor"
            )
        return int(seed.item())
    return int(seed)


def _default_offsets(shape: Any) -> torch.Tensor:
    """Each element's row-major index over the full ranges of the tiles in ``shape``."""
    entries = shape if isinstance(shape, (list, tuple)) else [shape]
    device = _run().device
    offsets = torch.zeros((), dtype=torch.int64, device=device)
    for entry in entries:
        if isinstance(entry, RefTile):
            coordinate = entry.index.to(torch.int64)
            extent = entry._range_end
        else:
            extent = _as_int(entry, "hl.rand's shape")
            coordinate = torch.arange(extent, device=device)
        offsets = offsets.unsqueeze(-1) * extent + coordinate
    return offsets


def rand(shape: Any, seed: Any, device: Any = None, offsets: Any = None) -> torch.Tensor:
    if offsets is None:
        offsets = _default_offsets(shape)
    words = _philox_first_word(_seed_value(seed), torch.as_tensor(offsets))
    return _uniform(words).to(device or _run().device)


# --- what ref mode cannot run ---------------------------------------------------------


def _cannot_run(name: str, why: str) -> Callable[..., Any]:
    def function(*args: Any, **kwargs: Any) -> Any:
        raise exc.UnsupportedOp(
            f"{_where()}hl.{name} cannot run in ref mode: {why}; run the kernel compiled "
            "(ref_mode=helion.RefMode.OFF, HELION_INTERPRET unset)"
        )

    return function


# Every hl function's eager meaning, by name (helion.language looks them up here).
EAGER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tile": tile,
    "grid": grid,
    "static_range": static_range,
    "tile_index": tile_index,
    "tile_begin": tile_begin,
    "tile_end": tile_end,
    "tile_block_size": tile_block_size,
    "tile_id": tile_id,
    "zeros": zeros,
    "full": full,
    "arange": arange,
    "register_block_size": register_block_size,
    "register_reduction_dim": register_reduction_dim,
    "register_tunable": register_tunable,
    "load": load,
    "store": store,
    "atomic_add": atomic_add,
    "atomic_max": atomic_max,
    "atomic_min": atomic_min,
    "atomic_and": atomic_and,
    "atomic_or": atomic_or,
    "atomic_xor": atomic_xor,
    "atomic_xchg": atomic_xchg,
    "atomic_cas": atomic_cas,
    "dot": dot,
    "reduce": reduce,
    "associative_scan": associative_scan,
    "cumsum": cumsum,
    "cumprod": cumprod,
    "device_print": device_print,
    "rand": rand,
    "randint": _cannot_run(
        "randint", "its mapping of random words to integers is not defined here"
    ),
    "inline_asm_elementwise": _cannot_run(
        "inline_asm_elementwise", "it runs GPU assembly, which has no PyTorch meaning"
    ),
}


# --- running a kernel -----------------------------------------------------------------


def _matmul_with_bias(
    func: Callable[..., Any], bias: torch.Tensor, mat1: torch.Tensor, mat2: torch.Tensor,
    *, beta: Any = 1, alpha: Any = 1,
) -> torch.Tensor:
    """addmm/baddbmm as kernels mean them: the product in fp32, the result in the bias's dtype
    (eager torch refuses mixed dtypes)."""
    product = torch.matmul(mat1.float(), mat2.float())
    return (bias.float() * beta + product * alpha).to(bias.dtype)


_MATMULS_WITH_BIAS = {torch.addmm, torch.baddbmm, torch.Tensor.addmm, torch.Tensor.baddbmm}


class _RefTorchMode(TorchFunctionMode):
    """Lets tiles index tensors, and gives addmm/baddbmm the kernel's dtype rules."""

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Sequence[type],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        if func is torch.Tensor.__getitem__:
            return _read(args[0], args[1])
        if func is torch.Tensor.__setitem__:
            return _write(args[0], args[1], args[2])
        if func in _MATMULS_WITH_BIAS and len(args) == 3 and not {"out"} & set(kwargs):
            bias, mat1, mat2 = args
            if not (bias.dtype == mat1.dtype == mat2.dtype):
                return _matmul_with_bias(func, bias, mat1, mat2, **kwargs)
        return func(*args, **kwargs)


def _kernel_device(args: Sequence[Any]) -> torch.device:
    for arg in args:
        if isinstance(arg, torch.Tensor):
            return arg.device
    return torch.device("cpu")


# Lists that receive the name of every kernel run in ref mode (see observe_runs).
_observers: list[list[str]] = []


@contextlib.contextmanager
def observe_runs() -> Iterator[list[str]]:
    """Yields a list that receives the name of each kernel run in ref mode meanwhile."""
    names: list[str] = []
    _observers.append(names)
    try:
        yield names
    finally:
        _observers.remove(names)


def run(
    fn: Callable[..., Any], kernel_name: str, args: Sequence[Any], config: Mapping[str, Any]
) -> Any:
    """Calls ``fn`` (a kernel's function) on ``args`` in ref mode."""
    for names in _observers:
        names.append(kernel_name)
    args = [arg.value if isinstance(arg, hl.constexpr) else arg for arg in args]
    state = _Run(kernel_name=kernel_name, device=_kernel_device(args), config=config)
    run_token = _current.set(state)
    eager_token = hl._eager_functions.set(EAGER_FUNCTIONS)
    try:
        with _RefTorchMode():
            return fn(*args)
    finally:
        hl._eager_functions.reset(eager_token)
        _current.reset(run_token)
