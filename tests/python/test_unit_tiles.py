"""Tiles of block size 1 hold one index: their dimension leaves every value
(squeeze_unit_blocks), so a batch tile of 1 gives 2-D dots and 2-D pointer
arithmetic. Each kernel runs against PyTorch eager with the unit tile and
with a wider one, in every indexing style."""

from __future__ import annotations

import math
from typing import Any

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl

INDEXING = ["pointer", "block_ptr", "tensor_descriptor"]


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    batch, m, d = q.size()
    n = k.size(1)
    head_dim = hl.specialize(d)
    out = torch.empty_like(q)
    scale = 1.0 / math.sqrt(head_dim)
    for tile_b, tile_m in hl.tile([batch, m]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = hl.zeros([tile_b, tile_m], dtype=torch.float32)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        query = q[tile_b, tile_m, :]
        for tile_n in hl.tile(n):
            scores = torch.bmm(query, k[tile_b, tile_n, :].transpose(1, 2)) * scale
            m_new = torch.maximum(m_i, torch.amax(scores, -1))
            p = torch.exp(scores - m_new[:, :, None])
            alpha = torch.exp(m_i - m_new)
            l_i = l_i * alpha + torch.sum(p, -1)
            acc = torch.baddbmm(acc * alpha[:, :, None], p.to(v.dtype), v[tile_b, tile_n, :])
            m_i = m_new
        out[tile_b, tile_m, :] = (acc / l_i[:, :, None]).to(out.dtype)
    return out


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    batch, m, d = q.size()
    head_dim = hl.specialize(d)
    out = torch.empty_like(q)
    scale = 1.0 / math.sqrt(head_dim)
    for tile_b, tile_m in hl.tile([batch, m]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = hl.zeros([tile_b, tile_m], dtype=torch.float32)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        query = q[tile_b, tile_m, :]
        for tile_n in hl.tile(0, tile_m.end):
            scores = torch.bmm(query, k[tile_b, tile_n, :].transpose(1, 2)) * scale
            visible = tile_m.index[:, None] >= tile_n.index[None, :]
            scores = torch.where(visible[None, :, :], scores, float("-inf"))
            m_new = torch.maximum(m_i, torch.amax(scores, -1))
            p = torch.exp(scores - m_new[:, :, None])
            alpha = torch.exp(m_i - m_new)
            l_i = l_i * alpha + torch.sum(p, -1)
            acc = torch.baddbmm(acc * alpha[:, :, None], p.to(v.dtype), v[tile_b, tile_n, :])
            m_i = m_new
        out[tile_b, tile_m, :] = (acc / l_i[:, :, None]).to(out.dtype)
    return out


def masked_with_its_mask(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    batch, m, n = x.size()
    out = torch.empty_like(x)
    masks = torch.empty([batch, m, n], dtype=torch.bool, device=x.device)
    for tile_b, tile_m, tile_n in hl.tile([batch, m, n]):
        lower = (tile_m.index[:, None] >= tile_n.index[None, :])[None, :, :]
        out[tile_b, tile_m, tile_n] = torch.where(lower, x[tile_b, tile_m, tile_n], 0.0)
        # The unsqueezed mask is stored too: its size-1 dim must stay.
        masks[tile_b, tile_m, tile_n] = lower
    return out, masks


def column_sums(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    sums = torch.zeros([n], dtype=torch.float32, device=x.device)
    transposed = torch.empty([n, m], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        block = x[tile_m, tile_n]
        hl.atomic_add(sums, [tile_n], torch.sum(block, 0))
        transposed[tile_n, tile_m] = block.T
    return sums, transposed


def row_sums_by_columns(x: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_j in hl.tile(n):
            acc = acc + torch.sum(x[tile_m, tile_j], 1)
        out[tile_m] = acc
    return out


def add_row(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = x[tile_m, tile_n] + bias[:, tile_n]
    return out


def _kernel(fn: Any, **config: Any) -> helion.Kernel:
    return helion.kernel(config=helion.Config(**config))(fn)


def _tolerance(dtype: torch.dtype) -> dict[str, float]:
    return {"atol": 2e-2, "rtol": 2e-2} if dtype == torch.float16 else {"atol": 1e-4, "rtol": 1e-4}


@pytest.mark.parametrize("indexing", INDEXING)
@pytest.mark.parametrize("batch_block", [1, 2])
def test_bmm_with_a_batch_tile_of_one(device: str, indexing: str, batch_block: int) -> None:
    dtype = torch.float16 if device == "cuda" else torch.float32
    a = torch.randn(5, 48, 40, device=device, dtype=dtype)
    b = torch.randn(5, 40, 24, device=device, dtype=dtype)
    kernel = _kernel(K.bmm, block_sizes=[batch_block, 16, 16, 16], indexing=indexing)
    torch.testing.assert_close(
        kernel(a, b), torch.bmm(a.float(), b.float()).to(dtype), **_tolerance(dtype)
    )


def test_a_batch_tile_of_one_gives_two_dimensional_dots(device: str) -> None:
    a = torch.randn(4, 32, 32, device=device)
    code = (
        helion.kernel(K.bmm)
        .bind((a, a))
        .to_triton_code(helion.Config(block_sizes=[1, 16, 16, 16], indexing="tensor_descriptor"))
    )
    assert "acc = tl.full([_BLOCK_SIZE_1, _BLOCK_SIZE_2], 0.0, tl.float32)" in code
    assert "tl.reshape(a_desc_0.load([offset_0, offset_1, offset_3]), [_BLOCK_SIZE_1, _BLOCK_SIZE_3])" in code
    assert "indices_0 = offset_0\n" in code
    wider = (
        helion.kernel(K.bmm)
        .bind((a, a))
        .to_triton_code(helion.Config(block_sizes=[2, 16, 16, 16], indexing="pointer"))
    )
    assert "tl.full([_BLOCK_SIZE_0, _BLOCK_SIZE_1, _BLOCK_SIZE_2], 0.0, tl.float32)" in wider


@pytest.mark.parametrize("indexing", INDEXING)
@pytest.mark.parametrize("blocks", [[1, 16, 16], [2, 16, 16]], ids=["batch1", "batch2"])
def test_attention_with_a_batch_tile_of_one(device: str, indexing: str, blocks: list[int]) -> None:
    dtype = torch.float16 if device == "cuda" else torch.float32
    q, k, v = (torch.randn(3, 40, 16, device=device, dtype=dtype) for _ in range(3))
    kernel = _kernel(attention, block_sizes=blocks, indexing=indexing)
    expected = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float())
    torch.testing.assert_close(kernel(q, k, v), expected.to(dtype), **_tolerance(dtype))


@pytest.mark.parametrize("indexing", INDEXING)
@pytest.mark.parametrize("blocks", [[1, 16, 16], [2, 32, 16]], ids=["batch1", "batch2"])
def test_causal_attention_with_an_unsqueezed_mask(
    device: str, indexing: str, blocks: list[int]
) -> None:
    dtype = torch.float16 if device == "cuda" else torch.float32
    q, k, v = (torch.randn(3, 37, 16, device=device, dtype=dtype) for _ in range(3))
    kernel = _kernel(causal_attention, block_sizes=blocks, indexing=indexing)
    expected = torch.nn.functional.scaled_dot_product_attention(
        q.float(), k.float(), v.float(), is_causal=True
    )
    torch.testing.assert_close(kernel(q, k, v), expected.to(dtype), **_tolerance(dtype))


def test_an_unsqueezed_mask_against_a_tile_of_one_gives_two_dimensional_dots(device: str) -> None:
    q = torch.randn(2, 32, 16, device=device)
    code = (
        helion.kernel(causal_attention)
        .bind((q, q, q))
        .to_triton_code(helion.Config(block_sizes=[1, 16, 16]))
    )
    assert "acc = tl.full([_BLOCK_SIZE_1, _RBLOCK_2], 0.0, tl.float32)" in code
    statements = [line for line in code.splitlines() if not line.strip().startswith("#")]
    assert not any("[None, :, :]" in line for line in statements)


@pytest.mark.parametrize("batch_block", [1, 2])
def test_an_unsqueezed_mask_that_is_also_stored_keeps_its_dimension(
    device: str, batch_block: int
) -> None:
    x = torch.randn(3, 10, 12, device=device)
    out, masks = _kernel(masked_with_its_mask, block_sizes=[batch_block, 8, 8])(x)
    lower = torch.ones(10, 12, dtype=torch.bool, device=device).tril().expand(3, 10, 12)
    torch.testing.assert_close(masks, lower)
    torch.testing.assert_close(out, torch.where(lower, x, 0.0))


@pytest.mark.parametrize("row_block", [1, 4])
def test_reduction_and_transpose_over_a_tile_of_one_row(device: str, row_block: int) -> None:
    x = torch.randn(6, 40, device=device)
    sums, transposed = _kernel(column_sums, block_sizes=[row_block, 8])(x)
    torch.testing.assert_close(sums, x.sum(0), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(transposed, x.T.contiguous())


@pytest.mark.parametrize("column_block", [1, 8])
def test_inner_loop_with_a_tile_of_one_column(device: str, column_block: int) -> None:
    x = torch.randn(12, 21, device=device)
    out = _kernel(row_sums_by_columns, block_sizes=[4, column_block])(x)
    torch.testing.assert_close(out, x.sum(1), atol=1e-4, rtol=1e-4)


def test_a_size_one_dimension_lined_up_with_the_tile_keeps_it(device: str) -> None:
    x = torch.randn(6, 40, device=device)
    bias = torch.randn(1, 40, device=device)
    kernel = _kernel(add_row, block_sizes=[1, 8])
    torch.testing.assert_close(kernel(x, bias), x + bias)
    code = kernel.bind((x, bias)).to_triton_code(helion.Config(block_sizes=[1, 8]))
    assert "indices_0 = offset_0 + tl.arange(0, _BLOCK_SIZE_0)" in code
