"""Times the kernels that lean on tensor cores, on a GPU, against the vendor
libraries and against plain Triton kernels written for the same job.

Cases: batched matmul (fp16, 64 x 512^3 and 8 x 2048^3) against cuBLAS
(torch.bmm), and flash attention forward (fp16 and bf16, 16 heads, 16K
tokens per batch at sequence 1024 and 8192, head dim 64 and 128, causal and
not) against scaled_dot_product_attention's flash backend. Each Helion kernel gets a few candidate configs (`configs=[...]`,
the fastest kept on the first call) unless --autotune picks a search effort;
the plain Triton kernels use the tile shapes their authors would pick. All
numbers come from one process on one card (triton.testing.do_bench medians).

Run: python benchmarks/tensor_cores.py [--autotune quick|full]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import sys
import time
from typing import Any

import torch
import triton
import triton.language as tl

import helion
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
            acc = torch.baddbmm(acc * alpha[:, :, None], p.to(v_view.dtype), v_view[tile_b, tile_n, :])
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
            acc = torch.baddbmm(acc * alpha[:, :, None], p.to(v_view.dtype), v_view[tile_b, tile_n, :])
            m_i = m_ij
        out[tile_b, tile_m, :] = (acc / l_i[:, :, None]).to(out.dtype)
    return out.view(q_in.size())


# --- the same jobs in plain Triton -------------------------------------------------


@triton.jit
def _triton_bmm(a, b, c, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                GROUP: tl.constexpr):
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
def _triton_attention(q, k, v, o, N_CTX, scale, HEAD: tl.constexpr, BM: tl.constexpr,
                      BN: tl.constexpr, CAUSAL: tl.constexpr):
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
    tl.store(o + base + offs_m[:, None] * HEAD + offs_d[None, :], (acc / l_i[:, None]).to(o.dtype.element_ty))


def triton_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     causal: bool = False) -> torch.Tensor:
    batch, heads, n_ctx, head = q.shape
    o = torch.empty_like(q)
    bm, bn = 128, 64
    grid = (triton.cdiv(n_ctx, bm), batch * heads)
    scale = 1.0 / math.sqrt(head) * 1.44269504
    _triton_attention[grid](q, k, v, o, n_ctx, scale, head, bm, bn, causal, num_warps=8,
                            num_stages=3)
    return o


# --- candidates and cases ------------------------------------------------------------


def bmm_configs() -> list[dict[str, Any]]:
    return [
        dict(block_sizes=[1, bm, bn, bk], loop_orders=[[1, 2, 0]], num_warps=w, num_stages=s,
             indexing=ix, l2_grouping=8)
        for bm, bn, bk, w, s in ((128, 128, 64, 8, 3), (128, 256, 64, 8, 3), (64, 128, 64, 4, 4))
        for ix in ("pointer", "tensor_descriptor")
    ]


def attention_configs(head_dim: int) -> list[dict[str, Any]]:
    tiles = ((128, 64, 8, 3), (128, 128, 8, 2), (64, 64, 4, 3))
    if head_dim > 64:
        tiles = ((128, 64, 8, 2), (64, 64, 4, 3), (128, 32, 8, 3))
    return [
        dict(block_sizes=[1, bm, bn], loop_orders=[[1, 0]], num_warps=w, num_stages=s, indexing=ix)
        for bm, bn, w, s in tiles
        for ix in ("pointer", "tensor_descriptor")
    ]


def sdpa_flash(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               causal: bool = False) -> torch.Tensor:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)


def helion_kernel(fn: Any, configs: list[dict[str, Any]], effort: str | None) -> helion.Kernel:
    if effort:
        return helion.kernel(autotune_effort=effort)(fn)
    return helion.kernel(configs=[helion.Config(**c) for c in configs])(fn)


def cases(effort: str | None):
    half = dict(device="cuda", dtype=torch.float16)
    for batch, size in ((64, 512), (8, 2048)):
        a = torch.randn([batch, size, size], **half)
        b = torch.randn([batch, size, size], **half)
        flops = 2 * batch * size**3
        yield (f"bmm fp16 {batch}x{size}^3", helion_kernel(bmm, bmm_configs(), effort),
               {"cuBLAS": torch.bmm, "triton": triton_bmm}, (a, b), flops)
    # 16 heads and 16K tokens per batch at every sequence length.
    for dtype, head_dim, seq, causal in itertools.product(
            (torch.float16, torch.bfloat16), (64, 128), (1024, 8192), (False, True)):
        batch = 16384 // seq
        q, k, v = (torch.randn([batch, 16, seq, head_dim], device="cuda", dtype=dtype)
                   for _ in range(3))
        # A causal mask skips half the score matrix (SDPA's convention for FLOP/s).
        flops = 4 * batch * 16 * seq * seq * head_dim // (2 if causal else 1)
        fn = causal_attention if causal else attention
        name = (f"attention {str(dtype)[6:]} {batch * 16}x{seq}x{head_dim}"
                f"{' causal' if causal else ''}")
        references = {"SDPA flash": functools.partial(sdpa_flash, causal=causal),
                      "triton": functools.partial(triton_attention, causal=causal)}
        yield (name, helion_kernel(fn, attention_configs(head_dim), effort), references,
               (q, k, v), flops)


def bench(fn) -> float:
    return triton.testing.do_bench(fn, warmup=50, rep=300, return_mode="median")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--autotune", choices=("quick", "full"), default=None)
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    options = parser.parse_args()
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  triton {triton.__version__}")
    rows = []
    wrong = 0
    for name, kernel, references, args, flops in cases(options.autotune):
        if options.only not in name:
            continue
        start = time.perf_counter()
        result = kernel(*args)  # the first call picks the config
        picked_s = time.perf_counter() - start
        for ref_name, reference in references.items():
            try:
                torch.testing.assert_close(result.float(), reference(*args).float(), rtol=2e-2,
                                           atol=2e-2)
            except AssertionError as error:
                wrong += 1
                print(f"WRONG: {name} vs {ref_name}: {error}", flush=True)
        timings = {"helion": bench(functools.partial(kernel, *args))}
        for ref_name, reference in references.items():
            timings[ref_name] = bench(functools.partial(reference, *args))
        config = kernel.bind(args).config
        rows.append((name, timings, flops, picked_s))
        text = "  ".join(f"{k} {v:.4f} ms" for k, v in timings.items())
        print(f"{name}: {text}  (config picked in {picked_s:.1f} s: {config})", flush=True)
    print("\n| kernel | helion ms | helion TFLOP/s | reference ms | ratio (reference/helion) "
          "| config picked in |")
    print("|---|---|---|---|---|---|")
    for name, timings, flops, picked_s in rows:
        ours = timings["helion"]
        refs = "; ".join(f"{k} {v:.4f}" for k, v in timings.items() if k != "helion")
        ratios = "; ".join(f"{k} {v / ours:.2f}x" for k, v in timings.items() if k != "helion")
        print(f"| {name} | {ours:.4f} | {flops / ours / 1e9:.0f} | {refs} | {ratios} "
              f"| {picked_s:.1f} s |")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
