"""Launching compiled Triton kernels without Triton's per-call work.

A generated host function launches with ``_helion_k[grid](*args, **options)``,
which runs ``JITFunction.run``: it reads Triton's knobs, binds and
specializes every argument, builds a cache key from the options' text,
looks the compiled kernel up and launches it. After the first launch of a
specialization, almost all of that is the same every time.

``fast_launches(host)`` returns the host function with each Triton kernel it
names replaced by a ``Launcher``, which keeps each compiled kernel under the
argument specialization Triton computed for it (Triton's own specializer, in
C: dtypes, 16-byte alignment of pointers and ints, ints equal to 1, 32- or
64-bit ints) and calls the compiled kernel's launcher directly. Anything it
has not seen, and any launch hook (profilers add them), goes through
``JITFunction.run`` as before, so what Triton checks still holds.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch


def fast_launches(host: Callable[..., Any]) -> Callable[..., Any]:
    """``host`` (a generated host function) with its Triton launches made cheap."""
    from triton.runtime import JITFunction

    namespace = {
        name: Launcher(value) if isinstance(value, JITFunction) else value
        for name, value in host.__globals__.items()
    }
    return types.FunctionType(host.__code__, namespace, host.__name__, host.__defaults__)


class Launcher:
    """Stands for one ``@triton.jit`` kernel in a host function's namespace."""

    __slots__ = ("jit", "_parameters", "_options", "_by_device")

    def __init__(self, jit: Any) -> None:
        self.jit = jit
        self._parameters = len(jit.params)
        self._options: dict[str, Any] | None = None
        # device -> (Triton's argument binder, specialization -> compiled kernel)
        self._by_device: dict[int, tuple[Callable[..., Any], dict[tuple[Any, ...], Any]]] = {}

    def __getitem__(self, grid: tuple[int, ...]) -> Callable[..., None]:
        if callable(grid):  # a grid computed from the bound arguments: Triton's business
            return self.jit[grid]

        def launch(*args: Any, **options: Any) -> None:
            self.launch(grid, args, options)

        return launch

    def launch(self, grid: tuple[int, ...], args: tuple[Any, ...], options: dict[str, Any]) -> None:
        device = _current_device()
        known = self._by_device.get(device)
        enter_hook = _runtime_knobs.launch_enter_hook
        if (
            known is None
            or getattr(enter_hook, "calls", True)
            or options != self._options
            or len(args) != self._parameters
        ):
            self._launch_through_triton(device, grid, args, options)
            return
        binder, compiled = known
        specialization = tuple(binder(*args, **options)[1])
        kernel = compiled.get(specialization)
        if kernel is None:
            self._launch_through_triton(device, grid, args, options)
            return
        kernel.run(
            grid[0],
            grid[1] if len(grid) > 1 else 1,
            grid[2] if len(grid) > 2 else 1,
            _current_stream(device),
            kernel.function,
            kernel.packed_metadata,
            None,  # launch metadata: only launch hooks read it, and there are none
            enter_hook,
            _runtime_knobs.launch_exit_hook,
            *args,
        )

    def _launch_through_triton(
        self, device: int, grid: tuple[int, ...], args: tuple[Any, ...], options: dict[str, Any]
    ) -> None:
        """Triton's own launch, which compiles when needed; remembers what it launched."""
        kernel = self.jit.run(*args, grid=grid, warmup=False, **options)
        if kernel is None or getattr(_runtime_knobs.launch_enter_hook, "calls", True):
            return
        if self._options is None:
            self._options = dict(options)
        if options != self._options or len(args) != self._parameters:
            return
        _, _, _, _, binder = self.jit.device_caches[device]
        specialization = tuple(binder(*args, **options)[1])
        _, compiled = self._by_device.setdefault(device, (binder, {}))
        compiled[specialization] = kernel


# What Triton's CUDA driver asks torch for, without its wrappers.
_current_device = torch._C._cuda_getDevice if torch.cuda.is_available() else None
_current_stream = torch._C._cuda_getCurrentRawStream if torch.cuda.is_available() else None


class _LazyKnobs:
    """``triton.knobs.runtime``, imported on first use (helion imports triton lazily)."""

    def __getattr__(self, name: str) -> Any:
        from triton import knobs

        global _runtime_knobs
        _runtime_knobs = knobs.runtime
        return getattr(knobs.runtime, name)


_runtime_knobs: Any = _LazyKnobs()
