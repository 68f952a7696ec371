"""Ref mode: a kernel's Python body run eagerly in PyTorch, tile by tile.

``ref_mode=helion.RefMode.EAGER`` (or ``HELION_INTERPRET=1``) and
``run_ref`` call the kernel's function as it is written, with no compiler and
no Triton, on whatever device its tensors live (the CPU included), so prints
and breakpoints work. While it runs, every ``hl`` function has the eager
meaning of ``ref_tiles`` (loops, tiles, indexing) or ``ref_ops`` (the rest):
``helion.language`` looks it up in ``EAGER_FUNCTIONS``; and a torch function
mode lets tiles index tensors and gives matmuls the kernel's dtype rules.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from .. import language as hl
from . import ref_ops, ref_tiles
from .ref_tiles import Run, current_run, read, write


def _hl_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with the torch function mode standing aside (see ``ref_tiles.Run``)."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        run = current_run()
        if run.in_hl_function:
            return fn(*args, **kwargs)
        run.in_hl_function = True
        try:
            return fn(*args, **kwargs)
        finally:
            run.in_hl_function = False

    return call


# Every hl function's eager meaning, by name (helion.language looks them up here).
_EAGER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tile": ref_tiles.tile,
    "grid": ref_tiles.grid,
    "static_range": ref_tiles.static_range,
    "tile_index": ref_tiles.tile_index,
    "tile_begin": ref_tiles.tile_begin,
    "tile_end": ref_tiles.tile_end,
    "tile_block_size": ref_tiles.tile_block_size,
    "tile_id": ref_tiles.tile_id,
    "zeros": ref_ops.zeros,
    "full": ref_ops.full,
    "arange": ref_ops.arange,
    "register_block_size": ref_ops.register_block_size,
    "register_reduction_dim": ref_ops.register_reduction_dim,
    "register_tunable": ref_ops.register_tunable,
    "load": ref_ops.load,
    "store": ref_ops.store,
    "atomic_add": ref_ops.atomic_add,
    "atomic_max": ref_ops.atomic_max,
    "atomic_min": ref_ops.atomic_min,
    "atomic_and": ref_ops.atomic_and,
    "atomic_or": ref_ops.atomic_or,
    "atomic_xor": ref_ops.atomic_xor,
    "atomic_xchg": ref_ops.atomic_xchg,
    "atomic_cas": ref_ops.atomic_cas,
    "dot": ref_ops.dot,
    "reduce": ref_ops.reduce,
    "associative_scan": ref_ops.associative_scan,
    "cumsum": ref_ops.cumsum,
    "cumprod": ref_ops.cumprod,
    "device_print": ref_ops.device_print,
    "join": ref_ops.join,
    "split": ref_ops.split,
    "rand": ref_ops.rand,
    "barrier": ref_ops.no_op,
    "jagged_tile": ref_ops.cannot_run(
        "jagged_tile",
        "its per-lane masks of loads and stores are not modelled eagerly",
        "iterate with hl.tile up to the largest length and mask with "
        "hl.load(..., extra_mask=tile.index < length)",
    ),
    "randint": ref_ops.cannot_run(
        "randint",
        "its mapping of random words to integers is not defined here",
        "draw with hl.rand and scale: low + (hl.rand(shape, seed) * (high - low)).to(torch.int32)",
    ),
    "inline_asm_elementwise": ref_ops.cannot_run(
        "inline_asm_elementwise",
        "it runs GPU assembly, which has no PyTorch meaning",
        "run the kernel compiled (ref_mode=helion.RefMode.OFF, HELION_INTERPRET unset)",
    ),
    "inline_triton": ref_ops.cannot_run(
        "inline_triton",
        "it runs Triton code, which has no PyTorch meaning",
        "run the kernel compiled (ref_mode=helion.RefMode.OFF, HELION_INTERPRET unset)",
    ),
    "triton_kernel": ref_ops.cannot_run(
        "triton_kernel",
        "it runs a Triton function, which has no PyTorch meaning",
        "run the kernel compiled (ref_mode=helion.RefMode.OFF, HELION_INTERPRET unset)",
    ),
}
EAGER_FUNCTIONS = {name: _hl_function(fn) for name, fn in _EAGER_FUNCTIONS.items()}


# --- running a kernel -----------------------------------------------------------------


def _matmul_with_bias(
    bias: torch.Tensor, mat1: torch.Tensor, mat2: torch.Tensor, *, beta: Any = 1, alpha: Any = 1
) -> torch.Tensor:
    """addmm/baddbmm as kernels mean them: the product in fp32, the result in the bias's dtype
    (eager torch refuses mixed dtypes)."""
    product = torch.matmul(mat1.float(), mat2.float())
    return (bias.float() * beta + product * alpha).to(bias.dtype)


_MATMULS_WITH_BIAS = {torch.addmm, torch.baddbmm, torch.Tensor.addmm, torch.Tensor.baddbmm}
# torch.mm(a, b, out_dtype) and torch.bmm(a, b, out_dtype), which CPUs lack.
_MATMULS_WITH_OUT_DTYPE = {torch.mm, torch.bmm}


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
        if current_run().in_hl_function:
            return func(*args, **kwargs)
        if func is torch.Tensor.__getitem__:
            return read(args[0], args[1])
        if func is torch.Tensor.__setitem__:
            return write(args[0], args[1], args[2])
        if func in _MATMULS_WITH_BIAS and len(args) == 3 and not {"out"} & set(kwargs):
            bias, mat1, mat2 = args
            if not (bias.dtype == mat1.dtype == mat2.dtype):
                return _matmul_with_bias(bias, mat1, mat2, **kwargs)
        if func in _MATMULS_WITH_OUT_DTYPE and (len(args) == 3 or "out_dtype" in kwargs):
            out_dtype = args[2] if len(args) == 3 else kwargs["out_dtype"]
            return torch.matmul(args[0].float(), args[1].float()).to(out_dtype)
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
    state = Run(kernel_name=kernel_name, device=_kernel_device(args), config=config)
    run_token = ref_tiles.current.set(state)
    eager_token = hl._eager_functions.set(EAGER_FUNCTIONS)
    try:
        with _RefTorchMode():
            return fn(*args)
    finally:
        hl._eager_functions.reset(eager_token)
        ref_tiles.current.reset(run_token)
