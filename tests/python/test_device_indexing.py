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


@helion.kernel(config=helion.Config(block_sizes=[8, 16]), static_shapes=False)
def gather_rows_per_group(
    x: torch.Tensor, w: torch.Tensor, order: torch.Tensor, offsets: torch.Tensor, out: torch.Tensor
) -> torch.Tensor:
    groups, n = w.size()
    for g in hl.grid(groups):
        start = offsets[g]
        count = offsets[g + 1] - start
        for tile_t, tile_n in hl.tile([x.size(0), n]):
            valid = tile_t.index < count
            rows = order[(start + torch.where(valid, tile_t.index, 0)).squeeze(0)]
            values = x[rows, tile_n] * w[g, tile_n][None, :]
            block_t, block_n = values.size()
            keep = valid.view(block_t, 1).expand(block_t, block_n)
            hl.store(out, [rows, tile_n], values, extra_mask=keep)
    return out


def test_squeeze_keeps_tiles_and_sizes_name_them() -> None:
    """A tile's dimension is never squeezed away; `values.size()` gives sizes
    that view and expand accept (mixture-of-experts style scatter)."""
    x = torch.randn(12, 20, device=DEVICE)
    w = torch.randn(3, 20, device=DEVICE)
    order = torch.randperm(12, device=DEVICE).to(torch.int32)
    offsets = torch.tensor([0, 5, 5, 12], device=DEVICE, dtype=torch.int32)
    out = torch.zeros(12, 20, device=DEVICE)
    gather_rows_per_group(x, w, order, offsets, out)
    expected = torch.zeros(12, 20, device=DEVICE)
    for g in range(3):
        rows = order[offsets[g] : offsets[g + 1]].long()
        expected[rows] = x[rows] * w[g]
    torch.testing.assert_close(out, expected)


@helion.kernel(config=helion.Config(block_sizes=[8, 32]))
def concat_columns(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m = x.size(0)
    out = torch.empty([m, x.size(1) + y.size(1)], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile(out.size()):
        left = (tile_n.index < x.size(1))[None, :]
        a = hl.load(x, [tile_m, tile_n], extra_mask=left)
        b = hl.load(y, [tile_m, tile_n.index - x.size(1)], extra_mask=~left)
        out[tile_m, tile_n] = torch.where(left, a, b)
    return out


@helion.kernel(config=helion.Config(block_sizes=[8, 32]))
def split_columns(src: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> None:
    for tile_m, tile_n in hl.tile(src.size()):
        left = (tile_n.index < x.size(1))[None, :]
        hl.store(x, [tile_m, tile_n], src[tile_m, tile_n], extra_mask=left)
        hl.store(y, [tile_m, tile_n.index - x.size(1)], src[tile_m, tile_n], extra_mask=~left)


@helion.kernel(config=helion.Config(block_sizes=[8, 32]))
def concat_unmasked(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0), x.size(1) + y.size(1)], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile(out.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n]
    return out


@pytest.mark.parametrize("widths", [(40, 60), (3, 70), (33, 1)])
def test_tile_wider_than_the_dimension_it_masks(widths: tuple[int, int]) -> None:
    """With an extra mask, a tile may run past the dimension it indexes: the
    access is also kept within the dimension, so nothing outside is touched."""
    x = torch.randn(19, widths[0], device=DEVICE)
    y = torch.randn(19, widths[1], device=DEVICE)
    torch.testing.assert_close(concat_columns(x, y), torch.cat([x, y], dim=1))
    src = torch.randn(19, sum(widths), device=DEVICE)
    a = torch.zeros_like(x)
    b = torch.zeros_like(y)
    split_columns(src, a, b)
    torch.testing.assert_close(torch.cat([a, b], dim=1), src)


def test_tile_wider_than_the_dimension_without_mask_is_an_error() -> None:
    x = torch.randn(19, 40, device=DEVICE)
    y = torch.randn(19, 60, device=DEVICE)
    with pytest.raises(exc.ShapeMismatch, match="or select the lanes inside it with"):
        concat_unmasked(x, y)
