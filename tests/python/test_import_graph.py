"""The modules of ``python/helion`` import each other without cycles.

The graph holds every import a module can execute, at module level or inside
a function, including the packages Python imports on the way to a submodule
(``from ..autotuner.fragments import X`` runs ``helion/autotuner/__init__.py``
first). Imports under ``if TYPE_CHECKING:`` never run and are left out.
A cycle means some module imports one above it: the layers, lowest first,
are the leaf modules (``exc``, ``_config``, ``_settings``, ``language``,
``runtime``'s building blocks), the autotuner, the kernel
(``runtime/kernel.py``), then the packages' ``__init__`` and the decorators.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "python" / "helion"


def _module_name(path: Path) -> str:
    parts = ["helion", *path.relative_to(PACKAGE_ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree`` that can run (not under ``if TYPE_CHECKING:``)."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _with_parents(name: str, modules: set[str], importer: str) -> set[str]:
    """``name`` and the packages Python imports before it, those of ours.

    The importer's own packages are left out of the ones on the way: Python
    imports them before the importer, so going through them is no edge.
    """
    parts = name.split(".")
    on_the_way = {".".join(parts[:i]) for i in range(1, len(parts))}
    own = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 1)}
    return ({name} | (on_the_way - own)) & modules


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PACKAGE_ROOT.rglob("*.py")}
    # The compiler core, an extension module built elsewhere, imports nothing of ours.
    modules = set(paths) | {"helion._core"}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets |= _with_parents(alias.name, modules, name)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                # `from . import runtime` imports a module; `from .. import exc_name`
                # reads a name the package's __init__ defines.
                imported = submodule if submodule in modules else base
                targets |= _with_parents(imported, modules, name)
        graph[name] = targets - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as its modules in import order, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "helion.runtime.kernel" in graph and "helion.autotuner.driver" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_graph_sees_function_level_and_parent_package_imports(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import hidden\n"
        "def f():\n    import inside\n"
    )
    names = {alias.name for node in _imports(tree) for alias in node.names}
    assert names == {"TYPE_CHECKING", "inside"}
    ours = {"helion", "helion.autotuner", "helion.autotuner.fragments", "helion.runtime"}
    assert _with_parents("helion.autotuner.fragments", ours, "helion.runtime.ref_ops") == {
        "helion.autotuner", "helion.autotuner.fragments"
    }
    assert _with_parents("helion", ours, "helion.autotuner.cache") == {"helion"}


@pytest.mark.parametrize(
    "low, high",
    [
        ("helion.runtime.request", "helion.runtime.kernel"),
        ("helion.autotuner.benchmark", "helion.runtime.kernel"),
        ("helion.autotuner.cache", "helion"),
    ],
)
def test_lower_layers_do_not_import_higher_ones(low: str, high: str) -> None:
    assert high not in import_graph()[low]
