"""What the compiler core is told about a kernel and its arguments.

The request is the JSON document described in ``src/pipeline/Compile.h``;
the specialization key decides when two calls can share a compiled kernel.
"""

from __future__ import annotations

import ast
import dis
import functools
import inspect
import os
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import torch

from .. import exc
from .. import language as hl

if TYPE_CHECKING:
    from .._settings import Settings


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def is_constexpr_annotation(annotation: Any) -> bool:
    if annotation is hl.constexpr:
        return True
    # Under `from __future__ import annotations` the annotation is its text.
    return isinstance(annotation, str) and annotation.split(".")[-1] == "constexpr"


# ---------------------------------------------------------------------------
# Text the compiler can read: no unpaired surrogates, which have no UTF-8 form

_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(character: str) -> str:
    return f"\\u{ord(character):04x}"


def check_source_text(kernel_name: str, source: SourceInfo) -> None:
    """Raises UnsupportedSyntax, pointing at it, for an unpaired surrogate in the source."""
    match = _SURROGATE.search(source.source)
    if match is None:
        return
    before = source.source[: match.start()]
    line_index = before.count("\n")
    line = source.source.split("\n")[line_index]
    column = match.start() - (before.rfind("\n") + 1)

    def shown(text: str) -> str:
        return text.encode("utf-8", "backslashreplace").decode()

    escape = _escape(match.group())
    raise exc.UnsupportedSyntax(
        f"UnsupportedSyntax in kernel '{kernel_name}' at {source.filename}:"
        f"{source.first_line + line_index}:\n"
        f"    {shown(line)}\n"
        f"    {' ' * len(shown(line[:column]))}{'^' * len(escape)}\n"
        f"the source holds the unpaired surrogate U+{ord(match.group()):04X}, which is not "
        f"valid text; write it as the escape '{escape}' instead"
    )


