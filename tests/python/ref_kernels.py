"""Kernel bodies that ref mode is checked on beside the compiled kernel.

Plain functions at module level (the compiler reads their source); the
tests wrap them with ``helion.kernel``. Together with ``kernels.py`` they
cover tiles with odd sizes, looped reductions, nested tiles, ``hl.grid``,
explicit loads and stores with masks, and atomics.
"""

from __future__ import annotations

import torch

import helion.language as hl


def scale_add_odd(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] * alpha + torch.sigmoid(y[tile_m, tile_n])
    return out


def looped_row_sum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            acc = acc + x[tile_m, tile_n].to(torch.float32).sum(-1)
        out[tile_m] = acc
    return out


def online_softmax(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        running_max = hl.full([tile_m], float("-inf"), dtype=torch.float32)
        running_sum = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n in hl.tile(n):
            values = x[tile_m, tile_n].to(torch.float32)
            new_max = torch.maximum(running_max, torch.amax(values, dim=1))
            scale = torch.exp(running_max - new_max)
            running_sum = running_sum * scale + torch.exp(values - new_max[:, None]).sum(1)
            running_max = new_max
        for tile_n in hl.tile(n):
            values = x[tile_m, tile_n].to(torch.float32)
            probabilities = torch.exp(values - running_max[:, None]) / running_sum[:, None]
            out[tile_m, tile_n] = probabilities.to(out.dtype)
    return out


def grid_rows_times_two(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for i in hl.grid(m):
        for tile_n in hl.tile(n):
            out[i, tile_n] = x[i, tile_n] * 2.0
    return out


def shifted_difference(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        following = hl.load(x, [tile.index + 1], extra_mask=tile.index < n - 1)
        hl.store(out, [tile], following - x[tile])
    return out


def masked_store_positive(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.zeros_like(x)
    for tile in hl.tile(n):
        values = x[tile]
        hl.store(out, [tile], values * 3.0, extra_mask=values > 0)
    return out


def histogram_atomic(labels: torch.Tensor, bins: int) -> torch.Tensor:
    (n,) = labels.size()
    counts = torch.zeros([bins], dtype=torch.float32, device=labels.device)
    for tile in hl.tile(n):
        hl.atomic_add(counts, [labels[tile]], 1.0)
    return counts


def column_max_atomic(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.full([n], float("-inf"), dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        hl.atomic_max(out, [tile_n], torch.amax(x[tile_m, tile_n], dim=0))
    return out


def split_k_matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.zeros([m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n, tile_k in hl.tile([m, n, k]):
        hl.atomic_add(out, [tile_m, tile_n], hl.dot(x[tile_m, tile_k], y[tile_k, tile_n]))
    return out


def nested_fixed_blocks(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m, block_size=4):
        for tile_n in hl.tile(n, block_size=8):
            rows = tile_m.index[:, None].to(torch.float32)
            cols = tile_n.index[None, :].to(torch.float32)
            out[tile_m, tile_n] = x[tile_m, tile_n] + rows * 100.0 + cols
    return out


def tile_attributes(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n, block_size=8):
        out[tile] = x[tile] + tile.begin * 1000.0 + tile.end * 10.0 + tile.block_size
    return out


def tile_within_tile(x: torch.Tensor) -> torch.Tensor:
    """Ref mode only: the compiler takes no tile-derived bounds yet."""
    (n,) = x.size()
    out = torch.empty_like(x)
    for outer in hl.tile(n, block_size=8):
        for inner in hl.tile(outer.begin, outer.end):
            out[inner] = x[inner] + outer.id
    return out
