"""A store of `torch.where(m, new, old)`, where `old` is what the same
subscript held, writes `new` under mask `m` (the masked_stores pass): lanes
turned off write nothing, so lanes of one store that share an address no
longer race to write the old value over a result."""

from __future__ import annotations

import torch

import helion
import helion.language as hl


def scatter_rows(x: torch.Tensor, rows: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile_t, tile_n in hl.tile([rows.size(0), x.size(1)]):
        valid = tile_t.index < count[0]
        picked = rows[torch.where(valid, tile_t.index, 0)]
        old = out[picked, tile_n]
        out[picked, tile_n] = torch.where(valid[:, None], x[picked, tile_n] * 2, old)
    return out


def relu_and_sum(x: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    for tile_m, tile_n in hl.tile(x.size()):
        old = x[tile_m, tile_n]
        x[tile_m, tile_n] = torch.where(old < 0, 0.0, old)
        total[tile_m, tile_n] = total[tile_m, tile_n] + old
    return x


def zero_positives_after_copy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    for tile_m, tile_n in hl.tile(x.size()):
        old = x[tile_m, tile_n]
        y[tile_m, tile_n] = old
        x[tile_m, tile_n] = torch.where(old > 0, old * 0, old)
    return x


def test_lanes_sharing_a_row_keep_the_valid_lanes_result(device: str) -> None:
    x = torch.randn(37, 21, device=device)
    rows = torch.randperm(37, device=device)[:29]
    count = torch.tensor([13], device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=[16, 8]))(scatter_rows)
    expected = torch.zeros_like(x)
    expected[rows[:13]] = x[rows[:13]] * 2
    torch.testing.assert_close(kernel(x, rows, count), expected)
    code = kernel.bind((x, rows, count)).to_triton_code()
    assert "tl.load(out" not in code  # the old value is no longer read


def test_a_read_used_again_stays(device: str) -> None:
    x = torch.randn(19, 33, device=device)
    total = torch.randn(19, 33, device=device)
    expected_total = total + x
    kernel = helion.kernel(config=helion.Config(block_sizes=[8, 16]))(relu_and_sum)
    result = kernel(x.clone(), total)
    torch.testing.assert_close(result, x.clamp(min=0))
    torch.testing.assert_close(total, expected_total)


def test_a_store_between_the_read_and_the_select_keeps_it(device: str) -> None:
    x = torch.randn(19, 33, device=device)
    y = torch.empty_like(x)
    kernel = helion.kernel(config=helion.Config(block_sizes=[8, 16]))(zero_positives_after_copy)
    torch.testing.assert_close(kernel(x.clone(), y), torch.where(x > 0, 0.0, x))
    torch.testing.assert_close(y, x)


def test_empty_dimensions(device: str) -> None:
    x = torch.randn(0, 21, device=device)
    rows = torch.zeros(0, dtype=torch.long, device=device)
    count = torch.tensor([0], device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=[16, 8]))(scatter_rows)
    assert kernel(x, rows, count).shape == (0, 21)
    y = torch.randn(5, 0, device=device)
    relu = helion.kernel(config=helion.Config(block_sizes=[8, 16]))(relu_and_sum)
    assert relu(y.clone(), y.clone()).shape == (5, 0)
