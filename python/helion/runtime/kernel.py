"""``helion.kernel``: the decorator, the kernel object and its specializations."""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import os
import sys
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

import torch

from .. import _core, exc
from .._config import Config
from .._settings import RefMode, Settings
from . import effects, ref_mode, torch_op
from .launcher import fast_launches
from .._loader import load_module, module_path
from .request import (
    KERNEL_FUNCTION_ATTRIBUTE,
    SourceInfo,
    build_request,
    check_source_text,
    dtype_name,
    is_constexpr_annotation,
    make_guard,
    make_key_function,
)

_UNSUPPORTED_PARAMETERS = {
    inspect.Parameter.VAR_POSITIONAL: "*args",
    inspect.Parameter.VAR_KEYWORD: "**kwargs",
    inspect.Parameter.KEYWORD_ONLY: "keyword-only parameters",
}


_call_core = exc.call_core


def _check_source(fn: types.FunctionType) -> None:
    """Lets the compiler check what it can before the kernel is called."""
    try:
        source = SourceInfo(fn)
    except (OSError, TypeError):
        return
    check_source_text(fn.__name__, source)
    request = {
        "kernel_name": fn.__name__,
        "filename": source.filename,
        "first_line": source.first_line,
        "source": source.source,
    }
    _call_core(_core.check_source, json.dumps(request))


def _as_config(config: Config | Mapping[str, Any]) -> Config:
    if isinstance(config, Config):
        return config
    if isinstance(config, Mapping):
        return Config.from_dict(config)
    raise TypeError(f"expected a helion.Config, got {type(config).__name__}")


def _json_default(value: Any) -> Any:
    if isinstance(value, torch.dtype):
        return dtype_name(value)
    return repr(value)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@functools.cache
def _install_triton_allocator() -> None:
    """Kernels that use tensor descriptors need scratch memory from Triton's allocator."""
    import triton

    def allocate(size: int, alignment: int, stream: int | None) -> torch.Tensor:
        return torch.empty(size, device="cuda", dtype=torch.int8)

    triton.set_allocator(allocate)


def _interpreted() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


def _bools_as_ints(run: Callable[..., Any], positions: list[int]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        converted = list(args)
        for i in positions:
            converted[i] = int(converted[i])
        return run(*converted)

    return call


_warned_bf16 = False


def _source_line_of(code: str, needle: str) -> str:
    """' at line N: <source>' for the kernel line that generated the first line of
    ``code`` containing ``needle`` (each generated group starts with a
    ``# src[line N]: ...`` comment), or '' when none says."""
    origin = ""
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("# src[line "):
            origin = stripped[len("# src[") :]
        elif needle in line:
            return f" at {origin.replace(']:', ':', 1)}" if origin else ""
    return ""


def _warn_bf16_once(bound: BoundKernel) -> None:
    """Says once per process that bfloat16 results under Triton's interpreter can be wrong."""
    global _warned_bf16
    warning = exc.InterpreterBFloat16(
        f"kernel '{bound.fn.__name__}' computes in bfloat16 under Triton's interpreter "
        "(TRITON_INTERPRET=1), whose bfloat16 arithmetic is wrong in Triton 3.6: results "
        "can be wrong. Use float16 or float32 to check results on the CPU, or run on a GPU"
    )
    if _warned_bf16 or isinstance(warning, tuple(bound.settings.ignore_warnings)):
        return
    _warned_bf16 = True
    # _warn <- _warn_bf16_once <- compile_config <- set_config <- _first_call <-
    # BoundKernel.__call__ <- Kernel.__call__ <- caller.
    bound._warn(warning, stacklevel=8)


def _graph_facts(fn: types.FunctionType) -> tuple[effects.Effects | None, str]:
    """What ``torch.compile`` must know of the kernel, or why it cannot know it.

    Read when the kernel is made: Dynamo runs ``Kernel.__call__`` as Python
    and must find these facts ready.
    """
    try:
        source = SourceInfo(fn)
        facts = effects.analyze(source.source, fn.__globals__)
    except (OSError, TypeError, SyntaxError, ValueError, StopIteration) as error:
        return None, (
            f"kernel '{fn.__name__}' cannot run inside torch.compile: its source cannot be "
            f"read ({error}); define the kernel in a file"
        )
    except RecursionError:
        # Calls outside torch.compile still compile it, and report what is too deep.
        return None, (
            f"kernel '{fn.__name__}' cannot run inside torch.compile: its source nests "
            "too deeply to read what it writes; split the deepest expression"
        )
    if not facts.consistent_returns:
        return None, (
            f"kernel '{fn.__name__}' cannot run inside torch.compile: its return statements "
            "return different shapes (a tensor here, a tuple there); return one shape everywhere"
        )
    return facts, ""


def _hinted(value: Any) -> Any:
    """``value`` with every symbolic size replaced by its hint (the value it was traced with)."""
    if isinstance(value, torch.Tensor):
        if not _is_symbolic(value):
            return value
        return torch.empty_strided(
            [_hint(size) for size in value.shape],
            [_hint(stride) for stride in value.stride()],
            dtype=value.dtype,
            device=value.device,
        )
    if isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool)):
        return _hint(value)
    return value


