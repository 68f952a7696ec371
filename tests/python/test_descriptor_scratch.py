"""Tensor descriptors made in the kernel need global scratch per program.

Triton 3.6 gives each program 128 bytes per descriptor and addresses the
whole with 32-bit offsets, so past 2 GiB programs write outside it: on an
H200 an 8192x8192 add in 1x8 tiles (three descriptors, 8M programs) raised an
illegal memory access. Such grids get block pointers instead.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import kernels as K  # noqa: N812
import pytest
import torch

import helion

SMALL_TILES = helion.Config(
    block_sizes=[[1, 8]], l2_grouping=64, indexing="tensor_descriptor", num_warps=1
)


def _code(config: helion.Config, size: int, **settings: object) -> str:
    kernel = helion.kernel(config=config, **settings)(K.add)
    x = torch.empty(size, size, device="meta")
    return kernel.bind((x, x)).to_triton_code(config)


def test_a_grid_past_the_scratch_limit_gets_block_pointers() -> None:
    code = _code(SMALL_TILES, 8192)  # 8M programs x 3 descriptors x 128 bytes > 2 GiB
    assert "tl.make_tensor_descriptor" not in code
    assert "tl.make_block_ptr" in code


def test_a_grid_within_the_limit_keeps_its_descriptors() -> None:
    assert "tl.make_tensor_descriptor" in _code(SMALL_TILES, 4096)  # 805 MB of scratch


def test_persistent_programs_keep_their_descriptors() -> None:
    persistent = helion.Config(**{**SMALL_TILES, "pid_type": "persistent_interleaved"})
    assert "tl.make_tensor_descriptor" in _code(persistent, 8192)


def test_a_grid_known_only_at_run_time_gets_block_pointers() -> None:
    assert "tl.make_tensor_descriptor" not in _code(SMALL_TILES, 64, static_shapes=False)


@pytest.mark.gpu
def test_the_grid_that_wrote_outside_its_scratch_now_adds_correctly(tmp_path: Path) -> None:
    # In a process of its own: an illegal address leaves the GPU unusable.
    script = tmp_path / "big_add.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import torch, helion
            sys.path.insert(0, sys.argv[1])
            import kernels
            config = helion.Config(block_sizes=[[1, 8]], l2_grouping=64,
                                   indexing="tensor_descriptor", num_warps=1)
            kernel = helion.kernel(config=config)(kernels.add)
            x = torch.randn(8192, 8192, device="cuda")
            y = torch.randn(8192, 8192, device="cuda")
            torch.testing.assert_close(kernel(x, y), x + y)
            torch.cuda.synchronize()
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script), str(Path(K.__file__).parent)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
