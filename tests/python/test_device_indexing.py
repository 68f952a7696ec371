"""Indexing forms of real kernels: size-1 dimensions indexed by scalars
(broadcast block masks), slices whose bounds the device computes, dimensions
dropped by scalar indices loaded on the device, and tiles wider than the
dimension they index."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(config=helion.Config(block_sizes=[8]))
def per_head_scale(x: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    heads, n = x.size()
    out = torch.empty_like(x)
    for h in hl.grid(heads):
        for tile in hl.tile(n):
            out[h, tile] = x[h, tile] * scales[h, 0]
    return out


def test_scalar_index_into_size_one_dimension_broadcasts() -> None:
    """A [1, 1] table shared by every head, as flex attention's block masks are."""
    x = torch.randn(3, 20, device=DEVICE)
    shared = torch.tensor([[2.5]], device=DEVICE)
    torch.testing.assert_close(per_head_scale(x, shared), x * 2.5)
    own = torch.randn(3, 1, device=DEVICE)
    torch.testing.assert_close(per_head_scale(x, own), x * own)
