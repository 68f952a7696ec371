"""Loops of kernels with a dot unroll only with few warps.

On an H200 (Triton 3.6) an attention kernel whose key loop was unrolled by 4
raised an illegal memory access with 32 warps and ran right with 8 warps or
without unrolling. A user's config that asks for it is refused; the search
never proposes it.
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

CONFIG = dict(
    block_sizes=[[1, 64], [16]], range_unroll_factors=[1, 4], range_num_stages=[1, 3],
    indexing=["block_ptr", "block_ptr", "block_ptr", "pointer"],
    pid_type="persistent_interleaved", num_sm_multiplier=16, num_warps=32, num_stages=1,
)
# What the search makes of it: the key loop left to Triton's default unrolling.
NOT_UNROLLED = {**CONFIG, "range_unroll_factors": [1, 0]}


def test_a_config_unrolling_a_dot_loop_with_many_warps_is_refused() -> None:
    q = torch.empty(2, 16, 1024, 64, device="meta", dtype=torch.float16)
    bound = helion.kernel(config=helion.Config(**CONFIG))(K.attention).bind((q, q, q))
    with pytest.raises(helion.exc.InvalidConfig, match=r"range_unroll_factors\[1\]: 4 with num_warps 32"):
        bound.config_spec.normalize(CONFIG)
    eight = helion.Config(**{**CONFIG, "num_warps": 8})
    assert "loop_unroll_factor=4" in bound.to_triton_code(eight)
    assert "loop_unroll_factor=4" not in bound.to_triton_code(helion.Config(**NOT_UNROLLED))


@pytest.mark.gpu
def test_the_crashing_config_without_unrolling_runs_right() -> None:
    # In a process of its own: an illegal address leaves the GPU unusable.
    script = textwrap.dedent(
        f"""
        import sys
        import torch, helion
        sys.path.insert(0, sys.argv[1])
        import kernels
        kernel = helion.kernel(config=helion.Config(**{NOT_UNROLLED!r}))(kernels.attention)
        q, k, v = (torch.randn(16, 16, 1024, 64, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        expected = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        torch.testing.assert_close(kernel(q, k, v), expected, rtol=2e-2, atol=2e-2)
        torch.cuda.synchronize()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(Path(K.__file__).parent)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