@functools.lru_cache(maxsize=32)
def _definition_spans(text: str) -> dict[tuple[str, int], tuple[int, int]] | None:
    """(name, first line) -> (first line, last line) of every function defined in
    ``text``; None when ``text`` does not parse.

    A decorated function's first line is its first decorator's, as in
    ``co_firstlineno``; it is also recorded under its ``def`` line.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            end = node.end_lineno or node.lineno
            spans.setdefault((node.name, node.lineno), (start, end))
            spans[(node.name, start)] = (start, end)
    return spans


class SourceInfo:
    """The kernel function's source and where it lives, read once per kernel.

    The source is the function's ``def`` with its decorators, found in the
    parsed file by its first line (``co_firstlineno``) and name: nothing the
    decorators hold (a lambda, say) is taken for the kernel, and a file
    changed since it ran is an error rather than another function compiled.
    """

    def __init__(self, fn: types.FunctionType) -> None:
        code = fn.__code__
        self.filename = inspect.getsourcefile(fn) or code.co_filename
        file_lines, _ = inspect.findsource(fn)
        # An unpaired surrogate (reported later, with its place) must not hide the definition.
        spans = _definition_spans(_SURROGATE.sub("\ufffd", "".join(file_lines)))
        if spans is None:
            # The file changed since it ran and no longer parses as a whole:
            # the block inspect finds, if it is the definition.
            lines, first = inspect.getsourcelines(fn)
            source = textwrap.dedent("".join(lines))
            if (code.co_name, 1) not in (_definition_spans(_SURROGATE.sub("\ufffd", source)) or {}):
                raise OSError(f"the source of {code.co_name} in {self.filename} does not parse")
        else:
            span = spans.get((code.co_name, code.co_firstlineno))
            if span is None:
                raise OSError(
                    f"no definition `def {code.co_name}` starts at line "
                    f"{code.co_firstlineno} of {self.filename}"
                )
            first, last = span
            source = textwrap.dedent("".join(file_lines[first - 1 : last]))
        self.source = source
        self.first_line = first


def function_source(fn: Callable[..., Any]) -> str | None:
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None


# ---------------------------------------------------------------------------
# Globals


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def _bound_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_varnames
    yield from code.co_cellvars
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _bound_names(const)


def _closure_values(fn: types.FunctionType) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # a cell not bound yet
            continue
    return values


# The attribute of a ``helion.Kernel`` holding its function, read here
# without importing the kernel (which imports this module).
KERNEL_FUNCTION_ATTRIBUTE = "_helion_kernel_function"


def _global_reads(code: types.CodeType) -> Iterator[str]:
    """The global names ``code`` (and the code nested in it) reads."""
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            yield instruction.argval
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _global_reads(const)


def _jit_function(value: Any) -> types.FunctionType | None:
    """The Python function of a ``@triton.jit`` function, or None for anything else."""
    if "triton.runtime.jit" not in sys.modules:
        return None
    from triton.runtime.jit import KernelInterface

    # Under TRITON_INTERPRET=1 the decorator makes an InterpretedFunction,
    # else a JITFunction: both keep the Python function as ``fn``.
    fn = getattr(value, "fn", None)
    if isinstance(value, KernelInterface) and isinstance(fn, types.FunctionType):
        return fn
    return None


def _describe_triton_function(fn: types.FunctionType, with_reads: bool) -> dict[str, Any]:
    described: dict[str, Any] = {
        "kind": "triton_function",
        "name": fn.__name__,
        "source": function_source(fn),
    }
    if with_reads:
        reads = {}
        for name in sorted(set(_global_reads(fn.__code__))):
            if name in fn.__globals__:
                value = fn.__globals__[name]
                inner = _jit_function(value)
                reads[name] = (
                    _describe_triton_function(inner, with_reads=False)
                    if inner is not None
                    else describe_global(value)
                )
        described["reads"] = reads
    return described


def describe_global(value: Any) -> dict[str, Any]:
    from ..autotuner.fragments import Fragment

    jit_fn = _jit_function(value)
    if jit_fn is not None:
        return _describe_triton_function(jit_fn, with_reads=True)
    if isinstance(value, types.ModuleType):
        return {"kind": "module", "name": value.__name__}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"kind": "constant", "value": value}
    if isinstance(value, torch.dtype):
        return {"kind": "dtype", "name": dtype_name(value)}
    # A helion kernel (helion.Kernel) is described by the function it compiles.
    value = getattr(value, KERNEL_FUNCTION_ATTRIBUTE, value)
    if isinstance(value, Fragment):
        return {"kind": "fragment", "fragment": value.describe()}
    if isinstance(value, type) and issubclass(value, Fragment):
        return {"kind": "fragment_class", "name": value.__name__}
    if isinstance(value, types.FunctionType):
        return {
            "kind": "function",
            "name": value.__qualname__,
            "module": value.__module__,
            "source": function_source(value),
        }
    return {"kind": "object", "type": type(value).__name__}


def describe_globals(fn: types.FunctionType) -> dict[str, dict[str, Any]]:
    """Every name the kernel's code may read from outside, described.

    Names that resolve to Python builtins are left out: the compiler knows
    the builtins it supports, and a global of the same name shadows them here
    as it would in Python. Attribute names (``x.size``) that happen to match
    no global are skipped the same way.
    """
    described: dict[str, dict[str, Any]] = {}
    # Helper functions the device code calls are inlined from their source,
    # so the names they read are described too (one namespace for all: a name
    # the kernel binds wins over a helper's global of the same name).
    pending: list[types.FunctionType] = [fn]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        closure = _closure_values(current)
        namespaces = (closure, current.__globals__)
        for name in sorted(set(_code_names(current.__code__)) | set(closure)):
            if not name.isidentifier() or name in described:
                continue  # e.g. "@py_builtins" from pytest's assert rewriting
            for namespace in namespaces:
                if name in namespace:
                    value = namespace[name]
                    described[name] = describe_global(value)
                    if isinstance(value, types.FunctionType) and described[name].get("source"):
                        pending.append(value)
                    break
    return described


# ---------------------------------------------------------------------------
# Callables passed as arguments (epilogues, score modifiers): inlined into the
# device code from their source, with what they capture described


@functools.lru_cache(maxsize=32)
def _lambda_spans(text: str) -> tuple[tuple[int, int, int, int, str], ...]:
    """(first line, first column, last line, end column, source) of every lambda in ``text``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return ()
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and node.end_lineno is not None:
            segment = ast.get_source_segment(text, node)
            if segment is not None:
                spans.append(
                    (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset or 0, segment)
                )
    return tuple(spans)