def _hint(value: Any) -> Any:
    if isinstance(value, (int, float, bool)):
        return value
    hint = value.node.hint
    if hint is None:
        raise exc.InvalidArgument(
            f"a kernel got the size {value}, which depends on tensor data (an unbacked "
            "symbol) inside torch.compile; helion needs every size to have a known value "
            "when the program is traced"
        )
    return hint


def _is_symbolic(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return not all(type(size) is int for size in itertools.chain(value.shape, value.stride()))
    return isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool))


_is_compiling = torch.compiler.is_compiling
_EAGER = RefMode.EAGER


def _no_guard(args: tuple[Any, ...]) -> None:
    """The guard of no specialization: cached calls compute the key."""
    return None


class _SkippedLaunch:
    """Stands for a Triton kernel where the host code runs on fake tensors."""

    def __getitem__(self, grid: Any) -> Callable[..., None]:
        return _no_launch


def _no_launch(*args: Any, **kwargs: Any) -> None:
    return None


def _helion_internal(name: str, what: str, instead: str) -> property:
    """A BoundKernel attribute of Helion's that exposed its internals, which differ here."""

    def missing(self: BoundKernel) -> Any:
        raise exc.InvalidAPIUsage(
            f"BoundKernel.{name} ({what} in Helion) does not exist in this implementation; "
            f"{instead}"
        )

    return property(missing, doc=f"Not available here: {what} in Helion.")


class ConfigSpec:
    """The config space of one specialization of a kernel."""

    def __init__(self, core_kernel: _core.Kernel) -> None:
        self._core = core_kernel
        # config -> its canonical form, for the configs normalized so far and
        # their canonical forms: the compiler normalizes each config once, and
        # keeps it too, so that generating code from it normalizes nothing.
        self._canonical: dict[Config, Config] = {}
        self._default: Config | None = None

    def default_config(self) -> Config:
        if self._default is None:
            self._default = self._keep(Config.from_json(_call_core(self._core.default_config)))
        return self._default

    def normalize(self, config: Config | Mapping[str, Any]) -> Config:
        """The config with defaults filled in, in the seed's spelling; raises InvalidConfig."""
        config = _as_config(config)
        canonical = self._canonical.get(config)
        if canonical is None:
            text = json.dumps(dict(config))
            canonical = self._keep(Config.from_json(_call_core(self._core.normalize_config, text)))
            self._canonical[config] = canonical
        return canonical

    def _keep(self, canonical: Config) -> Config:
        return self._canonical.setdefault(canonical, canonical)

    def describe(self) -> dict[str, Any]:
        return json.loads(_call_core(self._core.config_spec))

    def __repr__(self) -> str:
        return f"ConfigSpec({self.describe()!r})"


