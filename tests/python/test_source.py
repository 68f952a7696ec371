"""Reading a kernel's source: the definition itself, whatever surrounds it."""

from __future__ import annotations

import importlib.util
import linecache
import sys
from pathlib import Path

import pytest
import torch

import helion
import helion.language as hl
from helion import exc
from helion.runtime.request import SourceInfo

GREETING = "\ud800"


def wrapped(_: object):  # type: ignore[no-untyped-def]
    """A decorator of the user's own, with an argument."""
    return lambda fn: fn


@helion.kernel(config=helion.Config(block_sizes=[8]), autotuner_fn=lambda bound, args: None)
def lambda_after_a_call(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + 1
    return out


# fmt: off
@helion.kernel(
    config=helion.Config(block_sizes=[8]),
    autotuner_fn=lambda bound, args:
        bound.config_spec.default_config(),
)
def lambda_over_lines(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + 2
    return out
# fmt: on


@wrapped(lambda x: x)
@helion.kernel(config=helion.Config(block_sizes=[8]))
def under_a_lambda_decorator(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + 3
    return out


@helion.kernel(autotune_effort="none")
def uses_bad_text(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    _ = GREETING
    for tile in hl.tile(out.size()):
        out[tile] = x[tile]
    return out


@helion.kernel(autotune_effort="none")
def takes_text(x: torch.Tensor, text: str) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile]
    return out


@pytest.mark.parametrize(
    ("kernel", "added"),
    [(lambda_after_a_call, 1), (lambda_over_lines, 2), (under_a_lambda_decorator, 3)],
)
def test_decorators_holding_lambdas(kernel: helion.Kernel, added: int, device: str) -> None:
    source = SourceInfo(kernel.fn)
    lines = Path(__file__).read_text().splitlines(keepends=True)
    start = source.first_line - 1
    assert source.source == "".join(lines[start : start + len(source.source.splitlines())])
    assert source.source.startswith("@")
    assert f"def {kernel.fn.__name__}(x: torch.Tensor)" in source.source
    assert source.source.rstrip().endswith("return out")
    x = torch.zeros(8, device=device)
    torch.testing.assert_close(kernel(x), x + added)


def test_unknown_setting_holding_a_lambda() -> None:
    with pytest.raises(TypeError, match="unknown helion setting 'autotune_baseline_func'"):

        @helion.kernel(autotune_baseline_func=lambda x: x * 2)
        def k(x: torch.Tensor) -> torch.Tensor:
            return x


def test_lambda_as_kernel() -> None:
    with pytest.raises(exc.UnsupportedSyntax, match="must be a function defined with `def`"):
        helion.kernel(lambda x: x)
    with pytest.raises(exc.UnsupportedSyntax, match="got a lambda"):
        helion.kernel(autotune_effort="none")(lambda x: x)


def _load(path: Path, name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_KERNEL_FILE = """\
import torch
import helion
import helion.language as hl


@helion.kernel(autotune_effort="none")
def first(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + 1
    return out
"""


def test_file_changed_since_it_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: str
) -> None:
    """Another function now where the kernel was: an error, not that function compiled."""
    path = tmp_path / "changed_kernels.py"
    path.write_text(_KERNEL_FILE)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = _load(path, "changed_kernels")
    path.write_text(_KERNEL_FILE.replace("def first(", "def second(").replace("+ 1", "+ 100"))
    linecache.checkcache(str(path))
    with pytest.raises(exc.CompileError, match="no definition `def first` starts at line 6"):
        module.first(torch.zeros(8, device=device))
    path.write_text(_KERNEL_FILE)
    torch.testing.assert_close(
        module.first(torch.zeros(8, device=device)), torch.ones(8, device=device)
    )


def test_unpaired_surrogate_in_source(tmp_path: Path, device: str) -> None:
    """The text Python shows for the source (here registered by hand, as notebooks do)
    holds a lone surrogate where the code has its escape."""
    filename = str(tmp_path / "generated_kernel.py")
    line = "out = torch.empty_like(x)"
    code = _KERNEL_FILE.replace(line, line + '; s = "\\ud800"')
    shown = code.replace('"\\ud800"', '"\ud800"')
    linecache.cache[filename] = (len(shown), None, shown.splitlines(keepends=True), filename)
    namespace: dict[str, object] = {}
    exec(compile(code, filename, "exec"), namespace)
    kernel = namespace["first"]
    assert isinstance(kernel, helion.Kernel)
    with pytest.raises(exc.UnsupportedSyntax) as raised:
        kernel(torch.zeros(8, device=device))
    message = str(raised.value)
    lines = message.splitlines()
    assert lines[0] == f"UnsupportedSyntax in kernel 'first' at {filename}:8:"
    assert lines[1].strip() == 'out = torch.empty_like(x); s = "\\ud800"'
    assert lines[2].index("^") == lines[1].index("\\ud800") and lines[2].count("^") == 6
    assert "unpaired surrogate U+D800" in message
    message.encode()  # printable


def test_unpaired_surrogate_in_a_global(device: str) -> None:
    # Python's json keeps it as an escape, and so does the compiler.
    torch.testing.assert_close(
        uses_bad_text(torch.zeros(8, device=device)), torch.zeros(8, device=device)
    )
    code = uses_bad_text.bind((torch.zeros(8, device=device),)).to_triton_code()
    assert "GREETING = '\\ud800'" in code or 'GREETING = "\\ud800"' in code, code


def test_unpaired_surrogate_in_an_argument(device: str) -> None:
    torch.testing.assert_close(
        takes_text(torch.zeros(8, device=device), "\udfff"), torch.zeros(8, device=device)
    )
    torch.testing.assert_close(
        takes_text(torch.zeros(8, device=device), "fine"), torch.zeros(8, device=device)
    )
