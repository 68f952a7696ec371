"""Times the example kernels on a GPU against PyTorch eager and torch.compile.

Each Helion kernel gets a few candidate configs (`configs=[...]`): on its first
call it times them and keeps the fastest; with --autotune it searches instead,
and the table says how long the search took. All numbers come from one process
on one card; the table gives medians (triton.testing.do_bench) and ratios.
Run: python benchmarks/examples_vs_torch.py [--autotune quick|full]
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import sys
import time
from pathlib import Path

import torch
import triton

import helion

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The search effort of --autotune; None keeps each case's candidate configs.
EFFORT: str | None = None


def with_configs(kernel, configs):
    """The example's kernel function recompiled with candidate configs (or searched)."""
    if EFFORT:
        return helion.kernel(autotune_effort=EFFORT)(kernel.fn)
    return helion.kernel(configs=[helion.Config(**c) for c in configs])(kernel.fn)


def bench(fn) -> float:
    return triton.testing.do_bench(fn, warmup=50, rep=200, return_mode="median")


def cases():
    m = load_example("matmul")
    x = torch.randn([4096, 4096], device="cuda", dtype=torch.float16)
    y = torch.randn([4096, 4096], device="cuda", dtype=torch.float16)
    mm_configs = [
        dict(block_sizes=[[128, 128], [64]], num_warps=8, num_stages=3, indexing=ix, l2_grouping=8)
        for ix in ("pointer", "block_ptr", "tensor_descriptor")
    ] + [
        dict(
            block_sizes=[[128, 256], [64]],
            num_warps=8,
            num_stages=3,
            indexing="tensor_descriptor",
            l2_grouping=8,
        ),
        dict(
            block_sizes=[[64, 128], [64]],
            num_warps=4,
            num_stages=4,
            indexing="block_ptr",
            l2_grouping=8,
        ),
    ]
    yield "matmul 4096^3 fp16", with_configs(m.matmul, mm_configs), torch.matmul, (x, y)

    a = load_example("add")
    p = torch.randn([8192, 8192], device="cuda")
    q = torch.randn([8192, 8192], device="cuda")
    add_configs = [
        dict(block_sizes=[[b0, b1]], num_warps=w)
        for b0, b1, w in ((16, 256, 4), (32, 128, 4), (64, 64, 8), (8, 512, 4), (32, 256, 8))
    ]
    yield "add 8192^2 fp32", with_configs(a.add, add_configs), torch.add, (p, q)

    s = load_example("softmax")
    r = torch.randn([4096, 2560], device="cuda", dtype=torch.float16)
    sm_configs = [
        dict(block_sizes=[[b]], reduction_loops=[None], num_warps=w)
        for b, w in ((1, 4), (1, 8), (2, 8), (4, 16), (2, 4))
    ]
    yield (
        "softmax 4096x2560 fp16",
        with_configs(s.softmax, sm_configs),
        lambda t: torch.softmax(t, dim=1),
        (r,),
    )

    rs = load_example("sum")
    t = torch.randn([4096, 8192], device="cuda")
    sum_configs = [
        dict(block_sizes=[[b]], reduction_loops=[loop], num_warps=w)
        for b, loop, w in ((1, None, 8), (2, None, 16), (4, 2048, 8), (8, 1024, 8), (1, 4096, 4))
    ]
    yield "row sum 4096x8192 fp32", with_configs(rs.row_sum, sum_configs), lambda v: v.sum(-1), (t,)

    rn = load_example("rms_norm")
    u = torch.randn([4096, 4096], device="cuda", dtype=torch.float16)
    w = torch.randn([4096], device="cuda", dtype=torch.float16)
    rn_configs = [
        dict(block_sizes=[[b]], reduction_loops=[None], num_warps=nw)
        for b, nw in ((1, 4), (1, 8), (2, 8), (4, 16))
    ]
    yield (
        "rms_norm 4096^2 fp16",
        with_configs(rn.rms_norm, rn_configs),
        rn.rms_norm_reference,
        (u, w),
    )


def _bytes(value) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_bytes(v) for v in value)
    return 0


def copy_bandwidth_gbs() -> float:
    """Device-to-device copy bandwidth in this run: the memory-bound kernels' ceiling."""
    src = torch.empty(1 << 28, device="cuda", dtype=torch.float32)  # 1 GiB
    dst = torch.empty_like(src)
    ms = bench(lambda: dst.copy_(src))
    return 2 * _bytes(src) / ms / 1e6


def main() -> int:
    global EFFORT
    parser = argparse.ArgumentParser()
    parser.add_argument("--autotune", choices=("quick", "full"), default=None)
    EFFORT = parser.parse_args().autotune
    versions = f"torch {torch.__version__}  triton {triton.__version__}"
    print(f"device: {torch.cuda.get_device_name()}  {versions}")
    copy_gbs = copy_bandwidth_gbs()
    print(f"device-to-device copy: {copy_gbs:.0f} GB/s")
    rows = []
    for name, kernel, reference, args in cases():
        expected = reference(*args)
        start = time.perf_counter()
        result = kernel(*args)  # first call: times the candidates, keeps the fastest
        picked_s = time.perf_counter() - start
        torch.testing.assert_close(result.float(), expected.float(), rtol=2e-2, atol=2e-2)
        compiled = torch.compile(reference)
        compiled(*args)
        ours, eager, comp = (
            bench(functools.partial(fn, *args)) for fn in (kernel, reference, compiled)
        )
        chosen = kernel.bind(args).config
        # Bytes each element of the inputs and the output is read or written once.
        gbs = (_bytes(args) + _bytes(result)) / ours / 1e6
        rows.append((name, ours, eager, comp, gbs, picked_s))
        times = f"helion {ours:.4f} ms  eager {eager:.4f} ms  compile {comp:.4f} ms"
        print(f"{name}: {times}  {gbs:.0f} GB/s  config {chosen}", flush=True)
    print(
        "\n| kernel | helion ms | eager ms | torch.compile ms | eager/helion | compile/helion "
        "| helion GB/s | of copy bandwidth | config picked in |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, ours, eager, comp, gbs, picked_s in rows:
        ratios = f"{eager / ours:.2f} | {comp / ours:.2f}"
        print(f"| {name} | {ours:.4f} | {eager:.4f} | {comp:.4f} | {ratios} | {gbs:.0f} | "
              f"{gbs / copy_gbs:.0%} | {picked_s:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
