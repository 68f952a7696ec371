"""Launching compiled Triton kernels without Triton's per-call work.

A generated host function launches with ``_helion_k[grid](*args, **options)``,
which runs ``JITFunction.run``: it reads Triton's knobs, binds and
specializes every argument in Python, builds a cache key from the options'
text, looks the compiled kernel up and launches it through a Python wrapper
of the C launcher. After the first launch of a specialization, all of that
is the same every time.

``fast_launches(host)`` returns the host function with each Triton kernel it
names replaced by a ``Launcher``. A launch Triton has not seen goes through
``JITFunction.run`` (which compiles when needed); the ``Launcher`` then keeps
the compiled kernel under a *direct key* of the arguments and, from then on,
launches arguments with an equal key straight through the compiled kernel's
C launcher. The direct key is one tuple computed by straight-line code made
for the kernel's parameters (``_DirectCode``): the current device, then per
argument what Triton specializes on, so that arguments with equal keys are
exactly the ones Triton would give the same compiled kernel:

- a tensor: its dtype, its device, and whether its address is a multiple of
  16 bytes (Triton's ``D`` specialization; CUDA's backend asks nothing else);
- a constexpr parameter: its value, as Triton's key holds it;
- anything else (ints: equal to 1, a multiple of 16, 32- or 64-bit; floats,
  bools, None): Triton's own specializer, called on it.

Tensors travel to the C launcher as their addresses: it then skips calling
``data_ptr`` and asking the driver what the pointer is, which the key's
device makes unnecessary (a CPU tensor has device -1 and never matches a
recorded key). Anything unusual goes through ``JITFunction.run``, so it
stays Triton's business: a Triton version other than the one this was
written against, a backend other than CUDA's, launch or pre-run hooks,
other options, a grid given as a function, an argument the key cannot read.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import torch

# The Triton versions whose launch path this module reproduces (read from
# triton/runtime/jit.py, triton/compiler/compiler.py and
# triton/backends/nvidia/driver.py of each).
DIRECT_TRITON_VERSIONS = ("3.6.",)


def fast_launches(host: Callable[..., Any]) -> Callable[..., Any]:
    """``host`` (a generated host function) with its Triton launches made cheap."""
    from triton.runtime import JITFunction

    namespace = {
        name: Launcher(value) if isinstance(value, JITFunction) else value
        for name, value in host.__globals__.items()
    }
    return types.FunctionType(host.__code__, namespace, host.__name__, host.__defaults__)


def direct_launches_supported() -> bool:
    """Whether the installed Triton is one whose launch path ``Launcher`` reproduces."""
    import triton

    return triton.__version__.startswith(DIRECT_TRITON_VERSIONS)


class Launcher:
    """Stands for one ``@triton.jit`` kernel in a host function's namespace."""

    __slots__ = ("jit", "_parameters", "_options", "_kernels", "_code", "_launch", "direct_launches")

    def __init__(self, jit: Any) -> None:
        self.jit = jit
        self._parameters = len(jit.params)
        # The options of the launches that are recorded: one host function
        # launches its kernel with the same options every time.
        self._options: dict[str, Any] | None = None
        # direct key -> how to launch the compiled kernel (see _entry)
        self._kernels: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._code: _DirectCode | None = None
        # (grid, *args, **options) -> None: through Triton until a launch is recorded.
        self._launch: Callable[..., None] = self._launch_through_triton
        # How many launches took the direct path (read by tests and benchmarks).
        self.direct_launches = 0

    def __getitem__(self, grid: tuple[int, ...]) -> Callable[..., None]:
        if callable(grid):  # a grid computed from the bound arguments: Triton's business
            return self.jit[grid]
        return functools.partial(self._launch, grid)

    def launch(self, grid: tuple[int, ...], args: tuple[Any, ...], options: dict[str, Any]) -> None:
        """``self[grid](*args, **options)``."""
        self._launch(grid, *args, **options)

    def _launch_through_triton(self, grid: tuple[int, ...], *args: Any, **options: Any) -> None:
        """Triton's own launch, which compiles when needed; remembers what it launched."""
        kernel = self.jit.run(*args, grid=grid, warmup=False, **options)
        if kernel is not None:
            self._record(kernel, args, options)

    def _record(self, kernel: Any, args: tuple[Any, ...], options: dict[str, Any]) -> None:
        if len(args) != self._parameters or not _hooks_quiet(self.jit):
            return
        if self._options is None:
            if not direct_launches_supported():
                return
            self._options = dict(options)
        if options != self._options:
            return
        device = _current_device()
        if self._code is None:
            backend = self.jit.device_caches[device][3]
            self._code = _DirectCode(self.jit, args, backend)
            self._launch = self._code.launch_function(self)
        try:
            key = self._code.key(device, *args)
        except Exception:  # an argument the key cannot read: such launches stay with Triton
            return
        self._kernels[key] = _entry(kernel)


def _entry(kernel: Any) -> tuple[Any, ...]:
    """(C launch function, CUfunction, cooperative, pdl, packed metadata) of a compiled kernel.

    The C launch function takes (grid x, y, z, stream, function, cooperative,
    pdl, global scratch, profile scratch, packed metadata, launch metadata,
    enter hook, exit hook, *args), as ``CudaLauncher.__call__`` calls it. A
    kernel that needs scratch memory (allocated per launch) or a launcher of
    another shape is launched through ``CompiledKernel.run`` instead, which
    takes the same arguments less cooperative, pdl and the scratch.
    """
    run = kernel.run  # loads the kernel on the current device if it is not yet
    direct = all(
        hasattr(run, name)
        for name in ("launch", "launch_cooperative_grid", "launch_pdl", "global_scratch_size",
                     "profile_scratch_size")
    )
    if direct and not run.global_scratch_size and not run.profile_scratch_size:
        return (run.launch, kernel.function, run.launch_cooperative_grid, run.launch_pdl,
                kernel.packed_metadata)

    def through_run(x: int, y: int, z: int, stream: int, function: Any, _cooperative: Any,
                    _pdl: Any, _global: Any, _profile: Any, *rest: Any) -> None:
        run(x, y, z, stream, function, *rest)

    return (through_run, kernel.function, None, None, kernel.packed_metadata)


