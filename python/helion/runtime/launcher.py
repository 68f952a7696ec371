"""Launching compiled Triton kernels without Triton's per-call work.

A generated host function launches with ``_helion_k[grid](*args, **options)``,
which runs ``JITFunction.run``: it reads Triton's knobs, binds and
specializes every argument in Python, builds a cache key from the options'
text, looks the compiled kernel up and launches it through a Python wrapper
of the C launcher. After the first launch of a specialization, all of that
is the same every time.

``fast_launches(host, source)`` returns the host function with each Triton
kernel it names replaced by a ``Launcher``. Each launch statement of the
host code (``K[grid](*args, num_warps=4, ...)``, a tuple grid and literal
options, as the compiler writes them) becomes a call of its own site's
``Launcher``: ``K_site.launch(x, y, z, *args)``, the options fixed by the
site, so a cached launch builds no partial function, no keyword dictionary
and compares no options. A launch statement of another form keeps
``K[grid](...)``, which reaches the same launch through ``__getitem__``.

A launch Triton has not seen goes through ``JITFunction.run`` (which
compiles when needed); the ``Launcher`` then keeps the compiled kernel under
a *direct key* of the arguments and, from then on, launches arguments with
an equal key straight through the compiled kernel's C launcher. The direct
key is one tuple computed by straight-line code made for the kernel's
parameters (``_DirectCode``): the current device, then per argument what
Triton specializes on, so that arguments with equal keys are exactly the
ones Triton would give the same compiled kernel:

- a tensor: its dtype, its device, and whether its address is a multiple of
  16 bytes (Triton's ``D`` specialization; CUDA's backend asks nothing else);
  only the last for a host function's parameter passed on unchanged when
  its caller checked the specialization key (``fast_launches(keyed=True)``);
- a constexpr parameter: its value, as Triton's key holds it;
- anything else (ints: equal to 1, a multiple of 16, 32- or 64-bit; floats,
  bools, None): Triton's own specializer, called on it;
- an argument written as a literal at the site: nothing, as it is the same
  at every launch of the site.

Tensors travel to the C launcher as their addresses: it then skips calling
``data_ptr`` and asking the driver what the pointer is, which the key's
device makes unnecessary (a CPU tensor has device -1 and never matches a
recorded key). Anything unusual goes through ``JITFunction.run``, so it
stays Triton's business: a Triton version other than the one this was
written against, a backend other than CUDA's, launch or pre-run hooks,
other options, a grid given as a function, an argument the key cannot read.
"""

from __future__ import annotations

import ast
import functools
import types
from collections.abc import Callable, Iterable
from typing import Any

import torch

# The Triton versions whose launch path this module reproduces (read from
# triton/runtime/jit.py, triton/compiler/compiler.py and
# triton/backends/nvidia/driver.py of each).
DIRECT_TRITON_VERSIONS = ("3.6.",)


def fast_launches(
    host: Callable[..., Any], source: str | None = None, keyed: bool = False
) -> Callable[..., Any]:
    """``host`` (a generated host function, defined in ``source``) with its Triton launches
    made cheap.

    ``keyed``: every call of the result has arguments of the specialization key
    ``host`` was compiled for, checked by the caller. A tensor the host function
    passes on unchanged from its parameters then has a known dtype and device,
    and the direct key reads only its alignment.
    """
    from triton.runtime import JITFunction

    namespace = {
        name: Launcher(value) if isinstance(value, JITFunction) else value
        for name, value in host.__globals__.items()
    }
    if source is not None:
        sited = _with_launch_sites(host, source, namespace, keyed)
        if sited is not None:
            return sited
    return types.FunctionType(host.__code__, namespace, host.__name__, host.__defaults__)


def direct_launches_supported() -> bool:
    """Whether the installed Triton is one whose launch path ``Launcher`` reproduces."""
    import triton

    return triton.__version__.startswith(DIRECT_TRITON_VERSIONS)


def _with_launch_sites(
    host: Callable[..., Any], source: str, namespace: dict[str, Any], keyed: bool
) -> Callable[..., Any] | None:
    """``host`` compiled anew from ``source`` with its launch statements calling their sites'
    ``Launcher`` (see the module's doc); None when it has no such statement."""
    definitions = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name == host.__name__
    ]
    if not definitions or definitions[-1].lineno != host.__code__.co_firstlineno:
        return None
    definition = definitions[-1]
    names = [node for node in ast.walk(definition) if isinstance(node, ast.Name)]
    # Parameters the host function never rebinds: at a launch they are the caller's arguments.
    unchanged = set()
    if keyed:
        rebound = {node.id for node in names if not isinstance(node.ctx, ast.Load)}
        unchanged = {arg.arg for arg in definition.args.args} - rebound
    sites = _LaunchSites(namespace, {node.id for node in names}, unchanged)
    definition = ast.fix_missing_locations(sites.visit(definition))
    if not sites.made:
        return None
    original = namespace.get(host.__name__)
    # Line numbers and file stay the module's: tracebacks show the host code's lines.
    module = ast.Module(body=[definition], type_ignores=[])
    exec(compile(module, host.__code__.co_filename, "exec", dont_inherit=True), namespace)
    sited = namespace.pop(host.__name__)
    if original is not None:
        namespace[host.__name__] = original
    sited.__defaults__ = host.__defaults__
    sited.__kwdefaults__ = host.__kwdefaults__
    return sited


