"""Checks the host code makes before a launch, run in child processes.

Offsets that outgrow int32: the index type follows every tensor a kernel
touches. The kernels write one column of a host-allocated tensor of more than 2**31
elements, so only a few elements are touched (pages of the allocation that
are never written cost no memory). An int32 offset to that column wraps
around and writes outside the tensor, so each case runs in a child process:
a crash fails the test instead of ending the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_KERNEL = textwrap.dedent(
    """
    import torch
    import helion
    import helion.language as hl

    @helion.kernel(autotune_effort="none", static_shapes={static})
    def fill_last_column(x: torch.Tensor, n: int) -> torch.Tensor:
        out = torch.empty([x.size(0), n], dtype=x.dtype, device=x.device)
        for tile in hl.tile(x.size(0)):
            out[tile, n - 1] = x[tile]
        return out

    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.arange(1, 5, dtype=torch.int8, device=device)
    small = fill_last_column(x, 8)
    assert torch.equal(small[:, -1], x), small
    # 4 rows of 2**29 + 1: the last element lies past 2**31.
    big = fill_last_column(x, 2**29 + 1)
    assert big.stride(0) == 2**29 + 1
    assert torch.equal(big[:, -1], x), big[:, -1]
    print("ok")
    """
)


def _run(source: str, directory: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    script = directory / "kernel_script.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, *flags, str(script)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("static", [True, False], ids=["static", "dynamic"])
def test_host_allocated_tensor_past_int32_is_indexed_in_int64(static: bool, tmp_path: Path) -> None:
    # The same compiled kernel serves both calls (an int argument is not part
    # of the specialization): its host code must switch to int64 offsets.
    result = _run(_KERNEL.format(static=static), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


_CORNER = textwrap.dedent(
    """
    import torch
    import helion
    import helion.language as hl

    @helion.kernel(autotune_effort="none")
    def corner(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        big = torch.empty([x.size(0), y.size(0)], dtype=x.dtype, device=x.device)
        for ti, tj in hl.tile([x.size(0) - 4, y.size(0) - 4], [x.size(0), y.size(0)]):
            big[ti, tj] = x[ti, None] + y[None, tj]
        return big

    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.ones(65536, dtype=torch.int8, device=device)
    y = torch.ones(32769, dtype=torch.int8, device=device)
    big = corner(x, y)
    assert torch.equal(big[-4:, -4:], torch.full((4, 4), 2, dtype=torch.int8, device=device))
    print("ok")
    """
)


def test_a_host_allocation_past_int32_with_small_arguments(tmp_path: Path) -> None:
    # 65536 x 32769 int8: more than 2**31 elements, though each argument is
    # small. Only the last 4x4 corner is written; with int32 offsets that
    # write lands before the tensor (a crash under the interpreter).
    result = _run(_CORNER, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_fixed_int32_raises_instead_of_wrapping(tmp_path: Path) -> None:
    source = _KERNEL.format(static=True).replace(
        'autotune_effort="none"', 'autotune_effort="none", index_dtype="int32"'
    )
    result = _run(source, tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "IndexOffsetOutOfRangeForInt32" in result.stderr
    assert "index_dtype='int64'" in result.stderr


_SPECIALIZED = textwrap.dedent(
    """
    import torch
    import helion
    import helion.language as hl

    @helion.kernel(autotune_effort="none", static_shapes=False)
    def double(x: torch.Tensor) -> torch.Tensor:
        n = hl.specialize(x.size(0))
        out = torch.empty_like(x)
        for tile in hl.tile(n):
            out[tile] = x[tile] * 2
        return out

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print("sum:", double(torch.ones(16, device=device)).sum().item())
    try:
        double(torch.ones(32, device=device))
    except AssertionError as error:
        print("refused:", error)
    """
)


def test_launch_checks_hold_under_python_optimize(tmp_path: Path) -> None:
    # `python -O` drops assert statements: the checks must not be asserts.
    result = _run(_SPECIALIZED, tmp_path, "-O")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sum: 32.0" in result.stdout
    assert "refused: hl.specialize compiled this kernel for x.size(0) == 16" in result.stdout