def _lambda_source(fn: types.FunctionType) -> str | None:
    """The text of lambda ``fn`` (``lambda acc, tile: acc + 1``), found in its file.

    Several lambdas may start on one line: the innermost one whose span holds
    where the lambda's own code is takes it.
    """
    try:
        file_lines, _ = inspect.findsource(fn)
    except (OSError, TypeError):
        return None
    code = fn.__code__
    positions = getattr(code, "co_positions", None)  # Python 3.11+
    places = [
        (line, column)
        for line, _, column, end_column in (positions() if positions else ())
        # Bookkeeping instructions have empty spans at column 0.
        if line is not None and column is not None and end_column != column
    ]
    best: tuple[int, str] | None = None
    for first, first_col, last, last_col, segment in _lambda_spans("".join(file_lines)):
        if first != code.co_firstlineno:
            continue
        inside = all((first, first_col) <= place <= (last, last_col) for place in places)
        size = (last - first) * 100000 + last_col - first_col
        if inside and (best is None or size < best[0]):
            best = (size, segment)
    return None if best is None else best[1]


@functools.lru_cache(maxsize=256)
def _read_names(code: types.CodeType) -> tuple[str, ...]:
    """The outside names ``code`` may read: its closure's, then the globals it names."""
    names = sorted({n for n in _code_names(code) if n.isidentifier()} - set(code.co_freevars))
    return (*code.co_freevars, *names)


def _captures(fn: types.FunctionType) -> Iterator[tuple[str, str, int | str, Any]]:
    """(name, "cell" or "global", cell index or name, value) of each value ``fn`` reads
    from outside: its closure's cells, then the globals its code names."""
    code = fn.__code__
    cells = fn.__closure__ or ()
    for index, name in enumerate(code.co_freevars):
        try:
            yield name, "cell", index, cells[index].cell_contents
        except ValueError:  # a cell not bound yet
            continue
    for name in _read_names(code)[len(code.co_freevars) :]:
        if name in fn.__globals__:
            yield name, "global", name, fn.__globals__[name]


_MAX_CALLABLE_DEPTH = 8


def describe_callable(fn: types.FunctionType, depth: int = 0) -> dict[str, Any]:
    """A function or lambda passed to the kernel: its source and what it captures.

    Tensors and scalars it captures are read from it by the host code at each
    launch (``where``: a closure cell's index, or a global's name); functions
    it calls are described the same way.
    """
    is_lambda = fn.__name__ == "<lambda>"
    captures: dict[str, dict[str, Any]] = {}
    for name, where, at, value in _captures(fn):
        if name in captures:
            continue
        if isinstance(value, torch.Tensor):
            described = _describe_tensor(name, value)
        elif isinstance(value, types.FunctionType) and depth < _MAX_CALLABLE_DEPTH:
            described = {"kind": "callable", **describe_callable(value, depth + 1)}
        elif where == "cell" and (value is None or isinstance(value, (bool, int, float, str))):
            described = {**_describe_value(name, value, False), "type": _type_name(value)}
        else:
            described = describe_global(value)
        captures[name] = {**described, where: at}
    return {
        "qualname": fn.__qualname__,
        "function_name": fn.__name__,
        "is_lambda": is_lambda,
        "source": _lambda_source(fn) if is_lambda else function_source(fn),
        "captures": captures,
    }

# ---------------------------------------------------------------------------
# Arguments


def _type_name(value: Any) -> str:
    """``type(value)``'s name as Python users know it: ``int``, ``NoneType``, ``numpy.ndarray``."""
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def describe_arg(name: str, value: Any, is_constexpr: bool) -> dict[str, Any]:
    """The argument as the request describes it; non-tensors carry their Python type."""
    if isinstance(value, torch.Tensor):
        return _describe_tensor(name, value)
    if isinstance(value, types.FunctionType) and not is_constexpr:
        return {"name": name, "kind": "callable", "type": "function", **describe_callable(value)}
    shown = value.value if isinstance(value, hl.constexpr) else value
    return {**_describe_value(name, value, is_constexpr), "type": _type_name(shown)}


def _describe_tensor(name: str, value: torch.Tensor) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "tensor",
        "dtype": dtype_name(value.dtype),
        "shape": list(value.shape),
        "stride": list(value.stride()),
        "device": str(value.device),
    }


