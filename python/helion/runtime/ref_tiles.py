"""Ref mode's tiles and indexing: what ``hl.tile`` and ``hl.grid`` yield when a
kernel runs eagerly, and how tiles and index tensors read and write tensors.

``hl.tile`` yields one tile covering its whole range unless ``block_size``
is a fixed int (then the last tile may be partial, and shapes follow the
clipped length); ``hl.grid`` yields ints. In device loops, integer indices
out of range are clamped (a size-1 dimension broadcasts), as kernels read
them; several 1-D index tensors each give their own dimension of the
result, as in Helion; ``hl.load``/``hl.store`` mask lanes a tile puts past
the end of a dimension.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import itertools
import linecache
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from .. import exc
from .. import language as hl

_HELION_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass
class Run:
    """What one ref-mode run of a kernel knows."""

    kernel_name: str
    device: torch.device
    config: Mapping[str, Any]
    tunables: dict[str, Any] = dataclasses.field(default_factory=dict)
    # How many device loops enclose the code running now (0: host code).
    loop_depth: int = 0
    # Inside an hl function: torch calls are its own, made with plain tensors and
    # indices, so the torch function mode lets them through untouched.
    in_hl_function: bool = False


current: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "helion_ref_mode_run", default=None
)


def current_run() -> Run:
    run = current.get()
    assert run is not None, "a ref-mode function ran outside a ref-mode run"
    return run


def location() -> str:
    """The kernel and the user's source line running now, for messages."""
    run = current.get()
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_HELION_DIR):
        frame = frame.f_back
    name = f"kernel '{run.kernel_name}'" if run is not None else "a kernel"
    if frame is None:
        return f"{name} (ref mode)"
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{name} (ref mode) at {frame.f_code.co_filename}:{frame.f_lineno}:\n    {line}\n"


# --- tiles ----------------------------------------------------------------------------


def _tile_usage_error(what: str) -> exc.IncorrectTileUsage:
    return exc.IncorrectTileUsage(
        f"{location()}{what}: a tile is an index or a size; use tile.index (its element "
        "indices), tile.begin, tile.end or tile.block_size for arithmetic"
    )


class RefTile(hl.Tile):
    """A tile of ``[begin, end)`` within the range ``[range_begin, range_end)``."""

    __slots__ = ("_begin", "_block_size", "_end", "_range_begin", "_range_end")

    def __init__(
        self, begin: int, end: int, block_size: int, range_begin: int, range_end: int
    ) -> None:
        self._begin, self._end, self._block_size = begin, end, block_size
        self._range_begin, self._range_end = range_begin, range_end

    @property
    def index(self) -> torch.Tensor:
        return torch.arange(self._begin, self._end, dtype=torch.int32, device=current_run().device)

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
        return f"RefTile(begin={self._begin}, end={self._end}, block_size={self._block_size})"


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


def as_int(value: Any, what: str) -> int:
    if isinstance(value, RefTile):
        raise exc.TileOfTile(
            f"{location()}a tile was passed as a bound of {what}; use hl.tile(t.begin, t.end) "
            "to iterate within a tile t"
        )
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise exc.IncorrectTileUsage(
                f"{location()}a bound of {what} is a tensor of shape {list(value.shape)}; "
                "a bound is an int or a one-element tensor"
            )
        return int(value.item())
    try:
        return int(value)
    except (TypeError, ValueError):
        raise exc.IncorrectTileUsage(
            f"{location()}a bound of {what} is {value!r}; bounds are ints or sizes"
        ) from None


def _ranges(what: str, begin_or_end: Any, end_or_none: Any) -> tuple[list[int], list[int], bool]:
    """(begins, ends, is_list_form) of hl.tile/hl.grid's bounds."""
    if end_or_none is None:
        begin_or_end, end_or_none = None, begin_or_end
    is_list = isinstance(end_or_none, (list, tuple))
    if begin_or_end is not None and isinstance(begin_or_end, (list, tuple)) != is_list:
        raise exc.IncorrectTileUsage(
            f"{location()}{what} got one bound as a list and the other as a scalar; give both "
            "as scalars or both as lists of the same length"
        )
    ends = list(end_or_none) if is_list else [end_or_none]
    begins = (
        [0] * len(ends)
        if begin_or_end is None
        else (list(begin_or_end) if is_list else [begin_or_end])
    )
    if len(begins) != len(ends):
        raise exc.IncorrectTileUsage(
            f"{location()}{what} got {len(begins)} begins and {len(ends)} ends; give as many "
            "of each"
        )
    begins = [as_int(b, what) for b in begins]
    ends = [as_int(e, what) for e in ends]
    for b, e in zip(begins, ends):
        if b > e:
            raise exc.InvalidTileRange(
                f"{location()}{what} got the range [{b}, {e}), whose begin is past its end"
            )
    return begins, ends, is_list


