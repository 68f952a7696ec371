"""Values built on the device: x.new_zeros from a host tensor, hl.arange,
whole dimensions of size 1 that broadcast, against PyTorch eager."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(configs=[helion.Config(block_sizes=[b, 4]) for b in (2, 8)])
def column_sums_scaled(x: torch.Tensor, w: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """w.new_zeros on the device; scale is [m, 1], whose `:` stays size 1."""
    m, n = x.size()
    out = torch.empty([n], dtype=torch.float32, device=x.device)
    for tile_n in hl.tile(n):
        acc = w.new_zeros(tile_n, dtype=torch.float32)
        for tile_m in hl.tile(m):
            acc += torch.sum(x[tile_m, tile_n] * scale[tile_m, :], 0)
        out[tile_n] = acc
    return out


def test_new_zeros_and_size_one_dimensions() -> None:
    x, w = torch.randn(13, 21, device=DEVICE), torch.randn(21, device=DEVICE)
    scale = torch.randn(13, 1, device=DEVICE)
    for config in column_sums_scaled.configs:
        run = column_sums_scaled.bind((x, w, scale)).compile_config(config)
        torch.testing.assert_close(run(x, w, scale), (x * scale).sum(0), rtol=1e-4, atol=1e-4)


@helion.kernel(config=helion.Config(block_sizes=[16]))
def aranges(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty([n], dtype=torch.int32, device=x.device)
    for tile in hl.tile(n):
        within = hl.arange(tile.block_size)
        out[tile] = (tile.begin + within) * 10
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def arange_of_odd_length(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty([n], dtype=torch.int32, device=x.device)
    for tile in hl.tile(n):
        out[tile] = hl.zeros([tile], dtype=torch.int32) + torch.sum(hl.arange(3), 0)
    return out


def test_arange() -> None:
    x = torch.empty(37, device=DEVICE)
    expected = (torch.arange(37, device=DEVICE) * 10).to(torch.int32)
    torch.testing.assert_close(aranges(x), expected)
    with pytest.raises(exc.UnsupportedOp, match="power of two"):
        arange_of_odd_length(x)


@helion.kernel(config=helion.Config(block_sizes=[16]))
def bit_ops(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile]
        out[tile] = ((v >> 2) & 7) | ((v << 3) ^ ~v)
    return out


def test_integer_bit_operators() -> None:
    x = torch.randint(-1000, 1000, (45,), dtype=torch.int32, device=DEVICE)
    torch.testing.assert_close(bit_ops(x), ((x >> 2) & 7) | ((x << 3) ^ ~x))


@helion.kernel(config=helion.Config(block_sizes=[4]))
def slice_objects(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.zeros_like(x)
    for tile in hl.tile(m):
        hl.store(out, [tile, slice(None)], x[tile, :] * 2)
        hl.atomic_add(out, [tile, slice(1, None)], x[tile, slice(1, n)])
    return out


def test_slice_objects_in_index_lists() -> None:
    x = torch.randn(9, 6, device=DEVICE)
    expected = x * 2
    expected[:, 1:] += x[:, 1:]
    torch.testing.assert_close(slice_objects(x), expected)
