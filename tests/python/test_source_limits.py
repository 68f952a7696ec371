"""Kernel sources past the compiler's limits raise ``helion.exc`` errors.

Python itself accepts these sources, so the kernels are real: the compiler
must refuse them with a diagnostic, never take the process down. Each runs in
a child process, so that a crash fails the test instead of ending pytest.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_CHILD = """
import sys

import torch

import helion
from helion import exc

sys.path.insert(0, {folder!r})
from deep_kernel import kernel

try:
    kernel(torch.randn(16))
except exc.Base as error:
    print(type(error).__name__)
    print(error)
else:
    print("no error")
"""


def _run_child(tmp_path: Path, kernel_source: str) -> tuple[str, str]:
    """(exception class, message) that calling the kernel raises in a child process."""
    module = "import torch\nimport helion\nimport helion.language as hl\n\n\n" + kernel_source
    (tmp_path / "deep_kernel.py").write_text(module)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(folder=str(tmp_path))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"child exited with {done.returncode}:\n{done.stderr[-3000:]}"
    name, _, message = done.stdout.partition("\n")
    return name, message


def _kernel(body_line: str) -> str:
    return textwrap.dedent(
        """\
        @helion.kernel(autotune_effort="none")
        def kernel(x: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(x)
            for tile in hl.tile(x.size(0)):
                out[tile] = {}
            return out
        """
    ).format(body_line)


@pytest.mark.parametrize(
    "value",
    ["x[tile]" + " + 1" * 1500, "-" * 1500 + "x[tile]", "x[tile]" + ".T" * 1500],
    ids=["binary-chain", "unary-chain", "attribute-chain"],
)
def test_expression_nested_too_deeply(tmp_path: Path, value: str) -> None:
    name, message = _run_child(tmp_path, _kernel(value))
    assert name == "CompileError", message
    assert "SyntaxError in kernel 'kernel'" in message, message
    assert "expression nested too deeply (more than 200 levels)" in message, message
    assert "^" in message and "internal compiler error" not in message, message


def test_lone_surrogate_in_a_message(tmp_path: Path) -> None:
    # '\ud800' is a str Python allows; the compiler's message that quotes it
    # must still be a valid str.
    source = textwrap.dedent(
        """\
        @helion.kernel(autotune_effort="none")
        def kernel(x: torch.Tensor) -> torch.Tensor:
            scale = float("\\ud800")
            out = torch.empty_like(x)
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] * scale
            return out
        """
    )
    name, message = _run_child(tmp_path, source)
    assert name == "CompileError", message
    assert "could not convert string to float: '\\ud800'" in message, message
