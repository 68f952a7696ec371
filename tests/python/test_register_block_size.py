"""`hl.register_block_size`: a block size the config chooses, used by host
code (allocations, arithmetic) and by several `hl.tile` loops, each checked
against PyTorch eager under several configs."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(configs=[helion.Config(block_sizes=[b, 2]) for b in (4, 16, 64)])
def row_sum_by_blocks(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m, block_n], dtype=torch.float32)
        for tile_n in hl.tile(n, block_size=block_n):
            acc += x[tile_m, tile_n]
        out[tile_m] = acc.sum(-1)
    return out


@pytest.mark.parametrize("shape", [(7, 100), (1, 1), (5, 64)])
def test_accumulator_shaped_by_the_registered_size(shape: tuple[int, int]) -> None:
    x = torch.randn(*shape, device=DEVICE)
    for config in row_sum_by_blocks.configs:
        run = row_sum_by_blocks.bind((x,)).compile_config(config)
        torch.testing.assert_close(run(x), x.sum(-1), rtol=1e-5, atol=1e-5)


@helion.kernel(config=helion.Config(block_sizes=[8]))
def column_partials(x: torch.Tensor) -> torch.Tensor:
    """Host code allocates one row of partial sums per block of rows."""
    m, n = x.size()
    block_m = hl.register_block_size(m)
    num_blocks = (m + block_m - 1) // block_m
    partial = torch.empty([num_blocks, n], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m, block_size=block_m):
        partial[tile_m.begin // block_m, :] = torch.sum(x[tile_m, :], 0)
    return partial


def test_host_allocation_and_arithmetic_with_the_registered_size() -> None:
    x = torch.randn(21, 13, device=DEVICE)
    expected = torch.stack([c.sum(0) for c in x.split(8)])
    torch.testing.assert_close(column_partials(x), expected, rtol=1e-5, atol=1e-5)
    code = column_partials.bind((x,)).to_triton_code(helion.Config(block_sizes=[8]))
    host_code = code.split("def column_partials")[1]
    assert "    block_m = 8\n" in host_code  # the call is the config's value in host code


@helion.kernel(config=helion.Config(block_sizes=[16, 4]))
def two_loops_one_size(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two loops share the size: one over the whole range, one over a part."""
    m, n = x.size()
    whole = torch.zeros_like(x)
    part = torch.zeros_like(x)
    block_n = hl.register_block_size(n)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n, block_size=block_n):
            whole[tile_m, tile_n] = x[tile_m, tile_n]
        for tile_n in hl.tile(1, n, block_size=block_n):
            part[tile_m, tile_n] = x[tile_m, tile_n] * 2
    return whole, part


def test_loops_over_different_ranges_share_the_size() -> None:
    x = torch.randn(9, 37, device=DEVICE)
    whole, part = two_loops_one_size(x)
    expected = x * 2
    expected[:, 0] = 0
    torch.testing.assert_close(whole, x)
    torch.testing.assert_close(part, expected)
    spec = two_loops_one_size.bind((x,)).config_spec.default_config()
    assert len(spec.block_sizes) == 2  # the registered size, then tile_m


@helion.kernel(config=helion.Config(block_sizes=[16, 4]))
def registered_with_minimum(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    block_n = hl.register_block_size(16, n)
    for tile_m in hl.tile(m):
        for tile_n in hl.tile(n, block_size=block_n):
            out[tile_m, tile_n] = x[tile_m, tile_n] + 1
    return out


def test_minimum_is_enforced() -> None:
    x = torch.randn(4, 40, device=DEVICE)
    torch.testing.assert_close(registered_with_minimum(x), x + 1)
    bound = registered_with_minimum.bind((x,))
    with pytest.raises(exc.InvalidConfig):
        bound.compile_config(helion.Config(block_sizes=[8, 4]))


@helion.kernel(config=helion.Config(block_sizes=[16]))
def registered_on_device(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        bs = hl.register_block_size(n)
        out[tile] = x[tile] + bs
    return out


def test_register_on_device_is_refused() -> None:
    with pytest.raises(exc.UnsupportedOp, match="host code"):
        registered_on_device(torch.randn(8, device=DEVICE))
