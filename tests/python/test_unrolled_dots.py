"""Loops of kernels with a dot unroll only with few warps.

On an H200 (Triton 3.6) an attention kernel whose key loop was unrolled by 4
raised an illegal memory access with 32 warps and ran right with 8 warps or
without unrolling; such configs take Triton's default unrolling instead.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import helion

ATTENTION = textwrap.dedent(
    """
    import math
    import torch
    import helion
    import helion.language as hl


    def attention(q_in, k_in, v_in):
        m_dim = q_in.size(-2)
        head_dim = hl.specialize(q_in.size(-1))
        q_view = q_in.reshape([-1, m_dim, head_dim])
        v_view = v_in.reshape([-1, m_dim, head_dim])
        k_view = k_in.reshape([-1, m_dim, head_dim]).transpose(1, 2)
        out = torch.empty_like(q_view)
        qk_scale = 1.0 / math.sqrt(head_dim) * 1.44269504
        for tile_b, tile_m in hl.tile([q_view.size(0), m_dim]):
            m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
            l_i = torch.full_like(m_i, 1.0)
            acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
            q = q_view[tile_b, tile_m, :]
            for tile_n in hl.tile(v_view.size(1)):
                qk = torch.bmm(q, k_view[tile_b, :, tile_n])
                m_ij = torch.maximum(m_i, torch.amax(qk, -1) * qk_scale)
                p = torch.exp2(qk * qk_scale - m_ij[:, :, None])
                alpha = torch.exp2(m_i - m_ij)
                l_i = l_i * alpha + torch.sum(p, -1)
                acc = torch.baddbmm(
                    acc * alpha[:, :, None], p.to(v_view.dtype), v_view[tile_b, tile_n, :]
                )
                m_i = m_ij
            out[tile_b, tile_m, :] = (acc / l_i[:, :, None]).to(out.dtype)
        return out.view(q_in.size())


    CONFIG = dict(
        block_sizes=[[1, 64], [16]], range_unroll_factors=[1, 4], range_num_stages=[1, 3],
        indexing=["block_ptr", "block_ptr", "block_ptr", "pointer"],
        pid_type="persistent_interleaved", num_sm_multiplier=16, num_warps=32, num_stages=1,
    )
    """
)


def test_the_unroll_factor_settles_to_the_default_with_many_warps(tmp_path: Path) -> None:
    module = tmp_path / "unrolled_attention.py"
    module.write_text(ATTENTION)
    sys.path.insert(0, str(tmp_path))
    try:
        import unrolled_attention as m
    finally:
        sys.path.remove(str(tmp_path))
    q = torch.empty(2, 16, 1024, 64, device="meta", dtype=torch.float16)
    kernel = helion.kernel(config=helion.Config(**m.CONFIG))(m.attention)
    bound = kernel.bind((q, q, q))
    assert bound.config_spec.normalize(m.CONFIG)["range_unroll_factors"] == [1, 0]
    code = bound.to_triton_code(helion.Config(**m.CONFIG))
    assert "loop_unroll_factor=4" not in code
    eight = {**m.CONFIG, "num_warps": 8}
    assert "loop_unroll_factor=4" in bound.to_triton_code(helion.Config(**eight))


@pytest.mark.gpu
def test_the_config_that_crashed_runs_right(tmp_path: Path) -> None:
    # In a process of its own: an illegal address leaves the GPU unusable.
    (tmp_path / "unrolled_attention.py").write_text(ATTENTION)
    script = textwrap.dedent(
        """
        import torch, helion
        import unrolled_attention as m
        kernel = helion.kernel(config=helion.Config(**m.CONFIG))(m.attention)
        q, k, v = (torch.randn(16, 16, 1024, 64, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        expected = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        torch.testing.assert_close(kernel(q, k, v), expected, rtol=2e-2, atol=2e-2)
        torch.cuda.synchronize()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
