"""Kernels inside ``torch.compile``: every call is one opaque custom operator.

Dynamo cannot trace a kernel's Python (it reads source files, calls the
compiler, launches Triton), so under ``torch.compile`` a call becomes one
``torch.library`` operator, ``helion::run_kernel_<n>`` (``_writing`` when the
kernel may write an argument), shared by all kernels that return ``n`` new
tensors. Its arguments are the call's tensors (those the kernel may write in
their own list, which the schema declares mutated), ints and floats, plus a
key: the kernel's number and the call's layout, with every argument that is
a compile-time constant (None, bools, strings, dtypes, constexprs) spelled
out. Running the operator calls the kernel as usual; its fake version runs
the kernel's generated host code on fake tensors with the launches skipped,
so output shapes (symbolic ones included) come from our own shape
propagation.

The operator may return only new tensors: a returned parameter is put back
by the caller's side (``graph_call``), and any other alias of an argument is
an error.
"""

from __future__ import annotations

import ast
import itertools
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from .. import exc
from .. import language as hl

if TYPE_CHECKING:
    from .kernel import Kernel

_kernels: weakref.WeakValueDictionary[int, Kernel] = weakref.WeakValueDictionary()
_numbers = itertools.count()

# Layout tokens, one per parameter, joined by a character repr() never prints.
_SEPARATOR = "\x1f"
_WRITTEN, _TENSOR, _INT, _FLOAT = "W", "T", "I", "F"
_NONE, _TRUE, _FALSE, _CONSTANT, _CONSTEXPR, _DTYPE = "N", "b", "B", "C", "K", "D"
_DTYPE_NAMES = {
    value: name for name, value in vars(torch).items() if isinstance(value, torch.dtype)
}


def register(kernel: Kernel) -> int:
    """The number by which the operators find ``kernel``."""
    number = next(_numbers)
    _kernels[number] = kernel
    return number


# ---------------------------------------------------------------------------
# The caller's side, traced by Dynamo: plain Python on the call's arguments.