def _describe_value(name: str, value: Any, is_constexpr: bool) -> dict[str, Any]:
    if isinstance(value, hl.constexpr):
        return {"name": name, "kind": "constexpr", "value": value.value}
    if is_constexpr:
        return {"name": name, "kind": "constexpr", "value": value}
    if isinstance(value, bool):
        return {"name": name, "kind": "bool"}
    if isinstance(value, int):
        # The value is only a hint (e.g. for block size limits): ints stay kernel arguments.
        return {"name": name, "kind": "int", "value": value}
    if isinstance(value, float):
        return {"name": name, "kind": "float"}
    if value is None or isinstance(value, str):
        return {"name": name, "kind": "constexpr", "value": value}
    if isinstance(value, torch.dtype):
        return {"name": name, "kind": "dtype", "dtype": dtype_name(value)}
    return {"name": name, "kind": "object"}


def build_request(
    fn: types.FunctionType,
    source: SourceInfo,
    param_names: list[str],
    constexpr_params: list[bool],
    args: tuple[Any, ...],
    settings: Settings,
) -> dict[str, Any]:
    check_source_text(fn.__name__, source)
    described_args = [
        describe_arg(name, value, is_constexpr)
        for name, value, is_constexpr in zip(param_names, args, constexpr_params)
    ]
    described_globals = describe_globals(fn)
    return {
        "kernel_name": fn.__name__,
        "filename": source.filename,
        "first_line": source.first_line,
        "source": source.source,
        "args": described_args,
        "globals": described_globals,
        # As Python spells them: a name the source writes with other Unicode
        # characters may read as an ASCII name the generated code uses.
        "names": sorted(set(_bound_names(fn.__code__))),
        "settings": {
            "static_shapes": settings.static_shapes,
            # None: the compiler chooses from every tensor the kernel touches.
            "index_dtype": settings.index_dtype,
            "dot_precision": settings.dot_precision,
            "persistent_reserved_sms": settings.persistent_reserved_sms,
            "target": "interpreter" if os.environ.get("TRITON_INTERPRET") == "1" else "cuda",
        },
    }


# ---------------------------------------------------------------------------
# Specialization