def _per_dim(what: str, name: str, value: Any, count: int, is_list: bool) -> list[Any]:
    if value is None:
        return [None] * count
    if isinstance(value, (list, tuple)) != is_list or (is_list and len(value) != count):
        raise exc.IncorrectTileUsage(
            f"{location()}{what}'s {name} must be "
            + (f"a list of {count} entries, one per dimension" if is_list else "one int")
        )
    return list(value) if is_list else [value]


@contextlib.contextmanager
def _device_loop() -> Iterator[None]:
    run = current_run()
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
    size = as_int(block_size, "hl.tile's block_size")
    if size <= 0:
        raise exc.IncorrectTileUsage(f"{location()}hl.tile's block_size is {size}; use a size >= 1")
    return [
        RefTile(start, min(start + size, end), size, begin, end)
        for start in range(begin, end, size)
    ]


def tile(begin_or_end: Any, end_or_none: Any = None, /, block_size: Any = None) -> Iterator[Any]:
    begins, ends, is_list = _ranges("hl.tile", begin_or_end, end_or_none)
    sizes = _per_dim("hl.tile", "block_size", block_size, len(ends), is_list)
    per_dim = [_tiles_of_dim(b, e, s) for b, e, s in zip(begins, ends, sizes)]
    with _device_loop():
        for tiles in itertools.product(*per_dim):
            yield tiles if is_list else tiles[0]


def grid(begin_or_end: Any, end_or_none: Any = None, /, step: Any = None) -> Iterator[Any]:
    begins, ends, is_list = _ranges("hl.grid", begin_or_end, end_or_none)
    steps = _per_dim("hl.grid", "step", step, len(ends), is_list)
    steps = [1 if s is None else as_int(s, "hl.grid's step") for s in steps]
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
            f"{location()}hl.{name} takes a tile from hl.tile, got {type(value).__name__}"
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


def index_entries(index: Any) -> list[Any]:
    return list(index) if isinstance(index, (tuple, list)) else [index]


def _convert_index(tensor: torch.Tensor, index: Any, *, clamp: bool) -> tuple[Any, ...]:
    """``index`` with tiles as slices (checked against the sizes they index) and, with
    ``clamp``, integer index tensors clamped to the dimension they index."""
    entries = index_entries(index)
    explicit = sum(_dims_taken(e) for e in entries)
    converted: list[Any] = []
    dim = 0
    for entry in entries:
        if entry is Ellipsis:
            dim += tensor.ndim - explicit
        elif isinstance(entry, RefTile):
            if dim < tensor.ndim and entry.end > tensor.size(dim):
                raise exc.ShapeMismatch(
                    f"{location()}a tile of [{entry.begin}, {entry.end}) indexes dimension "
                    f"{dim} of a tensor of shape {list(tensor.shape)}, past its end; tile "
                    "that dimension by its own size"
                )
            entry = entry.as_slice()
        elif clamp and _is_scalar(entry) and dim < tensor.ndim:
            # A size-1 dimension is broadcast: every index reads its one element.
            entry = _clamped_scalar(entry, tensor.size(dim))
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


def _is_scalar(entry: Any) -> bool:
    return isinstance(entry, int) or (isinstance(entry, torch.Tensor) and entry.ndim == 0)


def _takes_outer_product(entries: list[Any], *, tiles_may_overrun: bool) -> bool:
    """Whether ``entries`` are read as Helion reads several 1-D index tensors: each gives
    its own dimension of the result (an outer product, not torch's zip). So are entries
    with a tile past the end of its dimension where that is allowed (masked loads and
    stores), since those lanes need a mask."""
    if any(e is None or (isinstance(e, torch.Tensor) and e.dtype == torch.bool) for e in entries):
        return False
    vectors = [e for e in entries if isinstance(e, torch.Tensor) and e.ndim > 0]
    if any(v.ndim != 1 for v in vectors):
        return False
    return len(vectors) >= 2 or (tiles_may_overrun and any(isinstance(e, RefTile) for e in entries))


