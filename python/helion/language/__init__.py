"""``helion.language`` (``hl``): the functions used inside a kernel's loops.

The compiler recognises these names in kernel source and lowers them; the
Python objects here exist for imports, annotations and documentation. Called
directly they raise :class:`helion.exc.NotInsideKernel`, except while a kernel
runs in ref mode, where each has its eager meaning
(``helion.runtime.ref_mode``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import Any

from .. import exc

# While a kernel runs in ref mode: the eager implementation of each function
# here, by name (set by helion.runtime.ref_mode, which imports this module).
_eager_functions: contextvars.ContextVar[Mapping[str, Callable[..., Any]] | None] = (
    contextvars.ContextVar("helion_eager_functions", default=None)
)

__all__ = [
    "Tile",
    "arange",
    "associative_scan",
    "atomic_add",
    "atomic_and",
    "atomic_cas",
    "atomic_max",
    "atomic_min",
    "atomic_or",
    "atomic_xchg",
    "atomic_xor",
    "barrier",
    "constexpr",
    "cumprod",
    "cumsum",
    "device_print",
    "dot",
    "full",
    "grid",
    "inline_asm_elementwise",
    "inline_triton",
    "jagged_tile",
    "join",
    "load",
    "rand",
    "randint",
    "reduce",
    "register_block_size",
    "register_reduction_dim",
    "register_tunable",
    "specialize",
    "split",
    "static_range",
    "store",
    "tile",
    "tile_begin",
    "tile_block_size",
    "tile_end",
    "tile_id",
    "tile_index",
    "triton_kernel",
    "zeros",
]


class constexpr:  # noqa: N801 - lower case like the other ``hl`` names
    """Marks a kernel parameter as compile-time: ``def k(x: torch.Tensor, n: hl.constexpr)``.

    The kernel is specialized on the parameter's value. ``hl.constexpr(v)``
    can also wrap an argument at the call site to the same effect.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"hl.constexpr({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, constexpr) and self.value == other.value

    def __hash__(self) -> int:
        return hash(("constexpr", self.value))


def _not_inside_kernel(name: str) -> exc.NotInsideKernel:
    return exc.NotInsideKernel(
        f"hl.{name} can only be called inside a @helion.kernel function, "
        "within a device loop (`for tile in hl.tile(...)`)"
    )


