"""Several top-level device loops in one kernel: each runs on program ids of
its own; loops that depend on each other (without hl.barrier() between them),
host code between them and a barrier without persistent_blocked programs are
refused with errors that say what to do."""

from __future__ import annotations

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


two_loops = helion.kernel(
    configs=[helion.Config(block_sizes=[b, c, d]) for b, c, d in ((4, 8, 16), (8, 2, 32))]
)(K.two_loops)


@pytest.mark.parametrize("shape", [(5, 9), (1, 1), (17, 33)])
def test_two_independent_loops(shape: tuple[int, int]) -> None:
    x = torch.randn(*shape, device=DEVICE)
    y = torch.randn(shape[1] + 3, 7, device=DEVICE)
    for config in two_loops.configs:
        doubled, sums = two_loops.bind((x, y)).compile_config(config)(x, y)
        torch.testing.assert_close(doubled, x * 2)
        torch.testing.assert_close(sums, y.sum(1), rtol=1e-5, atol=1e-5)


@helion.kernel(config=helion.Config(block_sizes=[16, 16]))
def dependent_loops(x: torch.Tensor) -> torch.Tensor:
    tmp = torch.empty_like(x)
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        tmp[tile] = x[tile] + 1
    for tile in hl.tile(x.size(0)):
        out[tile] = tmp[tile] * 2
    return out


@helion.kernel(config=helion.Config(block_sizes=[16, 16]))
def host_code_between(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    scale = 2.0
    for tile in hl.tile(x.size(0)):
        x[tile] = x[tile] * scale
    return out


@helion.kernel(config=helion.Config(block_sizes=[16, 16], pid_type="flat"))
def barrier_between(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    hl.barrier()
    for tile in hl.tile(x.size(0)):
        x[tile] = x[tile] * 2
    return out


@pytest.mark.parametrize(
    ("kernel", "cls", "words"),
    [
        (dependent_loops, exc.LoopDependencyError, ("'tmp'", "hl.barrier()", "second kernel")),
        (host_code_between, exc.TopLevelStatementBetweenLoops, ("before the first loop",)),
        (
            barrier_between,
            exc.BarrierRequiresPersistent,
            ('pid_type: "flat"', "hl.barrier()", 'use pid_type="persistent_blocked"'),
        ),
    ],
    ids=["dependency", "host-code-between", "barrier"],
)
def test_several_loops_errors(kernel: helion.Kernel, cls: type, words: tuple[str, ...]) -> None:
    with pytest.raises(cls) as error:
        kernel(torch.randn(32, device=DEVICE))
    message = str(error.value)
    assert f"in kernel '{kernel.name}'" in message
    for word in words:
        assert word in message, message


@helion.kernel(config=helion.Config(block_sizes=[]))
def strided_workers(x: torch.Tensor) -> torch.Tensor:
    """A persistent pattern: one program per SM, each taking every workers-th row."""
    (n,) = x.size()
    out = torch.zeros_like(x)
    workers = helion.runtime.get_num_sm(x.device)
    for worker in hl.grid(workers):
        for step in hl.grid((n + workers - 1) // workers):
            row = step * workers + worker
            if row < n:
                out[row] = x[row] * 2
    return out


def test_a_run_time_int_from_host_code() -> None:
    x = torch.randn(300, device=DEVICE)
    torch.testing.assert_close(strided_workers(x), x * 2)
