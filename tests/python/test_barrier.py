"""hl.barrier(): a grid-wide sync between two top-level device loops, so that
a loop may read what the loops before it wrote. It runs on persistent_blocked
programs, which wait for each other at a counter the host zeroes per launch;
under Triton's interpreter, whose programs run one after another, the host
launches the kernel once per phase instead. In ref mode it does nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import helion
import helion.language as hl
from helion import autotuner, exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def neighbours(x: torch.Tensor) -> torch.Tensor:
    """The second loop reads elements of `doubled` that other programs wrote."""
    doubled = torch.empty_like(x)
    out = torch.empty_like(x)
    n = x.size(0)
    for tile in hl.tile(n):
        doubled[tile] = x[tile] * 2
    hl.barrier()
    for tile in hl.tile(n):
        out[tile] = doubled[tile] + doubled[(tile.index + 1) % n]
    return out


def neighbours_reference(x: torch.Tensor) -> torch.Tensor:
    return x * 2 + torch.roll(x, -1) * 2


def three_phases(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two barriers; the first two loops write independent tensors and share a phase."""
    m, n = x.size()
    shifted = torch.empty_like(x)
    sums = torch.empty([m], dtype=torch.float32, device=x.device)
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        shifted[tile_m, tile_n] = x[tile_m, tile_n] + 1
    for tile in hl.tile(m):
        sums[tile] = torch.sum(x[tile, :], 1)
    hl.barrier()
    for tile_m, tile_n in hl.tile([m, n]):
        flipped = shifted[(m - 1 - tile_m.index), tile_n]
        out[tile_m, tile_n] = flipped * sums[tile_m][:, None]
    hl.barrier()
    for tile in hl.tile(m):
        sums[tile] = torch.sum(out[tile, :], 1)
    return out, sums


