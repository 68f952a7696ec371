"""What a kernel does to its arguments and what it returns, read from its source.

``torch.compile`` sees a kernel as one opaque operator, which must declare
the tensors it writes (functionalization copies or re-inplaces them) and may
return only tensors that are new or are its arguments unchanged in identity.
Both facts come from the kernel's syntax tree, once per kernel.

The analysis over-approximates writes: a parameter is taken as written
unless every use of it (and of every name that may alias it) is a read.
Declaring a tensor written that is not costs at most a copy; missing a write
would let the compiled program read stale data.
"""

from __future__ import annotations

import ast
import dataclasses
import types
from collections.abc import Iterable

# Attribute reads and method calls that look at a tensor's metadata only.
_METADATA_ATTRIBUTES = frozenset(
    {"shape", "dtype", "device", "ndim", "is_cuda", "layout", "requires_grad", "itemsize"}
)
_METADATA_METHODS = frozenset(
    {
        "size",
        "stride",
        "dim",
        "numel",
        "nelement",
        "element_size",
        "is_contiguous",
        "is_floating_point",
        "get_device",
        "data_ptr",
        "storage_offset",
    }
)
# Calls whose result is a new tensor and which read no tensor data.
_FRESH_FUNCTIONS = frozenset(
    {
        "empty_like",
        "zeros_like",
        "ones_like",
        "full_like",
        "rand_like",
        "randn_like",
        "randint_like",
        "empty",
        "zeros",
        "ones",
        "full",
        "empty_strided",
        "new_empty",
        "new_zeros",
        "new_ones",
        "new_full",
    }
)
# Device-loop functions of ``hl`` that write their first argument.
_WRITING_HL_FUNCTIONS = ("store", "atomic_")
_LOOP_FUNCTIONS = frozenset({"tile", "grid"})
# Expressions with a scope of their own, and definitions with their own returns.
_SCOPES = (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
# Modules whose functions write a tensor argument only through ``out=`` or a
# name ending in ``_`` (torch's in-place convention).
_LIBRARY_MODULE_PREFIXES = ("torch", "helion", "math", "triton")


@dataclasses.dataclass(frozen=True)
class Effects:
    """``written``: parameters the kernel may write. ``returns``: how its result is built.

    ``returns`` is None for a kernel returning nothing, else one entry per
    returned value (a tuple when ``returns_tuple``): a parameter's name when
    the value is that parameter itself, else None (a value the kernel makes).
    ``consistent_returns`` is False when return statements disagree on that shape.
    """

    written: frozenset[str]
    returns: tuple[str | None, ...] | None
    returns_tuple: bool
    consistent_returns: bool


def analyze(source: str, module_globals: dict[str, object]) -> Effects:
    """The effects of the kernel whose ``def`` (decorators included) is ``source``.

    ``module_globals`` tells library calls (``torch.add``) from the user's own.
    """
    tree = ast.parse(source)
    function = next(
        node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )
    params = [arg.arg for arg in function.args.args]
    walker = _AliasWalker(params, module_globals)
    # Flow-insensitive: alias sets only grow, so repeat until they stop
    # (a loop may bind a name after the statement that writes through it).
    while walker.walk(function.body):
        pass
    returns, returns_tuple, consistent = _return_shape(function, params, walker.rebound)
    return Effects(frozenset(walker.written), returns, returns_tuple, consistent)


class _AliasWalker:
    """Tracks which parameters each local name may alias, and which are written."""

    def __init__(self, params: list[str], module_globals: dict[str, object]) -> None:
        self.aliases: dict[str, set[str]] = {name: {name} for name in params}
        self.written: set[str] = set()
        self.rebound: set[str] = set()
        self._params = set(params)
        self._globals = module_globals
        self._device_depth = 0
        self._changed = False

    def walk(self, body: Iterable[ast.stmt]) -> bool:
        """One pass over ``body``; True when some alias set or write was added."""
        self._changed = False
        self._statements(body)
        return self._changed

    # --- statements ------------------------------------------------------

    def _statements(self, body: Iterable[ast.stmt]) -> None:
        for statement in body:
            self._statement(statement)

    def _statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            value = self._value(node.value)
            for target in node.targets:
                self._bind(target, value)
        elif isinstance(node, ast.AnnAssign):
            value = self._value(node.value) if node.value is not None else set()
            self._bind(node.target, value)
        elif isinstance(node, ast.AugAssign):
            self._value(node.value)
            # `t += v` updates a tensor in place, whatever name it is reached by.
            target = node.target.value if isinstance(node.target, ast.Subscript) else node.target
            if isinstance(node.target, ast.Subscript):
                self._value(node.target.slice)
            self._write(self._value(target))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            device_loop = self._is_device_loop(node.iter)
            self._bind(node.target, self._value(node.iter) if not device_loop else set())
            self._device_depth += device_loop
            self._statements(node.body)
            self._device_depth -= device_loop
            self._statements(node.orelse)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # A nested function may do anything with what it closes over.
            self._write(self._names_in(node))
            self._bind(ast.Name(id=node.name, ctx=ast.Store()), set())
        else:
            self._generic(node)

    def _generic(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self._statement(child)
            elif isinstance(child, ast.expr):
                self._value(child)
            else:
                self._generic(child)

    def _bind(self, target: ast.expr, value: set[str]) -> None:
        if isinstance(target, ast.Name):
            if target.id in self._params:
                self.rebound.add(target.id)
            self._add_aliases(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind(element, value)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, value)
        elif isinstance(target, ast.Subscript):
            self._value(target.slice)
            self._write(self._value(target.value))
        elif isinstance(target, ast.Attribute):
            self._write(self._value(target.value))

    def _add_aliases(self, name: str, value: set[str]) -> None:
        known = self.aliases.setdefault(name, set())
        if not value <= known:
            known |= value
            self._changed = True

    def _write(self, params: set[str]) -> None:
        if not params <= self.written:
            self.written |= params
            self._changed = True

    # --- expressions: the parameters a value may alias -------------------

    def _value(self, node: ast.expr) -> set[str]:
        if isinstance(node, ast.Name):
            return set(self.aliases.get(node.id, ()))
        if isinstance(node, ast.Attribute):
            inner = self._value(node.value)
            return set() if node.attr in _METADATA_ATTRIBUTES else inner
        if isinstance(node, ast.Subscript):
            inner = self._value(node.value)
            self._value(node.slice)
            # Inside a device loop `x[tile]` loads values; on the host it is a view.
            return set() if self._device_depth else inner
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare)):
            self._generic(node)
            return set()
        if isinstance(node, _SCOPES):
            self._write(self._names_in(node))
            return set()
        if isinstance(node, ast.Constant):
            return set()
        # Tuples, lists, `a if c else b`, `a or b`, ...: any part may be the value.
        result: set[str] = set()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                result |= self._value(child)
            else:
                self._generic(child)
        return result

    def _call(self, node: ast.Call) -> set[str]:
        function = node.func
        receiver = self._value(function.value) if isinstance(function, ast.Attribute) else set()
        if not isinstance(function, ast.Attribute):
            self._value(function)
        args = [self._value(arg) for arg in node.args]
        keywords = {keyword.arg: self._value(keyword.value) for keyword in node.keywords}
        everything = receiver.union(*args, *keywords.values())
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if "out" in keywords:
            self._write(keywords["out"])
        if any(
            keyword.arg == "inplace" and not _is_false(keyword.value) for keyword in node.keywords
        ):
            self._write(everything)
        if name.endswith("_") and not name.endswith("__"):
            self._write(receiver if receiver else everything)
            return receiver
        if isinstance(function, ast.Attribute) and receiver:
            # A method of a tensor the kernel was given.
            if name in _METADATA_METHODS or name in _FRESH_FUNCTIONS:
                return set()
            return receiver | set().union(*args, *keywords.values())
        if name in _FRESH_FUNCTIONS or name in _LOOP_FUNCTIONS or name == "load":
            return set()
        if name == "store" or name.startswith(_WRITING_HL_FUNCTIONS[1]):
            target = args[0] if args else keywords.get("tensor", keywords.get("target", set()))
            self._write(target)
            return set()
        if not self._is_library_call(function):
            # A helper of the user's may write what it is given.
            self._write(everything)
        return set() if self._device_depth else everything

    def _is_library_call(self, function: ast.expr) -> bool:
        root = function
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            return False
        module = self._globals.get(root.id)
        if isinstance(module, types.ModuleType):
            return module.__name__.split(".")[0] in _LIBRARY_MODULE_PREFIXES
        return root.id in ("int", "float", "bool", "len", "min", "max", "abs", "range")

    def _is_device_loop(self, iterable: ast.expr) -> bool:
        return (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Attribute)
            and iterable.func.attr in _LOOP_FUNCTIONS
        )

    def _names_in(self, node: ast.AST) -> set[str]:
        found: set[str] = set()
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                found |= self.aliases.get(child.id, set())
        return found


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _own_returns(function: ast.AST) -> list[ast.Return]:
    """The function's return statements, not those of functions nested in it."""
    found: list[ast.Return] = []
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif not isinstance(node, _DEFINITIONS):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _return_shape(
    function: ast.AST, params: list[str], rebound: set[str]
) -> tuple[tuple[str | None, ...] | None, bool, bool]:
    shapes = {_one_return_shape(node.value, params, rebound) for node in _own_returns(function)}
    if not shapes:
        return None, False, True
    if len(shapes) > 1:
        return None, False, False
    ((returns, returns_tuple),) = shapes
    return returns, returns_tuple, True


def _one_return_shape(
    value: ast.expr | None, params: list[str], rebound: set[str]
) -> tuple[tuple[str | None, ...] | None, bool]:
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return None, False
    elements = value.elts if isinstance(value, ast.Tuple) else [value]

    def leaf(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and node.id in params and node.id not in rebound:
            return node.id
        return None

    return tuple(leaf(node) for node in elements), isinstance(value, ast.Tuple)
