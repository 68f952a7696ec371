"""The cases bound by tensor cores: their Helion kernels, plain Triton kernels for the same
jobs, and the PyTorch code that defines the right answer.

Cases: matmul (fp16, 4096^3 and 2048x2028x3000, the kernel of examples/matmul.py), batched
matmul (fp16, 64 x 512^3 and 8 x 2048^3), both against cuBLAS, and flash
attention forward (fp16 and bf16, 16 heads, 16K tokens per batch at sequence
1024 and 8192, head dim 64 and 128, causal and not) against
scaled_dot_product_attention's flash backend. The plain Triton kernels use
the tile shapes their authors would pick. benchmarks/gpu_table.py runs them.
"""

# Triton's compile-time parameters are upper case by convention.
# ruff: noqa: N803

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import triton
import triton.language as tl
from common import Case, load_example

import helion.language as hl

# --- the Helion kernels -------------------------------------------------------------


def bmm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    batch, m, k = a.size()
    n = b.size(2)
    out = torch.empty([batch, m, n], dtype=a.dtype, device=a.device)
    for tile_b, tile_m, tile_n in hl.tile([batch, m, n]):
        acc = hl.zeros([tile_b, tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.baddbmm(acc, a[tile_b, tile_m, tile_k], b[tile_b, tile_k, tile_n])
        out[tile_b, tile_m, tile_n] = acc.to(out.dtype)
    return out


def attention(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, n_dim, head_dim])
    k_view = k_in.reshape([-1, n_dim, head_dim]).transpose(1, 2)
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


def causal_attention(q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    m_dim = q_in.size(-2)
    n_dim = k_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, n_dim, head_dim])
    k_view = k_in.reshape([-1, n_dim, head_dim]).transpose(1, 2)
    out = torch.empty_like(q_view)
    qk_scale = 1.0 / math.sqrt(head_dim) * 1.44269504
    for tile_b, tile_m in hl.tile([q_view.size(0), m_dim]):
        m_i = hl.full([tile_b, tile_m], float("-inf"), dtype=torch.float32)
        l_i = torch.full_like(m_i, 1.0)
        acc = hl.zeros([tile_b, tile_m, head_dim], dtype=torch.float32)
        q = q_view[tile_b, tile_m, :]
        # Keys up to the tile's last query; each row sees key 0, so m_i is finite.
        for tile_n in hl.tile(0, tile_m.end):
            qk = torch.bmm(q, k_view[tile_b, :, tile_n])
            visible = tile_m.index[:, None] >= tile_n.index[None, :]
            qk = torch.where(visible[None, :, :], qk, float("-inf"))
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


# --- the same jobs in plain Triton -------------------------------------------------


@triton.jit
def _triton_bmm(
    a, b, c, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr
):
    pid = tl.program_id(0)
    batch = tl.program_id(1)
    tiles_m = tl.cdiv(M, BM)
    tiles_n = tl.cdiv(N, BN)
    group = pid // (GROUP * tiles_n)
    first_m = group * GROUP
    rows = min(tiles_m - first_m, GROUP)
    pid_m = first_m + (pid % rows)
    pid_n = (pid % (GROUP * tiles_n)) // rows
    offs_m = pid_m * BM + tl.arange(0, BM)
    offs_n = pid_n * BN + tl.arange(0, BN)
    offs_k = tl.arange(0, BK)
    a_ptr = a + batch * M * K + offs_m[:, None] * K + offs_k[None, :]
    b_ptr = b + batch * K * N + offs_k[:, None] * N + offs_n[None, :]
    acc = tl.zeros([BM, BN], dtype=tl.float32)
    for _ in range(0, tl.cdiv(K, BK)):
        acc = tl.dot(tl.load(a_ptr), tl.load(b_ptr), acc)
        a_ptr += BK
        b_ptr += BK * N
    c_ptr = c + batch * M * N + offs_m[:, None] * N + offs_n[None, :]
    tl.store(c_ptr, acc.to(c.dtype.element_ty))


def triton_bmm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    batch, m, k = a.shape
    n = b.shape[2]
    c = torch.empty([batch, m, n], device=a.device, dtype=a.dtype)
    bm, bn, bk = 128, 128, 64
    grid = (triton.cdiv(m, bm) * triton.cdiv(n, bn), batch)
    _triton_bmm[grid](a, b, c, m, n, k, bm, bn, bk, 8, num_warps=8, num_stages=3)
    return c