def _value_key(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return (type(value), value)


def make_key_function(
    constexpr_params: list[bool], static_shapes: bool
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function from call arguments to a hashable specialization key.

    Tensors contribute dtype, device and rank, plus (with static shapes) the
    exact sizes and strides, or else sizes bucketed to 0/1/>=2 and whether the
    last dimension is contiguous. Scalars contribute their type; constexpr
    parameters their value.

    Every cached call computes the key, so with static shapes it is one
    expression made for the kernel's parameters, reading a plain tensor's
    metadata inline; anything else goes through the general function.
    """
    general = _general_key_function(constexpr_params, static_shapes)
    if not static_shapes:
        return general
    names = [f"a{i}" for i in range(len(constexpr_params))]
    # A plain scalar passed by value is keyed by its type (see _argument_key),
    # read inline: scalars are most of what is not a tensor.
    parts = "".join(
        f"({name}.dtype, {name}.device, {name}.shape, {name}.stride()) "
        f"if type({name}) is Tensor else "
        + ("" if by_value else f"type({name}) if type({name}) in plain_scalars else ")
        + f"one({name}, {by_value}), "
        for name, by_value in zip(names, constexpr_params)
    )
    text = (
        "def key(args):\n"
        f"    if len(args) != {len(names)}:\n"
        "        return general(args)\n"
        f"    {''.join(name + ', ' for name in names)}= args\n"
        f"    return ({parts})\n"
    )
    namespace = {
        "Tensor": torch.Tensor,
        "plain_scalars": frozenset((int, float, bool)),
        "general": general,
        "one": functools.partial(_argument_key, static_shapes=True, size_classes={}),
    }
    exec(compile(text, "<helion specialization key>", "exec"), namespace)
    return namespace["key"]


def make_guard(
    args: tuple[Any, ...], constexpr_params: list[bool], run: Callable[..., Any]
) -> Callable[[tuple[Any, ...]], Callable[..., Any] | None] | None:
    """A check that later arguments have ``args``' specialization key, cheaper than the key.

    It returns ``run`` when they pass and None otherwise. Passing implies an
    equal key (the check may be stricter): each tensor must match its
    counterpart in ``args`` in dtype, device, sizes, strides, type,
    requires_grad and dispatch keys, which torch's tensor guard checks in
    C++; plain scalars their type, None itself. None when ``args`` hold
    anything else (constexpr values, callables, ...): those calls compute
    the key.
    """
    try:
        from torch._C._dynamo.guards import TensorGuards
    except ImportError:
        return None
    names = [f"a{i}" for i in range(len(args))]
    namespace: dict[str, Any] = {"run": run}
    checks: list[str] = []
    for name, arg, by_value in zip(names, args, constexpr_params):
        if type(arg) is torch.Tensor:
            # One guard per tensor: torch's guard of several tensors fails
            # when one tensor is passed twice, as in add(x, x).
            try:
                guard = TensorGuards(arg, dynamic_dims_sizes=None, dynamic_dims_strides=None)
            except Exception:  # another torch's signature: calls compute the key
                return None
            namespace[f"check_{name}"] = guard.check
            checks.append(f"check_{name}({name})")
        elif by_value:
            return None
        elif arg is None:
            checks.append(f"{name} is None")
        elif type(arg) in (int, float, bool):
            checks.append(f"type({name}) is {type(arg).__name__}")
        else:
            return None
    if not checks:
        return None
    text = (
        "def guard(args):\n"
        f"    if len(args) == {len(names)}:\n"
        f"        {''.join(name + ', ' for name in names)}= args\n"
        f"        if {' and '.join(checks)}:\n"
        "            return run\n"
        "    return None\n"
    )
    exec(compile(text, "<helion specialization guard>", "exec"), namespace)
    return namespace["guard"]


def _tensor_key(t: torch.Tensor, static_shapes: bool) -> tuple[Any, ...]:
    if static_shapes:
        return (t.dtype, t.device, t.shape, t.stride())
    shape = t.shape
    last_contiguous = len(shape) == 0 or t.stride(-1) == 1
    return (t.dtype, t.device, tuple(s if s < 2 else 2 for s in shape), last_contiguous)


def _argument_key(
    arg: Any, by_value: bool, *, static_shapes: bool, size_classes: dict[int, int]
) -> Any:
    """One argument's part of the key. Without static shapes, equal sizes
    share one symbol in the compiled kernel (so `x[tile, :] * w[:]`
    type-checks): which sizes are equal is part of the key, numbered in
    ``size_classes`` across the call's arguments."""
    if isinstance(arg, torch.Tensor):
        if static_shapes:
            return _tensor_key(arg, True)
        classes = tuple(size_classes.setdefault(s, len(size_classes)) for s in arg.shape if s >= 2)
        return (*_tensor_key(arg, False), classes)
    if by_value:
        return _value_key(arg)
    if isinstance(arg, hl.constexpr):
        return (hl.constexpr, _value_key(arg.value))
    if arg is None or isinstance(arg, (str, torch.dtype)):
        return _value_key(arg)
    if type(arg) is types.FunctionType:
        return _callable_key(arg, static_shapes)
    return type(arg)


def _callable_key(fn: types.FunctionType, static_shapes: bool, depth: int = 0) -> tuple[Any, ...]:
    """A callable argument's part of the key: its code, not the object, so a
    lambda made anew at each call (same code, same kinds of captures) reuses
    the compiled kernel."""
    parts: list[Any] = [fn.__code__, _value_key(fn.__defaults__)]
    for _, where, _, value in _captures(fn):
        if isinstance(value, torch.Tensor):
            parts.append(_tensor_key(value, static_shapes))
        elif isinstance(value, types.FunctionType):
            nested = depth < _MAX_CALLABLE_DEPTH
            parts.append(_callable_key(value, static_shapes, depth + 1) if nested else value)
        elif where == "cell" and isinstance(value, (bool, int, float)):
            parts.append(type(value))  # a closure's scalars are read at each launch
        else:
            parts.append(_value_key(value))
    return tuple(parts)


def _general_key_function(
    constexpr_params: list[bool], static_shapes: bool
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    def key(args: tuple[Any, ...]) -> tuple[Any, ...]:
        size_classes: dict[int, int] = {}
        return tuple(
            _argument_key(arg, by_value, static_shapes=static_shapes, size_classes=size_classes)
            for arg, by_value in zip(args, constexpr_params)
        )

    return key