def graph_call(kernel: Kernel, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``kernel(*args, **kwargs)`` as Dynamo records it: one ``helion::run_kernel`` call."""
    facts = kernel._graph_facts
    if facts is None:
        raise exc.CompileError(kernel._graph_facts_error)
    values = _positional(kernel, args, kwargs)
    written: list[torch.Tensor] = []
    tensors: list[torch.Tensor] = []
    ints: list[int] = []
    floats: list[float] = []
    tokens = [str(kernel._graph_number)]
    for name, value, by_value in zip(kernel._param_names, values, kernel._constexpr):
        if isinstance(value, torch.Tensor):
            if name in facts.written:
                written.append(value)
                tokens.append(_WRITTEN)
            else:
                tensors.append(value)
                tokens.append(_TENSOR)
        elif value is None:
            tokens.append(_NONE)
        elif type(value) is bool:
            tokens.append(_TRUE if value else _FALSE)
        elif isinstance(value, hl.constexpr):
            tokens.append(_CONSTEXPR + repr(value.value))
        elif isinstance(value, torch.dtype):
            tokens.append(_DTYPE + _DTYPE_NAMES[value])
        elif by_value or isinstance(value, str):
            tokens.append(_CONSTANT + repr(value))
        elif isinstance(value, int):
            ints.append(value)
            tokens.append(_INT)
        elif isinstance(value, float):
            floats.append(value)
            tokens.append(_FLOAT)
        else:
            raise exc.InvalidArgument(
                f"argument '{name}' of kernel '{kernel.name}' is a {type(value).__name__}: "
                "inside torch.compile a kernel takes tensors, ints, floats, bools, None, "
                "strings, dtypes and constexprs; pass one of those"
            )
    key = _SEPARATOR.join(tokens)
    if facts.written:
        returned = kernel._graph_operator(key, written, tensors, ints, floats)
    else:
        returned = kernel._graph_operator(key, tensors, ints, floats)
    outputs = returned if isinstance(returned, tuple) else (returned,)
    if facts.returns is None:
        return None
    by_name = dict(zip(kernel._param_names, values))
    results = []
    fresh = 0
    for parameter in facts.returns:
        if parameter is None:
            results.append(outputs[fresh])
            fresh += 1
        else:
            results.append(by_name[parameter])
    return tuple(results) if facts.returns_tuple else results[0]


def _positional(kernel: Kernel, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    names = kernel._param_names
    if len(args) > len(names):
        raise TypeError(
            f"{kernel.name}() takes {len(names)} positional arguments but {len(args)} were given"
        )
    values = list(args)
    for name in names[len(args) :]:
        if name in kwargs:
            values.append(kwargs[name])
        elif name in kernel._defaults:
            values.append(kernel._defaults[name])
        else:
            raise TypeError(f"{kernel.name}() missing required argument: '{name}'")
    for name in kwargs:
        if name not in names or names.index(name) < len(args):
            raise TypeError(f"{kernel.name}() got an unexpected or repeated argument '{name}'")
    return values


# ---------------------------------------------------------------------------
# The operator's side: real and fake runs.


def operator(outputs: int, writes: bool) -> Any:
    """The operator for kernels returning ``outputs`` new tensors, declaring writes or not.

    One operator per count, because functionalization supports a mutating
    operator only when it returns single tensors (no ``Tensor[]``). Made
    when a kernel is made, never while Dynamo traces.
    """
    key = (outputs, writes)
    found = _operators.get(key)
    if found is None:
        found = _define_operator(outputs, writes)
        _operators[key] = found
    return found


_operators: dict[tuple[int, bool], Any] = {}


def _define_operator(outputs: int, writes: bool) -> Any:
    name = f"helion::run_kernel_{outputs}" + ("_writing" if writes else "")
    written = "Tensor(a!)[] written, " if writes else ""
    returns = "()" if outputs == 0 else "(" + ", ".join(["Tensor"] * outputs) + ")"
    schema = f"(str key, {written}Tensor[] tensors, SymInt[] ints, float[] floats) -> {returns}"

    def run(key: str, *lists: Any) -> Any:
        kernel, args = _arguments(key, *_with_written(writes, lists))
        return _as_returned(_fresh_outputs(kernel, args, kernel._call_eager(args)))

    def fake(key: str, *lists: Any) -> Any:
        kernel, args = _arguments(key, *_with_written(writes, lists))
        return _as_returned(_fresh_outputs(kernel, args, kernel._call_fake(args)))

    defined = torch.library.custom_op(
        name, run, mutates_args=("written",) if writes else (), schema=schema
    )
    defined.register_fake(fake)
    return getattr(torch.ops.helion, name.split("::")[1]).default


def _with_written(writes: bool, lists: tuple[Any, ...]) -> tuple[Any, ...]:
    return lists if writes else ([], *lists)


def _as_returned(fresh: list[torch.Tensor]) -> Any:
    if not fresh:
        return None
    return fresh[0] if len(fresh) == 1 else tuple(fresh)


def _arguments(
    key: str,
    written: Sequence[torch.Tensor],
    tensors: Sequence[torch.Tensor],
    ints: Sequence[int],
    floats: Sequence[float],
) -> tuple[Kernel, tuple[Any, ...]]:
    number, *tokens = key.split(_SEPARATOR)
    kernel = _kernels[int(number)]
    sources = {
        _WRITTEN: iter(written),
        _TENSOR: iter(tensors),
        _INT: iter(ints),
        _FLOAT: iter(floats),
    }
    return kernel, tuple(_argument(token, sources) for token in tokens)


def _argument(token: str, sources: dict[str, Any]) -> Any:
    kind, text = token[0], token[1:]
    if kind in sources:
        return next(sources[kind])
    if kind == _CONSTANT:
        return ast.literal_eval(text)
    if kind == _CONSTEXPR:
        return hl.constexpr(ast.literal_eval(text))
    if kind == _DTYPE:
        return getattr(torch, text)
    return {_NONE: None, _TRUE: True, _FALSE: False}[kind]


def _fresh_outputs(kernel: Kernel, args: tuple[Any, ...], result: Any) -> list[torch.Tensor]:
    """The tensors the kernel made, checked against the return shape its source promised."""
    facts = kernel._graph_facts
    assert facts is not None
    if facts.returns is None:
        if result is not None:
            raise _return_error(kernel, f"returned a {type(result).__name__}")
        return []
    values = result if facts.returns_tuple else (result,)
    if facts.returns_tuple and (not isinstance(result, tuple) or len(result) != len(facts.returns)):
        raise _return_error(kernel, "returned something else than its return statement's tuple")
    by_name = dict(zip(kernel._param_names, args))
    fresh = []
    for value, parameter in zip(values, facts.returns):
        if parameter is not None:
            continue
        if not isinstance(value, torch.Tensor):
            raise _return_error(kernel, f"returned a {type(value).__name__}")
        for name, arg in by_name.items():
            if isinstance(arg, torch.Tensor) and torch._C._is_alias_of(value, arg):
                raise _return_error(
                    kernel,
                    f"returned a view of argument '{name}' (an operator's outputs must be new "
                    f"tensors); return '{name}' itself, or a new tensor",
                )
        fresh.append(value)
    return fresh


def _return_error(kernel: Kernel, what: str) -> exc.InvalidArgument:
    return exc.InvalidArgument(
        f"kernel '{kernel.name}' {what} inside torch.compile, where a kernel returns None, "
        "a tensor, or a tuple of tensors, each new or one of its tensor arguments"
    )