class _LaunchSites(ast.NodeTransformer):
    """Turns ``K[(x, y)](*args, **literal options)`` into ``K_site.launch(x, y, 1, *args)``."""

    def __init__(self, namespace: dict[str, Any], taken: set[str], keyed: set[str]) -> None:
        self.namespace = namespace
        self.taken = taken | set(namespace)
        # Names of the host function's parameters whose arguments the caller keyed.
        self.keyed = keyed
        self.made = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node = self.generic_visit(node)
        launch = node.func
        if not (isinstance(launch, ast.Subscript) and isinstance(launch.value, ast.Name)):
            return node
        launcher = self.namespace.get(launch.value.id)
        grid = launch.slice
        if (
            not isinstance(launcher, Launcher)
            or not isinstance(grid, ast.Tuple)
            or not 1 <= len(grid.elts) <= 3
            or len(node.args) != len(launcher.jit.params)
            or any(isinstance(arg, ast.Starred) for arg in (*grid.elts, *node.args))
            or any(keyword.arg is None for keyword in node.keywords)
        ):
            return node
        try:
            options = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords}
        except ValueError:  # an option computed at the launch: the generic path reads it
            return node
        literals = [i for i, arg in enumerate(node.args) if isinstance(arg, ast.Constant)]
        keyed = [
            i for i, arg in enumerate(node.args) if isinstance(arg, ast.Name) and arg.id in self.keyed
        ]
        name = self._fresh(f"{launch.value.id}_site")
        self.namespace[name] = Launcher(launcher.jit, options, literals, keyed)
        self.made += 1
        padding = [ast.Constant(1)] * (3 - len(grid.elts))
        call = ast.Call(
            func=ast.Attribute(value=ast.Name(id=name, ctx=ast.Load()), attr="launch", ctx=ast.Load()),
            args=[*grid.elts, *padding, *node.args],
            keywords=[],
        )
        return ast.copy_location(call, node)

    def _fresh(self, stem: str) -> str:
        name, number = stem, 0
        while name in self.taken:
            number += 1
            name = f"{stem}_{number}"
        self.taken.add(name)
        return name