@triton.jit
def _triton_attention(
    q,
    k,
    v,
    o,
    N_CTX,
    scale,
    HEAD: tl.constexpr,
    BM: tl.constexpr,
    BN: tl.constexpr,
    CAUSAL: tl.constexpr,
):
    start_m = tl.program_id(0)
    bh = tl.program_id(1)
    base = bh * N_CTX * HEAD
    offs_m = start_m * BM + tl.arange(0, BM)
    offs_n = tl.arange(0, BN)
    offs_d = tl.arange(0, HEAD)
    query = tl.load(q + base + offs_m[:, None] * HEAD + offs_d[None, :])
    m_i = tl.full([BM], float("-inf"), tl.float32)
    l_i = tl.full([BM], 1.0, tl.float32)
    acc = tl.zeros([BM, HEAD], dtype=tl.float32)
    end_n = tl.minimum((start_m + 1) * BM, N_CTX) if CAUSAL else N_CTX
    for start_n in tl.range(0, end_n, BN):
        keys = tl.load(k + base + (start_n + offs_n)[None, :] * HEAD + offs_d[:, None])
        qk = tl.dot(query, keys)
        if CAUSAL:
            qk = tl.where(offs_m[:, None] >= (start_n + offs_n)[None, :], qk, float("-inf"))
        m_ij = tl.maximum(m_i, tl.max(qk, 1) * scale)
        p = tl.math.exp2(qk * scale - m_ij[:, None])
        alpha = tl.math.exp2(m_i - m_ij)
        l_i = l_i * alpha + tl.sum(p, 1)
        values = tl.load(v + base + (start_n + offs_n)[:, None] * HEAD + offs_d[None, :])
        acc = tl.dot(p.to(values.dtype), values, acc * alpha[:, None])
        m_i = m_ij
    tl.store(
        o + base + offs_m[:, None] * HEAD + offs_d[None, :],
        (acc / l_i[:, None]).to(o.dtype.element_ty),
    )


def triton_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False
) -> torch.Tensor:
    batch, heads, n_ctx, head = q.shape
    o = torch.empty_like(q)
    bm, bn = 128, 64
    grid = (triton.cdiv(n_ctx, bm), batch * heads)
    scale = 1.0 / math.sqrt(head) * 1.44269504
    _triton_attention[grid](
        q, k, v, o, n_ctx, scale, head, bm, bn, causal, num_warps=8, num_stages=3
    )
    return o


def triton_matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return triton_bmm(x[None], y[None])[0]


# --- PyTorch's ways ------------------------------------------------------------------


def sdpa_flash(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False
) -> torch.Tensor:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)


def attention_eager(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False
) -> torch.Tensor:
    """Attention as written without SDPA: the whole score matrix in memory."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if causal:
        n = q.size(-2)
        later = torch.ones([n, n], dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(later, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


# --- the cases -----------------------------------------------------------------------

MATMUL_SIZE = 4096
# (m, k, n) of a matmul whose sizes fit no tile: masks on every edge, and a row
# of x (2028 halves) too short of 16-byte alignment for tensor descriptors.
ODD_MATMUL_SHAPE = (2048, 2028, 3000)
BMM_SIZES = ((64, 512), (8, 2048))  # (batch, size) of size^3 products
ATTENTION_TOKENS = 16384  # per batch: the batch is this over the sequence length
ATTENTION_HEADS = 16
ATTENTION_SEQUENCES = (1024, 8192)
ATTENTION_HEAD_DIMS = (64, 128)


def matmul_case(
    label: str, shape: tuple[int, int, int], half: dict[str, Any],
    triton: Callable[..., Any] | None,
) -> Case:
    """examples/matmul.py's kernel on an (m, k) by (k, n) product."""
    m, k, n = shape
    return Case(
        f"matmul {label} fp16",
        load_example("matmul").matmul.fn,
        (torch.randn([m, k], **half), torch.randn([k, n], **half)),
        torch.matmul,
        vendor=("cuBLAS", torch.matmul),
        triton=triton,
        flops=2 * m * k * n,
    )


def cases(device: str = "cuda") -> Iterator[Case]:
    half = dict(device=device, dtype=torch.float16)
    size = MATMUL_SIZE
    yield matmul_case(f"{size}^3", (size, size, size), half, triton_matmul)
    # No plain Triton kernel: triton_matmul needs whole tiles.
    m, k, n = ODD_MATMUL_SHAPE
    yield matmul_case(f"{m}x{k}x{n}", ODD_MATMUL_SHAPE, half, None)
    for batch, size in BMM_SIZES:
        a, b = (torch.randn([batch, size, size], **half) for _ in range(2))
        yield Case(
            f"bmm fp16 {batch}x{size}^3",
            bmm,
            (a, b),
            torch.bmm,
            vendor=("cuBLAS", torch.bmm),
            triton=triton_bmm,
            flops=2 * batch * size**3,
        )
    for dtype, head_dim, seq, causal in itertools.product(
        (torch.float16, torch.bfloat16), ATTENTION_HEAD_DIMS, ATTENTION_SEQUENCES, (False, True)
    ):
        yield attention_case(dtype, head_dim, seq, causal, device)


def attention_case(dtype: torch.dtype, head_dim: int, seq: int, causal: bool, device: str) -> Case:
    batch = ATTENTION_TOKENS // seq
    heads = ATTENTION_HEADS
    q, k, v = (
        torch.randn([batch, heads, seq, head_dim], device=device, dtype=dtype) for _ in range(3)
    )
    # A causal mask skips half the score matrix (SDPA's convention for FLOP/s).
    flops = 4 * batch * heads * seq * seq * head_dim // (2 if causal else 1)
    dtype_name = {torch.float16: "fp16", torch.bfloat16: "bf16"}[dtype]
    mask = " causal" if causal else ""
    name = f"attention {dtype_name} {batch * heads}x{seq}x{head_dim}{mask}"
    return Case(
        name,
        causal_attention if causal else attention,
        (q, k, v),
        functools.partial(attention_eager, causal=causal),
        vendor=("SDPA flash", functools.partial(sdpa_flash, causal=causal)),
        triton=functools.partial(triton_attention, causal=causal),
        flops=flops,
    )