class _DirectCode:
    """The direct key and launch of one kernel, as straight-line Python made for its parameters.

    Which parameters are read as tensors is decided from the first recorded
    launch: an argument of another kind there later fails to read (or reads
    as another key) and goes through Triton.
    """

    def __init__(self, jit: Any, args: tuple[Any, ...], backend: Any) -> None:
        cuda = type(backend).__name__ == "CUDABackend"
        names = [f"a{i}" for i in range(len(args))]
        addresses: dict[int, str] = {}  # position -> the name of its address
        parts = ["device"]
        for i, (param, arg, name) in enumerate(zip(jit.params, args, names)):
            if param.is_constexpr:
                parts.append(name)
            elif cuda and isinstance(arg, torch.Tensor) and not param.is_const:
                addresses[i] = f"p{i}"
                parts += [f"{name}.dtype", f"{name}.get_device()", f"not p{i} & 15"]
            else:
                specialize = not param.do_not_specialize
                align = not param.do_not_specialize_on_alignment
                parts.append(
                    f"specialize(backend, {name}, {param.is_const}, {specialize}, {align})"
                )
        # Reads the arguments into a0, a1, ... and their addresses into p0, ...;
        # raises for arguments of another number or kind.
        self.read = [f"{''.join(name + ', ' for name in names)}= args"] + [
            f"{address} = a{i}.data_ptr()" for i, address in addresses.items()
        ]
        self.key_text = "(" + ", ".join(parts) + ",)"
        # What the C launcher gets: addresses in place of tensors.
        self.launched = ", ".join(addresses.get(i, name) for i, name in enumerate(names))
        self.jit = jit
        self.backend = backend
        self.key: Callable[..., tuple[Any, ...]] = self._compile_key()

    def _namespace(self) -> dict[str, Any]:
        from triton._C.libtriton import native_specialize_impl

        return {"specialize": native_specialize_impl, "backend": self.backend}

    def _compile_key(self) -> Callable[..., tuple[Any, ...]]:
        body = "".join(f"    {line}\n" for line in self.read)
        text = f"def key(device, *args):\n{body}    return {self.key_text}\n"
        namespace = self._namespace()
        exec(compile(text, "<helion direct launch key>", "exec"), namespace)
        return namespace["key"]

    def launch_function(self, launcher: Launcher) -> Callable[..., None]:
        """``(grid, *args, **options) -> None``: direct when the key is known, else Triton's."""
        from triton import knobs

        runtime = knobs.runtime
        read = "".join(f"        {line}\n" for line in self.read)
        # The slow calls stay outside the except blocks, so that an error
        # Triton raises is not shown as raised while handling ours.
        text = (
            "def launch(grid, /, *args, **options):\n"
            "    device = current_device()\n"
            "    try:\n"
            f"{read}"
            f"        key = {self.key_text}\n"
            "    except Exception:  # arguments the key cannot read\n"
            "        key = None\n"
            "    entry = kernels.get(key)\n"
            "    if (entry is None or options != expected or runtime.launch_enter_hook is not enter\n"
            "            or runtime.launch_exit_hook is not leave or enter.calls or leave.calls\n"
            "            or pre_run_hooks):\n"
            "        return slow(grid, *args, **options)\n"
            "    c_launch, function, cooperative, pdl, metadata = entry\n"
            "    n = len(grid)\n"
            "    try:\n"
            "        c_launch(grid[0], grid[1] if n > 1 else 1, grid[2] if n > 2 else 1,\n"
            "                 current_stream(device), function, cooperative, pdl, None, None,\n"
            f"                 metadata, None, None, None, {self.launched})\n"
            "    except Exception:  # Triton's own launch says what is wrong, or succeeds\n"
            "        kernels.pop(key, None)\n"
            "    else:\n"
            "        launcher.direct_launches += 1\n"
            "        return None\n"
            "    return slow(grid, *args, **options)\n"
        )
        namespace = {
            **self._namespace(),
            "current_device": _current_device,
            "current_stream": _current_stream,
            "kernels": launcher._kernels,
            "expected": launcher._options,
            "slow": launcher._launch_through_triton,
            "runtime": runtime,
            "enter": runtime.launch_enter_hook,
            "leave": runtime.launch_exit_hook,
            "pre_run_hooks": self.jit.pre_run_hooks,
            "launcher": launcher,
        }
        exec(compile(text, "<helion direct launch>", "exec"), namespace)
        return namespace["launch"]


def _hooks_quiet(jit: Any) -> bool:
    """No launch hook and no pre-run hook is set: what the direct path needs."""
    from triton import knobs

    hooks = (knobs.runtime.launch_enter_hook, knobs.runtime.launch_exit_hook)
    return all(type(hook).__name__ == "HookChain" and not hook.calls for hook in hooks) and not (
        jit.pre_run_hooks
    )


# What Triton's CUDA driver asks torch for, without its wrappers.
_current_device = torch._C._cuda_getDevice if torch.cuda.is_available() else None
_current_stream = torch._C._cuda_getCurrentRawStream if torch.cuda.is_available() else None