def three_phases_reference(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.flip(x + 1, [0]) * x.sum(1)[:, None]
    return out, out.sum(1)


def _kernel(fn: Any, **config: Any) -> helion.Kernel:
    return helion.kernel(config=helion.Config(**config))(fn)


@pytest.mark.parametrize("blocks", [[16, 16], [8, 32], [128, 4], [1, 1]])
@pytest.mark.parametrize("n", [1, 37, 300])
def test_a_loop_reads_what_the_loop_before_the_barrier_wrote(blocks: list[int], n: int) -> None:
    x = torch.randn(n, device=DEVICE)
    kernel = _kernel(neighbours, block_sizes=blocks)
    for _ in range(2):  # the second call is a cached one
        torch.testing.assert_close(kernel(x), neighbours_reference(x))


def test_a_barrier_takes_one_program_per_sm() -> None:
    # A cooperative launch needs every program on the GPU at once.
    x = torch.randn(40, device=DEVICE)
    with pytest.raises(exc.InvalidConfig, match=r"must all be on the GPU at once\); use 1"):
        _kernel(neighbours, block_sizes=[16, 16], num_sm_multiplier=2)(x)


@pytest.mark.parametrize("blocks", [[4, 8, 4, 4, 2, 8], [16, 16, 16, 16, 16, 16]])
def test_two_barriers_and_loops_sharing_a_phase(blocks: list[int]) -> None:
    x = torch.randn(19, 23, device=DEVICE)
    kernel = _kernel(three_phases, block_sizes=blocks, range_num_stages=[0, 0, 2, 0])
    out, sums = kernel(x)
    expected_out, expected_sums = three_phases_reference(x)
    torch.testing.assert_close(out, expected_out, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(sums, expected_sums, rtol=1e-4, atol=1e-3)
    code = kernel.bind((x,)).to_triton_code(kernel.configs[0])
    assert code.count("tl.atomic_add(barrier_counts + 1, 1,") == 1, code
    assert "barrier_phases(2)" in code and "launch_cooperative_grid=True" in code, code


def test_barrier_kernels_default_to_and_search_only_persistent_blocked() -> None:
    x = torch.randn(200, device=DEVICE)
    kernel = helion.kernel(
        autotune_strategy="random", autotune_random_seed=5, autotune_effort="quick"
    )(neighbours)
    spec = kernel.bind((x,)).config_spec
    assert spec.describe()["pid_type"] == ["persistent_blocked"]
    assert spec.default_config()["pid_type"] == "persistent_blocked"
    search = autotuner.RandomSearch(kernel.bind((x,)), (x,), count=5)
    best = search.autotune()
    assert search.result is not None
    assert {config["pid_type"] for config, _ms, _error in search.result["history"]} == {
        "persistent_blocked"
    }
    torch.testing.assert_close(kernel.bind((x,)).compile_config(best)(x), neighbours_reference(x))


@pytest.mark.parametrize("pid_type", ["flat", "xyz", "persistent_interleaved"])
def test_another_pid_type_is_refused(pid_type: str) -> None:
    x = torch.randn(64, device=DEVICE)
    kernel = _kernel(neighbours, block_sizes=[16, 16], pid_type=pid_type)
    with pytest.raises(exc.BarrierRequiresPersistent) as error:
        kernel(x)
    message = str(error.value)
    for words in (
        f'pid_type: "{pid_type}"',
        "in kernel 'neighbours'",
        "hl.barrier()",  # the source line under the caret
        'use pid_type="persistent_blocked"',
    ):
        assert words in message, message


def test_ref_mode_runs_the_loops_in_order() -> None:
    x = torch.randn(50, device=DEVICE)
    kernel = helion.kernel(ref_mode=helion.RefMode.EAGER)(neighbours)
    torch.testing.assert_close(kernel(x), neighbours_reference(x))


_BAD = """\
import torch
import helion.language as hl


def bad(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    tmp = torch.empty_like(x)
{body}
    return out
"""


def _bad_kernel(tmp_path: Path, body: str) -> helion.Kernel:
    path = tmp_path / f"barrier_{abs(hash(body))}.py"
    path.write_text(_BAD.format(body=body))
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return helion.kernel(autotune_effort="none")(namespace["bad"])


LOOP_A = "    for tile in hl.tile(x.size(0)):\n        tmp[tile] = x[tile] + 1\n"
LOOP_B = "    for tile in hl.tile(x.size(0)):\n        out[tile] = tmp[tile] * 2\n"


@pytest.mark.parametrize(
    ("body", "cls", "words"),
    [
        (
            "    for tile in hl.tile(x.size(0)):\n        hl.barrier()\n        out[tile] = x[tile]\n",
            exc.BarrierOnlyAllowedAtTopLevel,
            ("between the loops, not inside one",),
        ),
        ("    hl.barrier()\n" + LOOP_A, exc.UnsupportedOp, ("before the first device loop",)),
        (LOOP_A + "    hl.barrier()\n", exc.UnsupportedOp, ("after the last device loop",)),
        (
            LOOP_A + "    hl.barrier()\n    scale = 2\n" + LOOP_B,
            exc.TopLevelStatementBetweenLoops,
            ("only hl.barrier() may stand between them",),
        ),
        (LOOP_A + "    hl.barrier(1)\n" + LOOP_B, exc.UnsupportedOp, ("takes no arguments",)),
        (LOOP_A + LOOP_B, exc.LoopDependencyError, ("'tmp'", "put hl.barrier() between them")),
    ],
    ids=["on-the-device", "before-the-first-loop", "after-the-last-loop", "host-code-after",
         "arguments", "no-barrier"],
)
def test_errors(tmp_path: Path, body: str, cls: type, words: tuple[str, ...]) -> None:
    kernel = _bad_kernel(tmp_path, body)
    with pytest.raises(cls) as error:
        kernel(torch.randn(40, device=DEVICE))
    message = str(error.value)
    assert "in kernel 'bad'" in message, message
    for word in words:
        assert word in message, message


def test_a_barrier_separates_only_the_loops_around_it(tmp_path: Path) -> None:
    # The third loop may read what the first wrote; the second, in the same
    # phase as the first, may not.
    independent = "    for tile in hl.tile(x.size(0)):\n        out[tile] = x[tile]\n"
    reads_tmp = "    for tile in hl.tile(x.size(0)):\n        out[tile] = tmp[tile] * 2\n"
    ok = _bad_kernel(tmp_path, LOOP_A + independent + "    hl.barrier()\n" + reads_tmp)
    x = torch.randn(40, device=DEVICE)
    torch.testing.assert_close(ok(x), (x + 1) * 2)
    refused = _bad_kernel(tmp_path, LOOP_A + reads_tmp + "    hl.barrier()\n" + independent)
    with pytest.raises(exc.LoopDependencyError):
        refused(x)


# --- on a GPU -----------------------------------------------------------------------


@pytest.mark.gpu
def test_gpu_barrier_across_every_program() -> None:
    x = torch.randn(1 << 20, device="cuda")
    kernel = _kernel(neighbours, block_sizes=[1024, 512])
    for _ in range(3):
        torch.testing.assert_close(kernel(x), neighbours_reference(x))
    y = torch.randn(3000, 700, device="cuda")
    phases = _kernel(three_phases, block_sizes=[32, 128, 16, 32, 128, 16], num_warps=4)
    out, sums = phases(y)
    expected_out, expected_sums = three_phases_reference(y)
    torch.testing.assert_close(out, expected_out, rtol=1e-3, atol=1e-2)
    torch.testing.assert_close(sums, expected_sums, rtol=1e-3, atol=1.0)


@pytest.mark.gpu
def test_gpu_search_of_a_barrier_kernel() -> None:
    x = torch.randn(1 << 18, device="cuda")
    kernel = helion.kernel(autotune_effort="quick", autotune_random_seed=1)(neighbours)
    search = autotuner.RandomSearch(kernel.bind((x,)), (x,), count=12)
    best = search.autotune()
    assert best["pid_type"] == "persistent_blocked"
    torch.testing.assert_close(kernel.bind((x,)).compile_config(best)(x), neighbours_reference(x))