class Tile:
    """A tile of an iteration space, as yielded by ``hl.tile``.

    Inside a kernel: ``index`` (the tile's element indices), ``begin``,
    ``end``, ``block_size``, ``id`` and ``count``; usable as a tensor index.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _not_inside_kernel("Tile")


def _device_only(name: str, doc: str) -> Any:
    def function(*args: Any, **kwargs: Any) -> Any:
        eager = _eager_functions.get()
        if eager is None:
            raise _not_inside_kernel(name)
        return eager[name](*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    function.__doc__ = doc
    return function


tile = _device_only(
    "tile",
    "tile(end | begin, end | [ends...], block_size=None): iterate over tiles of a range; "
    "the top-level loop becomes the launch grid.",
)
grid = _device_only("grid", "grid(end | begin, end | [ends...]): iterate with scalar indices.")
jagged_tile = _device_only(
    "jagged_tile",
    "jagged_tile(parent): iterate over [0, max(parent)), each lane masked by its parent's value.",
)
barrier = _device_only(
    "barrier", "barrier(): a grid-wide synchronisation between two top-level device loops."
)
zeros = _device_only("zeros", "zeros(shape, dtype=torch.float32): a zero-filled tile.")
full = _device_only("full", "full(shape, value, dtype=torch.float32): a tile filled with value.")
arange = _device_only("arange", "arange(...): like torch.arange, inside a kernel.")
register_block_size = _device_only(
    "register_block_size", "register_block_size(min_or_max, max=None): a tunable block size."
)
register_reduction_dim = _device_only(
    "register_reduction_dim", "register_reduction_dim(size): a tunable reduction dimension."
)
register_tunable = _device_only(
    "register_tunable", "register_tunable(name, fragment): a user tunable in the config."
)


def specialize(value: Any) -> Any:
    """Makes a size a compile-time constant of the kernel (host code only).

    The compiler bakes the value in; when the kernel runs, host code sees the
    value itself, and the generated code checks it is the one compiled for.
    """
    return value


load = _device_only(
    "load", "load(tensor, index, extra_mask=None, eviction_policy=None): an explicit load."
)
store = _device_only("store", "store(tensor, index, value, extra_mask=None): an explicit store.")
atomic_add = _device_only(
    "atomic_add", "atomic_add(target, index, value, sem='relaxed'): atomic +=; the old values."
)
atomic_max = _device_only(
    "atomic_max", "atomic_max(target, index, value, sem='relaxed'): atomic max; the old values."
)
atomic_min = _device_only(
    "atomic_min", "atomic_min(target, index, value, sem='relaxed'): atomic min; the old values."
)
atomic_and = _device_only(
    "atomic_and", "atomic_and(target, index, value, sem='relaxed'): atomic &=; the old values."
)
atomic_or = _device_only(
    "atomic_or", "atomic_or(target, index, value, sem='relaxed'): atomic |=; the old values."
)
atomic_xor = _device_only(
    "atomic_xor", "atomic_xor(target, index, value, sem='relaxed'): atomic ^=; the old values."
)
atomic_xchg = _device_only(
    "atomic_xchg",
    "atomic_xchg(target, index, value, sem='relaxed'): atomic exchange; the old values.",
)
atomic_cas = _device_only(
    "atomic_cas",
    "atomic_cas(target, index, expected, value, sem='relaxed'): where target[index] equals "
    "expected, swaps in value; the old values.",
)
dot = _device_only("dot", "dot(a, b, acc=None, out_dtype=None): matrix product of two tiles.")
reduce = _device_only("reduce", "reduce(combine_fn, x, dim): a reduction with a custom combiner.")
associative_scan = _device_only(
    "associative_scan", "associative_scan(combine_fn, x, dim): a scan with a custom combiner."
)
cumsum = _device_only("cumsum", "cumsum(x, dim): cumulative sum.")
cumprod = _device_only("cumprod", "cumprod(x, dim): cumulative product.")
static_range = _device_only("static_range", "static_range(...): a range unrolled at compile time.")
tile_index = _device_only("tile_index", "tile_index(tile): the tile's element indices.")
tile_begin = _device_only("tile_begin", "tile_begin(tile): the tile's first index.")
tile_end = _device_only("tile_end", "tile_end(tile): one past the tile's last index.")
tile_block_size = _device_only("tile_block_size", "tile_block_size(tile): the tile's block size.")
tile_id = _device_only("tile_id", "tile_id(tile): the tile's position among the tiles.")
device_print = _device_only("device_print", "device_print(prefix, *values): print from the kernel.")
join = _device_only(
    "join", "join(a, b): a and b broadcast together, side by side along a new last dim of 2."
)
split = _device_only("split", "split(t): the two halves (lo, hi) of t's last dim, of size 2.")
rand = _device_only("rand", "rand(shape, seed): uniform random values in a tile.")
randint = _device_only("randint", "randint(shape, low, high, seed): random integers in a tile.")
inline_asm_elementwise = _device_only(
    "inline_asm_elementwise",
    "inline_asm_elementwise(asm, constraints, args, dtype, is_pure, pack).",
)
inline_triton = _device_only(
    "inline_triton",
    "inline_triton(triton_source, args, output_like): Triton statements, the arguments' "
    "expressions put in by str.format ({0} or {name}); the last statement is the result, whose "
    "shape and dtype output_like declares (trusted, not checked; None for no result).",
)
triton_kernel = _device_only(
    "triton_kernel",
    "triton_kernel(source_or_fn, args, output_like): calls a @triton.jit function (or the one "
    "a source string defines) on args; output_like declares the result's shape and dtype "
    "(trusted, not checked; a tuple for several results, None for none).",
)


# Helion's names for what kernels here cannot do, with what to use instead.
_NOT_PROVIDED = {
    "ProcessGroupName": "kernels run on one device",
    "StackTensor": "kernels run on one device; pass each tensor as an argument",
    "stacktensor_like": "kernels run on one device; pass each tensor as an argument",
    "breakpoint": "run the kernel in ref mode (HELION_INTERPRET=1) and use Python's breakpoint()",
    "dot_scaled": "dequantize the operands and use hl.dot",
    "rand4x": "use hl.rand or hl.randint",
    "subscript": "index the tensor directly (x[tile, None], x[:, :n])",
}

__getattr__ = exc.not_provided_getattr("helion.language", _NOT_PROVIDED)
