"""hl.jagged_tile: a loop over ragged rows whose lengths the device loads.

Each lane stops at its own row's length: loads read 0 past it, stores skip
it and reductions leave it out."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def ragged(lengths: list[int], width: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    offsets = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], device=DEVICE)
    values = torch.randn(int(offsets[-1]), width, device=DEVICE) - 3.0  # all rows negative
    return values, offsets


@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def row_sum_and_max(values: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rows = offsets.size(0) - 1
    flat = values.view(-1)
    sums = torch.zeros([rows], dtype=values.dtype, device=values.device)
    maxes = torch.zeros([rows], dtype=values.dtype, device=values.device)
    for tile_b in hl.tile(rows):
        starts = offsets[tile_b]
        lengths = offsets[tile_b.index + 1] - starts
        total = hl.zeros([tile_b], dtype=values.dtype)
        best = hl.full([tile_b], float("-inf"), dtype=values.dtype)
        for tile_k in hl.jagged_tile(lengths):
            row = hl.load(flat, [starts[:, None] + tile_k.index[None, :]])
            total = total + row.sum(dim=1)
            best = torch.maximum(best, row.amax(dim=1))
        sums[tile_b] = total
        maxes[tile_b] = best
    return sums, maxes


@pytest.mark.parametrize("lengths", [[3, 0, 17, 1, 8, 30, 2], [1], [9, 9, 9, 9, 9]])
def test_row_sum_and_max(lengths: list[int]) -> None:
    values, offsets = ragged(lengths)
    sums, maxes = row_sum_and_max(values, offsets)
    rows = [values[int(a) : int(b), 0] for a, b in zip(offsets[:-1], offsets[1:])]
    torch.testing.assert_close(sums, torch.stack([r.sum() for r in rows]))
    expected_max = torch.stack(
        [r.max() if len(r) else torch.tensor(float("-inf"), device=DEVICE) for r in rows]
    )
    torch.testing.assert_close(maxes, expected_max)


@helion.kernel(config=helion.Config(block_sizes=[2, 4, 8]))
def pad_rows(values: torch.Tensor, offsets: torch.Tensor, counts: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    rows = offsets.size(0) - 1
    width = values.size(1)
    flat = values.view(-1)
    for tile_b in hl.tile(rows):
        starts = offsets[tile_b]
        lengths = offsets[tile_b.index + 1] - starts
        features = counts[tile_b]
        for tile_k in hl.jagged_tile(lengths):
            for tile_f in hl.jagged_tile(features):
                index = (starts[:, None] + tile_k.index[None, :])[:, :, None] * width
                out[tile_b, tile_k, tile_f] = hl.load(flat, [index + tile_f.index[None, None, :]])
    return out


def test_stores_stop_at_each_rows_length() -> None:
    lengths = [5, 0, 12, 3]
    values, offsets = ragged(lengths, width=6)
    counts = torch.tensor([6, 2, 1, 4], device=DEVICE)
    out = torch.full([4, 12, 6], 99.0, device=DEVICE)
    pad_rows(values, offsets, counts, out)
    expected = torch.full([4, 12, 6], 99.0, device=DEVICE)
    for r, (a, b) in enumerate(zip(offsets[:-1].tolist(), offsets[1:].tolist())):
        expected[r, : b - a, : counts[r]] = values[a:b, : counts[r]]
    torch.testing.assert_close(out, expected)


def test_jagged_tile_has_a_block_size_entry() -> None:
    values, offsets = ragged([2, 3])
    spec = row_sum_and_max.bind((values, offsets)).config_spec
    assert len(spec.default_config()["block_sizes"]) == 2


@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def jagged_without_parent(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    rows = offsets.size(0) - 1
    out = torch.zeros([rows], dtype=values.dtype, device=values.device)
    for tile_b in hl.tile(rows):
        lengths = offsets[tile_b.index + 1] - offsets[tile_b]
        for tile_k in hl.jagged_tile(lengths):
            out[tile_b] += values[tile_k, 0].sum()
    return out


@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def jagged_over_host_tensor(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(values)
    for tile_b in hl.tile(values.size(0)):
        for tile_k in hl.jagged_tile(offsets):
            out[tile_b, tile_k] = values[tile_b, tile_k]
    return out


@helion.kernel(config=helion.Config(block_sizes=[8]))
def jagged_at_top_level(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(values)
    for tile_k in hl.jagged_tile(offsets):
        out[tile_k] = values[tile_k]
    return out


def test_jagged_tile_errors() -> None:
    values, offsets = ragged([2, 3])
    with pytest.raises(exc.InvalidJaggedTileUsage, match=r"index with both, e\.g\. x\[tile_b"):
        jagged_without_parent(values, offsets)
    with pytest.raises(exc.InvalidJaggedTileUsage, match="this is a tensor"):
        jagged_over_host_tensor(values, offsets)
    with pytest.raises(exc.InvalidJaggedTileUsage, match="inside a device loop"):
        jagged_at_top_level(values[:, 0], offsets)


@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def scale_rows(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    total = int(offsets[-1].item())  # sized by data: the kernel reads it at launch
    rows = offsets.size(0) - 1
    out = torch.zeros(total, dtype=values.dtype, device=values.device)
    flat = values.view(-1)
    for tile_b in hl.tile(rows):
        starts = offsets[tile_b]
        lengths = offsets[tile_b.index + 1] - starts
        for tile_k in hl.jagged_tile(lengths):
            index = starts[:, None] + tile_k.index[None, :]
            row = hl.load(flat, [index])
            hl.store(out, [index], row * (tile_b.index[:, None] + 1).to(values.dtype))
    return out


def test_output_sized_by_loaded_total() -> None:
    lengths = [4, 0, 7, 2, 11]
    values, offsets = ragged(lengths)
    expected = torch.cat(
        [values[a:b, 0] * (r + 1) for r, (a, b) in enumerate(zip(offsets[:-1].tolist(), offsets[1:].tolist()))]
    )
    torch.testing.assert_close(scale_rows(values, offsets), expected)
