"""A dot's float32 result stays float32 through math that torch would round to float16
(``widen_dot_results``): the value is rounded once, where the kernel casts it."""

from __future__ import annotations

import torch

import helion
import helion.language as hl

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(config=helion.Config(block_sizes=[16, 16]))
def row_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    out = torch.empty([q.size(0)], dtype=torch.float32, device=q.device)
    for tile_m in hl.tile(q.size(0)):
        total = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(k.size(1)):
            scores = torch.mm(q[tile_m, :], k[:, tile_n])
            top = torch.amax(scores, -1)
            total = total + torch.sum(torch.exp(scores.float() - top[:, None].float()), -1)
        out[tile_m] = total
    return out


def _row_weights(scores: torch.Tensor, block: int = 16) -> torch.Tensor:
    """The kernel's math on whole score rows, per block of 16 columns, in float64."""
    total = torch.zeros(scores.size(0), dtype=torch.float64, device=scores.device)
    for start in range(0, scores.size(1), block):
        part = scores[:, start : start + block]
        total += torch.exp(part - part.amax(-1, keepdim=True)).sum(-1)
    return total


def test_scores_are_rounded_once_not_at_the_dot() -> None:
    torch.manual_seed(0)
    q = torch.randn(64, 32, dtype=torch.float16, device=DEVICE)
    k = torch.randn(32, 64, dtype=torch.float16, device=DEVICE)
    code = row_weights.bind((q, k)).to_triton_code()
    assert "tl.float16" not in code  # no round trip through float16 anywhere
    exact = _row_weights(q.double() @ k.double())
    eager = _row_weights((q.float() @ k.float()).half().double())  # torch rounds at the mm
    ours = row_weights(q, k).double()
    torch.testing.assert_close(ours, eager, rtol=2e-2, atol=2e-2)
    assert (ours - exact).abs().max() < (eager - exact).abs().max()


@helion.kernel(config=helion.Config(block_sizes=[16, 16]))
def scaled_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = torch.empty([a.size(0), b.size(1)], dtype=a.dtype, device=a.device)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = torch.mm(a[tile_m, :], b[:, tile_n]) * 2.0
    return out


def test_a_stored_product_is_rounded_as_torch_rounds_it() -> None:
    torch.manual_seed(1)
    a = torch.randn(32, 48, dtype=torch.float16, device=DEVICE)
    b = torch.randn(48, 32, dtype=torch.float16, device=DEVICE)
    assert "tl.float16" in scaled_mm.bind((a, b)).to_triton_code()
    expected = (a.float() @ b.float()).half() * 2.0
    torch.testing.assert_close(scaled_mm(a, b), expected)
