"""Kernel bodies checked end to end against PyTorch eager.

They are plain functions: tests wrap them with ``helion.kernel(...)`` so one
body can be compiled with many configs and settings. The compiler reads their
source, so they must stay at module level in a file.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

import helion.language as hl

# --- pointwise ----------------------------------------------------------------


def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


def add_2d_list(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = x[tile_m, tile_n] + y[tile_m, tile_n]
    return out


def add_1d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        out[tile] = x[tile] + y[tile]
    return out


def add_one(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    return out


def pointwise_chain(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        a = x[tile].to(torch.float32)
        b = y[tile].to(torch.float32)
        pos = torch.abs(a) + 1.0
        v = torch.log(pos) + torch.sqrt(pos) * torch.rsqrt(pos + 0.5)
        v = v + torch.exp(-pos) + torch.sigmoid(a) * torch.relu(b)
        v = torch.where(a > b, v, -v)
        flag = (a < 0.25).to(torch.float32)
        truncated = (b * 4.0).to(torch.int32).to(torch.float32)
        out[tile] = (v + flag + truncated * 0.5).to(out.dtype)
    return out


def pointwise_chain_ref(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    a = x.float()
    b = y.float()
    pos = torch.abs(a) + 1.0
    v = torch.log(pos) + torch.sqrt(pos) * torch.rsqrt(pos + 0.5)
    v = v + torch.exp(-pos) + torch.sigmoid(a) * torch.relu(b)
    v = torch.where(a > b, v, -v)
    flag = (a < 0.25).to(torch.float32)
    truncated = (b * 4.0).to(torch.int32).to(torch.float32)
    return (v + flag + truncated * 0.5).to(x.dtype)


def scale_shift(x: torch.Tensor, row_scale: torch.Tensor, col_bias: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m, tile_n] = (
            x[tile_m, tile_n] * row_scale[tile_m][:, None] + col_bias[tile_n][None, :]
        )
    return out


def sum_and_diff(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    total = torch.empty_like(x)
    diff = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        a = x[tile]
        b = y[tile]
        total[tile] = a + b
        diff[tile] = a - b
    return total, diff


def activations(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        a = x[tile]
        out[tile] = torch.tanh(a) + torch.sigmoid(a) * 2.0 + torch.relu(a) * 3.0
    return out


def activations_ref(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x) + torch.sigmoid(x) * 2.0 + torch.relu(x) * 3.0


# --- matmul -------------------------------------------------------------------


def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, "size mismatch"
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


def matmul_matmul_op(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, "size mismatch"
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc += x[tile_m, tile_k] @ y[tile_k, tile_n]
        out[tile_m, tile_n] = acc
    return out


def matmul_torch_matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, "size mismatch"
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = acc + torch.matmul(x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


def matmul_mm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, "size mismatch"
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc += torch.mm(x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc.to(out.dtype)
    return out


def matmul_seed_assert(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, f"size mismatch {k} != {k2}"
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


def matmul_with_epilogue(
    x: torch.Tensor,
    y: torch.Tensor,
    epilogue: Callable[[torch.Tensor, tuple[object, ...]], torch.Tensor],
) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = epilogue(acc, (tile_m, tile_n))
    return out


def dot_with_acc(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = hl.dot(x[tile_m, tile_k], y[tile_k, tile_n], acc=acc)
        out[tile_m, tile_n] = acc
    return out


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
    """Flash attention forward over [batch, heads, sequence, head_dim] (online softmax)."""
    m_dim = q_in.size(-2)
    head_dim = hl.specialize(q_in.size(-1))
    q_view = q_in.reshape([-1, m_dim, head_dim])
    v_view = v_in.reshape([-1, m_dim, head_dim])
    k_view = k_in.reshape([-1, m_dim, head_dim]).transpose(1, 2)
    out = torch.empty_like(q_view)
    qk_scale = 1.0 / math.sqrt(head_dim) * 1.44269504  # exp2 instead of exp
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


# --- reductions -----------------------------------------------------------------


def softmax(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.amax(values, dim=1)
        exp = torch.exp(values - amax[:, None])
        sum_exp = torch.sum(exp, dim=1)
        out[tile_n, :] = exp / sum_exp[:, None]
    return out


def softmax_fp32_math(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :].to(torch.float32)
        amax = torch.amax(values, dim=1)
        exp = torch.exp(values - amax[:, None])
        sum_exp = torch.sum(exp, dim=1)
        out[tile_n, :] = (exp / sum_exp[:, None]).to(out.dtype)
    return out


def row_sum(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out


def row_mean_keepdim(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m, 1], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m, :] = torch.mean(x[tile_m, :], dim=-1, keepdim=True)
    return out


def center_rows(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        out[tile_m, :] = row - row.mean(dim=1, keepdim=True)
    return out


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    m, n = x.size()
    assert weight.size(0) == n, "weight size mismatch"
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :].to(torch.float32)
        mean_square = torch.mean(row * row, dim=-1)
        inv_rms = torch.rsqrt(mean_square + eps)
        normalized = row * inv_rms[:, None]
        out[tile_m, :] = (normalized * weight[:].to(torch.float32)).to(out.dtype)
    return out


def rms_norm_example(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    m, n = x.size()
    assert weight.size(0) == n, f"weight has {weight.size(0)} elements, expected {n}"
    out = torch.empty_like(x)
    for tile_m in hl.tile(m):
        row = x[tile_m, :].to(torch.float32)
        mean_square = torch.mean(row * row, dim=-1)
        inv_rms = torch.rsqrt(mean_square + eps)
        normalized = row * inv_rms[:, None]
        out[tile_m, :] = (normalized * weight[:].to(torch.float32)).to(out.dtype)
    return out


def rms_norm_ref(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    row = x.float()
    inv_rms = torch.rsqrt(row.pow(2).mean(-1, keepdim=True) + eps)
    return (row * inv_rms * weight.float()).to(x.dtype)


# --- several top-level loops --------------------------------------------------


def two_loops(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    doubled = torch.empty_like(x)
    sums = torch.empty([y.size(0)], dtype=y.dtype, device=y.device)
    for tile_m, tile_n in hl.tile([m, n]):
        doubled[tile_m, tile_n] = x[tile_m, tile_n] * 2
    for tile in hl.tile(y.size(0)):
        sums[tile] = torch.sum(y[tile, :], 1)
    return doubled, sums