class Kernel:
    """A function decorated with ``@helion.kernel``; calling it compiles and runs."""

    def __init__(
        self,
        fn: types.FunctionType,
        *,
        configs: Sequence[Config | Mapping[str, Any]] = (),
        settings: Settings | None = None,
    ) -> None:
        if not isinstance(fn, types.FunctionType):
            raise TypeError(f"@helion.kernel decorates a Python function, got {type(fn).__name__}")
        if fn.__code__.co_name == "<lambda>":
            raise exc.UnsupportedSyntax(
                f"helion.kernel got a lambda (defined at {fn.__code__.co_filename}:"
                f"{fn.__code__.co_firstlineno}); a kernel must be a function defined with `def`"
            )
        signature = inspect.signature(fn)
        for parameter in signature.parameters.values():
            if parameter.kind in _UNSUPPORTED_PARAMETERS:
                _check_source(fn)  # raises the compiler's error, with the line and a caret
                raise exc.UnsupportedSignature(
                    f"kernel '{fn.__name__}' has parameter '{parameter}': "
                    f"{_UNSUPPORTED_PARAMETERS[parameter.kind]} are not supported in a helion "
                    "kernel; use plain positional parameters"
                )
        self.fn = fn
        setattr(self, KERNEL_FUNCTION_ATTRIBUTE, fn)  # how a kernel calling this one sees it
        self.configs: list[Config] = [_as_config(config) for config in configs]
        self.settings = settings if settings is not None else Settings()
        self._signature = signature
        self._param_names = list(signature.parameters)
        self._constexpr = [
            is_constexpr_annotation(p.annotation) for p in signature.parameters.values()
        ]
        self._key = make_key_function(self._constexpr, self.settings.static_shapes)
        self._bound: dict[tuple[Any, ...], BoundKernel] = {}
        # key -> the host function of a specialization whose config is chosen
        self._ready: dict[tuple[Any, ...], Callable[..., Any]] = {}
        self._arity = len(self._param_names)
        # The guard of the specialization called last (see make_guard), and
        # each ready specialization's, made on its first cached call.
        self._guard: Callable[[tuple[Any, ...]], Callable[..., Any] | None] = _no_guard
        self._guards: dict[tuple[Any, ...], Callable[[tuple[Any, ...]], Any]] = {}
        self._source: SourceInfo | None = None
        self._defaults = {
            name: p.default
            for name, p in signature.parameters.items()
            if p.default is not inspect.Parameter.empty
        }
        self._graph_number = torch_op.register(self)
        self._graph_facts, self._graph_facts_error = _graph_facts(fn)
        self._graph_operator = (
            None
            if self._graph_facts is None
            else torch_op.operator(
                sum(p is None for p in self._graph_facts.returns or ()),
                bool(self._graph_facts.written),
            )
        )
        self._shape_generic: Kernel | None = None
        self._announced_default = False
        functools.update_wrapper(self, fn)
        self.settings.check_supported(fn.__name__)

    @property
    def name(self) -> str:
        return self.fn.__name__

    def __repr__(self) -> str:
        return f"<helion.Kernel {self.fn.__qualname__}>"

    def normalize_args(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """The call's arguments as one positional tuple, defaults filled in."""
        if not kwargs and len(args) == len(self._param_names):
            return args
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{self.name}() {error}") from None
        bound.apply_defaults()
        return tuple(bound.arguments[name] for name in self._param_names)

    def source_info(self) -> SourceInfo:
        if self._source is None:
            try:
                self._source = SourceInfo(self.fn)
            except (OSError, TypeError) as error:
                raise exc.CompileError(
                    f"cannot read the source of kernel '{self.name}': {error}; helion kernels "
                    "must be defined in a file"
                ) from None
        return self._source

    def bind(self, args: Sequence[Any]) -> BoundKernel:
        """The kernel specialized for arguments like ``args`` (compiled on first use)."""
        args = self.normalize_args(*args)
        key = self._key(args)
        bound = self._bound.get(key)
        if bound is None:
            bound = BoundKernel(self, args, key)
            self._bound[key] = bound
        return bound

    def autotune(self, args: Sequence[Any], *, force: bool = True) -> Config:
        """Chooses the config for ``args``' specialization now and returns it."""
        return self.bind(args).autotune(args, force=force)

    def reset(self) -> None:
        """Forgets every specialization and compiled kernel."""
        self._bound.clear()
        self._ready.clear()
        self._guards.clear()
        self._guard = _no_guard
        self._key = make_key_function(self._constexpr, self.settings.static_shapes)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # A cached call: the last specialization's guard, else one key and one
        # lookup; then the host function. Everything else (ref mode,
        # torch.compile, keywords, a first call) goes the long way.
        if not kwargs and not _is_compiling() and self.settings.ref_mode is not _EAGER:
            run = self._guard(args)
            if run is None and len(args) == self._arity:
                run = self._ready_run(args)
            if run is not None:
                return run(*args)
        return self._call_slowly(args, kwargs)

    def _ready_run(self, args: tuple[Any, ...]) -> Callable[..., Any] | None:
        """The host function of ``args``' specialization when its config is chosen; its guard
        becomes the one cached calls try first."""
        key = self._key(args)
        run = self._ready.get(key)
        if run is not None:
            guard = self._guards.get(key)
            if guard is None:
                guard = make_guard(args, self._constexpr, run) or _no_guard
                self._guards[key] = guard
            self._guard = guard
        return run

    def _call_slowly(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.settings.ref_mode == RefMode.EAGER:
            return self.run_ref(*args, **kwargs)
        if _is_compiling():
            return torch_op.graph_call(self, args, kwargs)
        if kwargs or len(args) != self._arity:
            args = self.normalize_args(*args, **kwargs)
        return self._call_eager(args)

    def _call_eager(self, args: tuple[Any, ...]) -> Any:
        """A call outside Dynamo's tracing (also from ``helion::run_kernel``)."""
        run = self._ready_run(args)
        if run is not None:
            return run(*args)
        key = self._key(args)
        bound = self._bound.get(key)
        if bound is None:
            bound = self.bind(args)
        return bound(*args)

    def _publish(self, key: tuple[Any, ...], bound: BoundKernel) -> None:
        """Lets cached calls with ``key`` run ``bound``'s host function without it."""
        if self._bound.get(key) is bound and bound._run is not None:
            self._ready[key] = bound.keyed_run()
            self._guards.pop(key, None)
            self._guard = _no_guard

    def _call_fake(self, args: tuple[Any, ...]) -> Any:
        """The host code on fake tensors (sizes may be symbolic), with launches skipped.

        The kernel is specialized for the sizes' hints; where a size is
        symbolic, without static shapes, so that the host code computes its
        outputs' sizes from the arguments' rather than from constants.
        """
        hinted = tuple(_hinted(arg) for arg in args)
        kernel = self
        if self.settings.static_shapes and any(_is_symbolic(arg) for arg in args):
            if self._shape_generic is None:
                generic = Settings(**{**self.settings.to_dict(), "static_shapes": False})
                self._shape_generic = Kernel(self.fn, configs=self.configs, settings=generic)
            kernel = self._shape_generic
        return kernel.bind(hinted)._host_without_launches()(*args)

    def _announce_default(self, config: Config) -> None:
        if self._announced_default:
            return
        self._announced_default = True
        _stderr(
            f"[helion] kernel '{self.name}' uses the default config {config!r} "
            "(autotune_effort='none').\n"
            "[helion] to autotune instead, set autotune_effort='quick' or 'full' "
            "(or HELION_AUTOTUNE_EFFORT), or pass config=helion.Config(...) to @helion.kernel"
        )

    # --- Helion's other Kernel attributes -------------------------------------------------

    @property
    def signature(self) -> inspect.Signature:
        return self._signature

    @property
    def kernel_source(self) -> str:
        """The kernel's ``def`` with its decorators, as the compiler reads it."""
        return self.source_info().source

    def specialization_key(self, args: Sequence[Any]) -> tuple[Any, ...]:
        """What calls with ``args`` share a compiled kernel with: calls with equal keys do."""
        return self._key(self.normalize_args(*args))

    def run_ref(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the kernel's body eagerly in PyTorch (ref mode), whatever ``ref_mode`` says.

        Tunables read the kernel's config when it was given exactly one.
        """
        config = self.configs[0] if len(self.configs) == 1 else Config()
        return ref_mode.run(self.fn, self.name, self.normalize_args(*args, **kwargs), config)


class BoundKernel:
    """A kernel specialized for one kind of arguments (see ``Kernel.bind``)."""

    def __init__(self, kernel: Kernel, args: tuple[Any, ...], key: tuple[Any, ...]) -> None:
        self.kernel = kernel
        self._key = key
        self.fn = kernel.fn
        self.settings = kernel.settings
        request = build_request(
            kernel.fn,
            kernel.source_info(),
            kernel._param_names,
            kernel._constexpr,
            args,
            kernel.settings,
        )
        text = json.dumps(request, default=_json_default)
        self._core: _core.Kernel = _call_core(_core.Kernel, text)
        for kind, message in self._core.warnings():
            warning = getattr(exc, kind, None)
            if isinstance(warning, type) and issubclass(warning, exc.BaseWarning):
                # _warn <- __init__ <- Kernel.bind <- Kernel.__call__ <- caller.
                self._warn(warning(message), stacklevel=5)
        self.config_spec = ConfigSpec(self._core)
        self._devices = {arg.device for arg in args if isinstance(arg, torch.Tensor)}
        tensors = {
            name: arg
            for name, arg in zip(kernel._param_names, args)
            if isinstance(arg, torch.Tensor)
        }
        self._meta_args = [name for name, t in tensors.items() if t.device.type == "meta"]
        self._interpreted = _interpreted()
        self._bf16_args = any(t.dtype == torch.bfloat16 for t in tensors.values())
        # Triton's interpreter cannot take a Python bool as a kernel argument
        # (it stores it in 32 bits as an int1): bool is an int, so it gets 1 or 0.
        self._bool_positions = [
            i
            for i, (arg, by_value) in enumerate(zip(args, kernel._constexpr))
            if type(arg) is bool and not by_value and self._interpreted
        ]
        self._config: Config | None = None
        self._run: Callable[..., Any] | None = None
        self._keyed_run: Callable[..., Any] | None = None
        self._compiled: dict[Config, Callable[..., Any]] = {}
        self._code: dict[Config, str] = {}

    @property
    def config(self) -> Config | None:
        """The config calls use, once chosen."""
        return self._config

    def to_triton_code(self, config: Config | Mapping[str, Any] | None = None) -> str:
        """The generated Triton module for ``config`` (default: the chosen or default config)."""
        config = self._resolve(config)
        return self._generate(config)

    def compile_config(
        self, config: Config | Mapping[str, Any] | None = None
    ) -> Callable[..., Any]:
        """The host function for ``config``, which launches the kernel when called."""
        config = self._resolve(config)
        run = self._compiled.get(config)
        if run is None:
            run = self._launching(*self._host_function(config))
            self._compiled[config] = run
        return run

    def _launching(
        self, host: Callable[..., Any], code: str, keyed: bool = False
    ) -> Callable[..., Any]:
        """``host``, defined in ``code``, made to launch cheaply (``fast_launches``;
        ``keyed``: called only with arguments of this specialization's key)."""
        run = host
        if not self._interpreted:
            run = fast_launches(host, code, keyed)
        if self._bool_positions:
            run = _bools_as_ints(run, self._bool_positions)
        return run

    def _host_function(self, config: Config) -> tuple[Callable[..., Any], str]:
        """The generated host function for ``config`` and the module's code."""
        self._prepare_launch()
        code = self._generate(config)
        if self._interpreted and (self._bf16_args or "bfloat16" in code):
            _warn_bf16_once(self)
        if self._interpreted and "tl.float8" in code:
            raise exc.GPURequired(
                f"kernel '{self.fn.__name__}' computes in float8, which Triton's "
                "interpreter (TRITON_INTERPRET=1) cannot: run it on a GPU"
            )
        if self._interpreted and "tl.inline_asm_elementwise(" in code:
            raise exc.GPURequired(
                f"kernel '{self.fn.__name__}' runs GPU assembly "
                "(hl.inline_asm_elementwise"
                f"{_source_line_of(code, 'tl.inline_asm_elementwise(')}), which Triton's "
                "interpreter (TRITON_INTERPRET=1) cannot: run it on a GPU"
            )
        return getattr(load_module(code), self.fn.__name__), code

    def set_config(self, config: Config | Mapping[str, Any]) -> None:
        """Makes later calls use ``config``."""
        config = self.config_spec.normalize(config)
        self._run = self.compile_config(config)
        self._config = config
        self._keyed_run = None
        self.kernel._publish(self._key, self)

    def keyed_run(self) -> Callable[..., Any] | None:
        """The chosen config's host function for calls whose arguments were checked to have
        this specialization's key (the kernel's cached calls), whose launches then read
        less of them (see ``fast_launches``); None before a config is chosen."""
        if self._keyed_run is None and self._config is not None:
            host, code = self._host_function(self._config)
            self._keyed_run = self._launching(host, code, keyed=True)
        return self._keyed_run

    def autotune(self, args: Sequence[Any], *, force: bool = True) -> Config:
        """Searches for the best config for this specialization, uses it, and returns it.

        Runs the search even where calls would not (under Triton's
        interpreter, or with ``autotune_effort="none"``, which searches as
        "quick"). ``force=True`` also ignores the on-disk cache; with
        ``force=False`` a config already chosen or cached is used.
        """
        if self._config is not None and not force:
            return self._config
        args = self.kernel.normalize_args(*args)
        self.set_config(self._choose_config(args, explicit=True, force=force))
        assert self._config is not None
        return self._config

    def __call__(self, *args: Any) -> Any:
        run = self._run
        if run is None:
            return self._first_call(args)
        return run(*args)

    # --- internals ---------------------------------------------------------

    def _host_without_launches(self) -> Callable[..., Any]:
        """The host function with every Triton launch skipped, for fake tensors.

        Output sizes do not depend on the config: the chosen one is used when
        there is one, else the default (no search starts on fake tensors).
        """
        from triton.runtime import KernelInterface

        config = self._config if self._config is not None else self.config_spec.default_config()
        host = getattr(load_module(self._generate(config)), self.fn.__name__)
        namespace = {
            name: _SkippedLaunch() if isinstance(value, KernelInterface) else value
            for name, value in host.__globals__.items()
        }
        return types.FunctionType(host.__code__, namespace, host.__name__, host.__defaults__)

    def _resolve(self, config: Config | Mapping[str, Any] | None) -> Config:
        if config is None:
            config = self._config if self._config is not None else self.config_spec.default_config()
        return self.config_spec.normalize(config)

    def _generate(self, config: Config) -> str:
        code = self._code.get(config)
        if code is None:
            code = _call_core(self._core.generate, json.dumps(dict(config)))
            self._code[config] = code
            if self.settings.print_output_code:
                _stderr(code)
        return code

    def _on_gpu(self) -> bool:
        return any(device.type == "cuda" for device in self._devices)

    def _prepare_launch(self) -> None:
        if self._meta_args:
            raise exc.InvalidArgument(
                f"argument '{self._meta_args[0]}' of kernel '{self.fn.__name__}' is a tensor on "
                "the meta device: tensors on the meta device hold no data and cannot run a "
                "kernel; pass tensors on a real device (bind(args).to_triton_code() works with "
                "meta tensors)"
            )
        if self._on_gpu():
            _install_triton_allocator()
            return
        if self._devices and os.environ.get("TRITON_INTERPRET", "") != "1":
            raise exc.TritonInterpreterRequired(
                f"kernel '{self.fn.__name__}' got CPU tensors, which only Triton's interpreter "
                "can run: set TRITON_INTERPRET=1 in the environment before starting Python"
            )

    def _first_call(self, args: tuple[Any, ...]) -> Any:
        if self.settings.ref_mode == RefMode.EAGER:
            return self.run_ref(*args)
        if self._config is None:
            self.set_config(self._choose_config(args))
        assert self._config is not None and self._run is not None
        # Arguments of this specialization launch as cached calls will, so
        # that the kernel Triton compiles now is the one they find recorded.
        keyed = self.kernel._key(tuple(args)) == self._key
        run = self.keyed_run() if keyed else self._run
        assert run is not None
        return self._launch_checked(run, self._config, args)

    def _launch_checked(self, run: Callable[..., Any], config: Config, args: Sequence[Any]) -> Any:
        """Runs once, reporting Triton's rejection of the generated code as TritonError."""
        from triton.compiler.errors import CompilationError

        try:
            return run(*args)
        except CompilationError as error:
            raise exc.TritonError(
                f"Triton failed to compile kernel '{self.fn.__name__}' with {config!r}:\n"
                f"{error}\n\ngenerated code:\n{self._code.get(config, '')}"
            ) from None

    def _warn(self, warning: exc.BaseWarning, stacklevel: int = 6) -> None:
        if isinstance(warning, tuple(self.settings.ignore_warnings)):
            return
        # By default points at the user's call: _warn <- _choose_config <- _first_call <-
        # BoundKernel <- Kernel <- caller.
        warnings.warn(warning, stacklevel=stacklevel)

    def _choose_config(
        self, args: tuple[Any, ...], *, explicit: bool = False, force: bool = False
    ) -> Config:
        """Where the config for a new specialization is decided.

        One given config is used as is. Several given configs are timed (on a
        GPU, or when asked to autotune). Otherwise ``autotuner_fn`` decides
        when given; then ``autotune_effort="none"`` means the default config;
        else on a GPU the cached config or a search. Under Triton's
        interpreter a search is far too slow to start unasked: the default
        config is used unless ``force_autotune`` is set or ``autotune()`` was
        called.
        """
        from .. import autotuner

        configs = self.kernel.configs
        searching = explicit or self.settings.force_autotune or self._on_gpu()
        if len(configs) == 1:
            return configs[0]
        if configs:
            if not searching:
                return configs[0]
            return autotuner.autotune(self, args, configs=configs)
        if self.settings.autotuner_fn is not None:
            return self._run_autotuner_fn(args)
        default = self.config_spec.default_config()
        if self.settings.autotune_effort == "none" and not explicit:
            self.kernel._announce_default(default)
            return default
        if not searching:
            self._warn(
                exc.AutotuningUnavailable(
                    f"kernel '{self.fn.__name__}' uses the default config {default!r}: "
                    "autotuning under Triton's interpreter is far too slow to start by "
                    "default. Call kernel.autotune(args) or set force_autotune=True to search "
                    "anyway, pass config=/configs= to @helion.kernel to choose, or set "
                    "autotune_effort='none' (HELION_AUTOTUNE_EFFORT=none) to silence this warning"
                )
            )
            return default
        return autotuner.autotune(self, args, use_cache=not (explicit and force))

    def _run_autotuner_fn(self, args: tuple[Any, ...]) -> Config:
        result = self.settings.autotuner_fn(self, args)
        if hasattr(result, "autotune"):
            result = result.autotune()
        return _as_config(result)

    # --- Helion's other BoundKernel attributes --------------------------------------------

    @property
    def configs(self) -> list[Config]:
        """The configs given to ``@helion.kernel``."""
        return self.kernel.configs

    def run_ref(self, *args: Any) -> Any:
        """Runs the kernel's body eagerly in PyTorch (ref mode) on ``args``.

        Tunables read the chosen config, else the kernel's one given config.
        """
        config = self._config
        if config is None:
            config = self.configs[0] if len(self.configs) == 1 else Config()
        return ref_mode.run(self.fn, self.kernel.name, self.kernel.normalize_args(*args), config)

    def to_code(self, config: Config | Mapping[str, Any] | None = None) -> str:
        """The generated module for ``config`` (Helion's newer name of ``to_triton_code``)."""
        return self.to_triton_code(config)

    def format_kernel_decorator(self, config: Config, settings: Settings) -> str:
        """The decorator line that fixes ``config`` for this kernel."""
        return f"@helion.kernel(config={config!r}, static_shapes={settings.static_shapes})"

    def get_cached_path(self, config: Config | Mapping[str, Any] | None = None) -> str | None:
        """The file holding the generated module for ``config`` once it has been compiled
        in this process (default: the chosen config), else None."""
        if config is None and self._config is None:
            return None
        config = self._resolve(config)
        if config not in self._compiled:
            return None
        return str(module_path(self._code[config]))

    def ensure_config_exists(self, args: Sequence[Any]) -> None:
        """Chooses the config for calls (as a first call would) unless one is chosen."""
        if self._config is None:
            args = self.kernel.normalize_args(*args)
            self.set_config(self._choose_config(args))

    env = _helion_internal(
        "env", "Helion's compile environment", "use bound.settings and bound.config_spec"
    )
    host_function = _helion_internal(
        "host_function",
        "Helion's traced host function",
        "use bound.to_code() to read the host code",
    )
    fake_args = _helion_internal(
        "fake_args", "Helion's fake tensors", "keep the arguments you passed to bind()"
    )
    backend_cache_key = _helion_internal(
        "backend_cache_key", "a key of Helion's Triton cache", "use kernel.specialization_key(args)"
    )
    extra_cache_key = _helion_internal(
        "extra_cache_key", "a key of Helion's autotune cache", "use kernel.specialization_key(args)"
    )
    is_cacheable = _helion_internal(
        "is_cacheable", "an autotune-cache query", "every specialization's best config is cached"
    )
    maybe_log_repro = _helion_internal(
        "maybe_log_repro", "print_repro's logging", "use print_output_code=True"
    )
    supports_subprocess_benchmark = _helion_internal(
        "supports_subprocess_benchmark",
        "a benchmarking query",
        "candidates are timed in this process",
    )
    bench_compile_config = _helion_internal(
        "bench_compile_config", "the autotuner's compile step", "use bound.compile_config(config)"
    )


@overload
def kernel(fn: types.FunctionType, /) -> Kernel: ...


@overload
def kernel(
    fn: None = None,
    /,
    *,
    config: Config | Mapping[str, Any] | None = None,
    configs: Sequence[Config | Mapping[str, Any]] | None = None,
    settings: Settings | None = None,
    **setting_values: Any,
) -> Callable[[types.FunctionType], Kernel]: ...


def kernel(
    fn: types.FunctionType | None = None,
    /,
    *,
    config: Config | Mapping[str, Any] | None = None,
    configs: Sequence[Config | Mapping[str, Any]] | None = None,
    settings: Settings | None = None,
    **setting_values: Any,
) -> Kernel | Callable[[types.FunctionType], Kernel]:
    """Compiles a function to one Triton kernel.

    Forms: ``@helion.kernel``, ``@helion.kernel()``, ``@helion.kernel(config=...)``,
    ``@helion.kernel(configs=[...])``, plus any setting by keyword
    (``static_shapes=False``, ``autotune_effort="none"``, ...).
    """
    if config is not None and configs is not None:
        raise exc.InvalidConfig(
            "@helion.kernel takes config= or configs=, not both; pass one config as config= "
            "or several as configs=[...]"
        )
    chosen = [config] if config is not None else list(configs or ())
    if settings is None:
        settings = Settings(**setting_values)
    elif setting_values:
        settings = Settings(**{**settings.to_dict(), **setting_values})

    def decorate(function: types.FunctionType) -> Kernel:
        return Kernel(function, configs=chosen, settings=settings)

    if fn is None:
        return decorate
    return decorate(fn)