class Launcher:
    """Stands for one ``@triton.jit`` kernel in a host function's namespace, or for one of
    its launch statements (a *site*, whose options are fixed)."""

    __slots__ = ("jit", "_parameters", "_options", "_literals", "_keyed", "_kernels", "_code",
                 "launch", "direct_launches")

    def __init__(
        self,
        jit: Any,
        options: dict[str, Any] | None = None,
        literals: Iterable[int] = (),
        keyed: Iterable[int] = (),
    ) -> None:
        self.jit = jit
        self._parameters = len(jit.params)
        # The options of the launches that are recorded: a site's own, else
        # those of the first recorded launch (one host function launches its
        # kernel with the same options every time).
        self._options = options
        # Positions of the arguments written as literals at the site.
        self._literals = frozenset(literals)
        # Positions of the arguments whose dtype and device the caller's
        # specialization key fixed (see fast_launches).
        self._keyed = frozenset(keyed)
        # direct key -> how to launch the compiled kernel (see _entry)
        self._kernels: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._code: _DirectCode | None = None
        # (x, y, z, *args) -> None, with the recorded options: through Triton
        # until a launch is recorded, then made by _DirectCode.
        self.launch: Callable[..., None] = self._launch_through_triton
        # How many launches took the direct path (read by tests and benchmarks).
        self.direct_launches = 0

    def __getitem__(self, grid: tuple[int, ...]) -> Callable[..., None]:
        if callable(grid):  # a grid computed from the bound arguments: Triton's business
            return self.jit[grid]
        return functools.partial(self._launch_with_options, grid)

    def _launch_with_options(self, grid: tuple[int, ...], *args: Any, **options: Any) -> None:
        """``self[grid](*args, **options)``."""
        n = len(grid)
        if options != self._options or not 1 <= n <= 3 or len(args) != self._parameters:
            return self._through_triton(grid, args, options)
        return self.launch(grid[0], grid[1] if n > 1 else 1, grid[2] if n > 2 else 1, *args)

    def _launch_through_triton(self, x: int, y: int, z: int, *args: Any) -> None:
        self._through_triton((x, y, z), args, self._options or {})

    def _through_triton(
        self, grid: tuple[int, ...], args: tuple[Any, ...], options: dict[str, Any]
    ) -> None:
        """Triton's own launch, which compiles when needed; remembers what it launched."""
        kernel = self.jit.run(*args, grid=grid, warmup=False, **options)
        if kernel is not None:
            self._record(kernel, args, options)

    def _record(self, kernel: Any, args: tuple[Any, ...], options: dict[str, Any]) -> None:
        if (
            len(args) != self._parameters
            or not _hooks_quiet(self.jit)
            or not direct_launches_supported()
        ):
            return
        if self._options is None:
            self._options = dict(options)
        if options != self._options:
            return
        device = _current_device()
        if self._code is None:
            backend = self.jit.device_caches[device][3]
            self._code = _DirectCode(self.jit, args, backend, self._literals, self._keyed)
            self.launch = self._code.launch_function(self)
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
    as another key) and goes through Triton. A tensor at a ``keyed`` position
    adds only its alignment: its dtype and device are the specialization's.
    """

    def __init__(
        self,
        jit: Any,
        args: tuple[Any, ...],
        backend: Any,
        literals: frozenset[int],
        keyed: frozenset[int],
    ) -> None:
        cuda = type(backend).__name__ == "CUDABackend"
        self.names = [f"a{i}" for i in range(len(args))]
        addresses: dict[int, str] = {}  # position -> the name of its address
        parts = ["device"]
        for i, (param, arg, name) in enumerate(zip(jit.params, args, self.names)):
            if i in literals:
                continue
            if param.is_constexpr:
                parts.append(name)
            elif cuda and isinstance(arg, torch.Tensor) and not param.is_const:
                addresses[i] = f"p{i}"
                if i not in keyed:
                    parts += [f"{name}.dtype", f"{name}.get_device()"]
                parts.append(f"not p{i} & 15")
            else:
                specialize = not param.do_not_specialize
                align = not param.do_not_specialize_on_alignment
                parts.append(
                    f"specialize(backend, {name}, {param.is_const}, {specialize}, {align})"
                )
        # Reads the tensors' addresses into p0, ...; raises for arguments of another kind.
        self.read = [f"{address} = a{i}.data_ptr()" for i, address in addresses.items()]
        self.key_text = "(" + ", ".join(parts) + ",)"
        # What the C launcher gets: addresses in place of tensors.
        self.launched = ", ".join(addresses.get(i, name) for i, name in enumerate(self.names))
        self.jit = jit
        self.backend = backend
        self.key: Callable[..., tuple[Any, ...]] = self._compile_key()

    def _namespace(self) -> dict[str, Any]:
        from triton._C.libtriton import native_specialize_impl

        return {"specialize": native_specialize_impl, "backend": self.backend}

    def _compile_key(self) -> Callable[..., tuple[Any, ...]]:
        body = "".join(f"    {line}\n" for line in self.read)
        text = f"def key(device, {', '.join(self.names)}):\n{body}    return {self.key_text}\n"
        namespace = self._namespace()
        exec(compile(text, "<helion direct launch key>", "exec"), namespace)
        return namespace["key"]

    def launch_function(self, launcher: Launcher) -> Callable[..., None]:
        """``(x, y, z, *args) -> None``: direct when the key is known, else Triton's."""
        from triton import knobs

        runtime = knobs.runtime
        parameters = ", ".join(self.names)
        read = "".join(f"        {line}\n" for line in self.read)
        # The slow calls stay outside the except blocks, so that an error
        # Triton raises is not shown as raised while handling ours.
        text = (
            f"def launch(x, y, z, {parameters}):\n"
            "    device = current_device()\n"
            "    try:\n"
            f"{read}"
            f"        key = {self.key_text}\n"
            "    except Exception:  # arguments the key cannot read\n"
            "        key = None\n"
            "    entry = kernels.get(key)\n"
            "    if (entry is None or runtime.launch_enter_hook is not enter\n"
            "            or runtime.launch_exit_hook is not leave or enter.calls or leave.calls\n"
            "            or pre_run_hooks):\n"
            f"        return slow(x, y, z, {parameters})\n"
            "    c_launch, function, cooperative, pdl, metadata = entry\n"
            "    try:\n"
            "        c_launch(x, y, z, current_stream(device), function, cooperative, pdl,\n"
            f"                 None, None, metadata, None, None, None, {self.launched})\n"
            "    except Exception:  # Triton's own launch says what is wrong, or succeeds\n"
            "        kernels.pop(key, None)\n"
            "    else:\n"
            "        launcher.direct_launches += 1\n"
            "        return None\n"
            f"    return slow(x, y, z, {parameters})\n"
        )
        namespace = {
            **self._namespace(),
            "current_device": _current_device,
            "current_stream": _current_stream,
            "kernels": launcher._kernels,
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