def _without_ellipsis(tensor: torch.Tensor, entries: list[Any]) -> list[Any]:
    if Ellipsis not in entries:
        return entries
    at = entries.index(Ellipsis)
    missing = tensor.ndim - (len(entries) - 1)
    return entries[:at] + [slice(None)] * missing + entries[at + 1 :]


def _clamped_scalar(entry: Any, size: int) -> Any:
    if isinstance(entry, torch.Tensor):
        return entry.clamp(-size, max(size - 1, 0))
    return min(max(entry, -size), max(size - 1, 0))


def _outer_indices(
    tensor: torch.Tensor, entries: list[Any]
) -> tuple[tuple[Any, ...], torch.Tensor | None, torch.Tensor | None]:
    """(index, inside, in_range): ``entries`` as index tensors shaped so that each
    non-scalar entry spans its own dimension of the result; where a tile reaches past
    its dimension, ``inside`` marks its lanes that do not; where an index tensor holds
    values out of range, ``in_range`` marks those that are not (they are clamped)."""
    entries = _without_ellipsis(tensor, entries)
    if len(entries) != tensor.ndim:
        raise exc.RankMismatch(
            f"{location()}{len(entries)} indices for a tensor of shape {list(tensor.shape)}; "
            "give one index per dimension"
        )
    result_dims = sum(not _is_scalar(e) for e in entries)
    index: list[Any] = []
    inside = in_range = None
    position = 0
    for dim, entry in enumerate(entries):
        size = tensor.size(dim)
        if _is_scalar(entry):
            index.append(_clamped_scalar(entry, size))
            continue
        if isinstance(entry, RefTile):
            vector = torch.arange(entry.begin, entry.end, device=tensor.device)
        elif isinstance(entry, slice):
            vector = torch.arange(size, device=tensor.device)[entry]
        else:
            vector = entry.to(torch.int64)
        shape = [1] * result_dims
        shape[position] = -1
        position += 1
        valid = ((vector >= 0) & (vector < size)).view(shape)
        if isinstance(entry, RefTile):
            inside = valid if inside is None else inside & valid
        else:
            in_range = valid if in_range is None else in_range & valid
        index.append(vector.clamp(0, max(size - 1, 0)).view(shape))
    return tuple(index), inside, in_range


def read(tensor: torch.Tensor, index: Any, *, masked: bool = False) -> torch.Tensor:
    """``tensor[index]`` as a kernel reads it: in device loops, index tensors out of
    range are clamped; with ``masked`` (hl.load), tiles past the end read zeros."""
    entries = index_entries(index)
    in_loop = current_run().loop_depth > 0
    if not (in_loop and _takes_outer_product(entries, tiles_may_overrun=masked)):
        return torch.Tensor.__getitem__(tensor, _convert_index(tensor, index, clamp=in_loop))
    outer, inside, _in_range = _outer_indices(tensor, entries)
    value = torch.Tensor.__getitem__(tensor, outer)
    if inside is None:
        return value
    return torch.where(inside, value, torch.zeros((), dtype=value.dtype, device=value.device))


def write(
    tensor: torch.Tensor, index: Any, value: Any, mask: Any = None, *, masked: bool = False
) -> None:
    """``tensor[index] = value`` as a kernel writes it. With ``masked`` (hl.store), lanes
    where ``mask`` is False, or that a tile or an index tensor puts out of range, write
    nothing."""
    entries = index_entries(index)
    outer = _takes_outer_product(entries, tiles_may_overrun=masked)
    if mask is None and not outer:
        torch.Tensor.__setitem__(tensor, _convert_index(tensor, index, clamp=False), value)
        return
    if not outer:
        current = read(tensor, index)
        value = torch.where(mask, torch.as_tensor(value, device=tensor.device), current)
        torch.Tensor.__setitem__(tensor, _convert_index(tensor, index, clamp=False), value)
        return
    outer, inside, in_range = _outer_indices(tensor, entries)
    vectors = [i for i in outer if isinstance(i, torch.Tensor) and i.ndim > 0]
    shape = torch.broadcast_shapes(*(v.shape for v in vectors))
    keep = torch.ones(shape, dtype=torch.bool, device=tensor.device)
    for part in (inside, in_range, mask):
        if part is not None:
            keep = keep & torch.as_tensor(part, device=tensor.device)
    values = torch.as_tensor(value, device=tensor.device).to(tensor.dtype).expand(shape)
    kept = tuple(
        i.expand(shape)[keep] if isinstance(i, torch.Tensor) and i.ndim else i for i in outer
    )
    torch.Tensor.__setitem__(tensor, kept, values[keep])
