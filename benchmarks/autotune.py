"""Autotunes the example kernels on a GPU and reports how the search went.

For each kernel in examples/ (at the sizes their ``__main__`` uses) this runs a
fresh search (HELION_FORCE_AUTOTUNE=1, an empty cache directory) and reports:
the search's wall time, the configs it measured, the best kernel time, how long
it took to get within 10% of its final best, and PyTorch eager and
torch.compile times measured in the same process (triton.testing.do_bench
medians), with ratios. A PNG per kernel plots the best kernel time so far
against the search's wall time (needs matplotlib). ``--random-baseline N``
also runs RandomSearch for comparison (the core draws random configs in
batches of 100, so N is rounded up to a multiple of 100). The per-kernel
rows also go to ``results-<effort>.json`` in the output folder. Per search it
also prints where the time went (generating, compiling, running and
checking, timing: whichever dominates is what to cap) and the finalists'
re-timing (search time beside the interleaved median of the final rounds).
``--versus-full`` (with ``--effort quick``) also runs a full search with the
same seed on each kernel and times both picks interleaved, round by round, so
that drifts of the card fall on both alike: full should never pick the slower.

Without a CUDA GPU it runs as a smoke test of itself: tiny shapes under
Triton's interpreter, wall-clock times, no torch.compile.

Run: python benchmarks/autotune.py [--effort quick|full] [--kernels matmul,add]
     [--random-baseline N] [--versus-full] [--out DIR]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

KERNELS = ("matmul", "add", "softmax", "rms_norm", "sum", "attention")


# Per kernel: its sizes on a GPU, and the tiny ones of the CPU smoke run.
SIZES = {
    "matmul": ((4096, 4096, 4096), (48, 40, 32)),
    "add": ((4096, 4096), (40, 50)),
    "softmax": ((4096, 2560), (16, 40)),
    "rms_norm": ((4096, 4096), (16, 64)),
    "sum": ((4096, 8192), (16, 48)),
    "attention": ((1, 32, 2048, 64), (1, 2, 32, 16)),
}


def cases(
    names: list[str], device: str
) -> Iterator[tuple[str, str, Any, Callable[..., Any], tuple[Any, ...]]]:
    """(key, label, kernel function, PyTorch reference, arguments) per kernel."""
    import torch

    # Imported here: it imports torch and Triton, which must see the
    # environment main() sets up first.
    from common import load_example

    half = torch.float16 if device == "cuda" else torch.float32
    half_name = "fp16" if device == "cuda" else "fp32"
    for name in names:
        sizes = SIZES[name][0 if device == "cuda" else 1]
        shape = "x".join(map(str, sizes))
        if name == "matmul":
            m, k, n = sizes
            x = torch.randn([m, k], device=device, dtype=half)
            y = torch.randn([k, n], device=device, dtype=half)
            fn = load_example("matmul").matmul.fn
            yield name, f"matmul {shape} {half_name}", fn, torch.matmul, (x, y)
        elif name == "add":
            p, q = (torch.randn(sizes, device=device) for _ in range(2))
            yield name, f"add {shape} fp32", load_example("add").add.fn, torch.add, (p, q)
        elif name == "softmax":
            fn = load_example("softmax").softmax.fn
            reference = functools.partial(torch.softmax, dim=1)
            yield name, f"softmax {shape} fp32", fn, reference, (torch.randn(sizes, device=device),)
        elif name == "rms_norm":
            module = load_example("rms_norm")
            u = torch.randn(sizes, device=device, dtype=half)
            w = torch.randn(sizes[1:], device=device, dtype=half)
            label = f"rms_norm {shape} {half_name}"
            yield name, label, module.rms_norm.fn, module.rms_norm_reference, (u, w)
        elif name == "attention":
            fn = load_example("attention").attention.fn
            reference = torch.nn.functional.scaled_dot_product_attention
            q, k, v = (torch.randn(sizes, device=device, dtype=half) for _ in range(3))
            yield name, f"attention {shape} {half_name}", fn, reference, (q, k, v)
        elif name == "sum":
            fn = load_example("sum").row_sum.fn
            reference = functools.partial(torch.sum, dim=-1)
            yield name, f"row sum {shape} fp32", fn, reference, (torch.randn(sizes, device=device),)


def bench(fn: Callable[[], Any]) -> float:
    """Median ms: do_bench on a GPU, the wall clock of a few runs on the CPU."""
    import torch
    import triton

    if torch.cuda.is_available():
        return float(triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median"))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return sorted(times)[1]


def interleaved_ms(calls: list[Callable[[], Any]], rounds: int = 7) -> list[float]:
    """Median ms of each call over ``rounds`` rounds that time every call in turn."""
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for times, call in zip(samples, calls):
            times.append(bench(call))
    return [sorted(times)[len(times) // 2] for times in samples]


def within(best_over_time: list[list[float]], best_ms: float, factor: float = 1.1) -> float:
    """Seconds into the search when the best so far first came within ``factor`` of ``best_ms``."""
    for seconds, ms in best_over_time:
        if ms <= best_ms * factor:
            return float(seconds)
    return math.nan


def run_search(fn: Any, args: tuple[Any, ...], **settings: Any) -> dict[str, Any]:
    import helion
    from helion.autotuner import search

    kernel = helion.kernel(force_autotune=True, **settings)(fn)
    args = kernel.normalize_args(*args)
    bound = kernel.bind(args)
    start = time.perf_counter()
    best, result = search(bound, args)
    wall = time.perf_counter() - start
    bound.set_config(best)
    bound(*args)
    return {
        "call": functools.partial(bound, *args),
        "best": best,
        "wall_s": wall,
        "measured": int(result.get("configs_measured", len(result.get("history", [])))),
        "best_over_time": [list(map(float, p)) for p in result.get("best_over_time", [])],
        "step_seconds": result.get("step_seconds", {}),
        "finalists": result.get("finalists", []),
        "kernel_ms": bench(lambda: bound(*args)),
    }


def describe_finalists(finalists: list[dict[str, Any]], best: Any) -> str:
    """One line per finalist: search time, interleaved final median, the pick."""
    if not finalists:
        return "  finalists: not re-timed (the budget ran out)"
    lines = ["  finalists (search ms -> final median ms):"]
    for finalist in finalists:
        final = finalist["final_ms"]
        shown = f"{final:.4f}" if final is not None else f"failed: {finalist['error']}"
        picked = "  <- picked" if finalist["config"] == dict(best) else ""
        lines.append(f"    {finalist['search_ms']:.4f} -> {shown}{picked}")
    return "\n".join(lines)


def plot(path: Path, label: str, runs: dict[str, dict[str, Any]]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, run in runs.items():
        points = run["best_over_time"]
        if not points:
            continue
        xs = [p[0] for p in points] + [run["wall_s"]]
        ys = [p[1] for p in points] + [points[-1][1]]
        axes.step(xs, ys, where="post", label=f"{name} ({run['measured']} configs)")
    axes.set_xlim(left=0)
    axes.set_xlabel("autotune wall time (s)")
    axes.set_ylabel("best kernel time so far (ms)")
    axes.set_yscale("log")
    axes.set_title(label)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--effort", choices=("quick", "full"), default="quick")
    parser.add_argument(
        "--kernels", default=",".join(KERNELS), help=f"comma-separated, from {','.join(KERNELS)}"
    )
    parser.add_argument("--random-baseline", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--versus-full", action="store_true",
                        help="also search with effort full and time both picks interleaved")
    parser.add_argument("--out", default="autotune-results")
    options = parser.parse_args(argv)
    names = [name.strip() for name in options.kernels.split(",") if name.strip()]
    unknown = [name for name in names if name not in KERNELS]
    if unknown:
        parser.error(f"unknown kernels {unknown}; choose from {KERNELS}")
    if options.versus_full and options.effort != "quick":
        parser.error("--versus-full compares a full search with a quick one: use --effort quick")
    if options.versus_full and options.seed is None:
        options.seed = int(time.time()) % 100_000  # one seed for both searches

    # A fresh search every time: no cached configs from earlier runs.
    os.environ["HELION_FORCE_AUTOTUNE"] = "1"
    os.environ["HELION_CACHE_DIR"] = tempfile.mkdtemp(prefix="helion-autotune-bench-")

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        # A smoke run of this script: tiny shapes under Triton's interpreter.
        os.environ["TRITON_INTERPRET"] = "1"
    import triton

    from helion.autotuner.report import describe_steps

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    card = torch.cuda.get_device_name() if device == "cuda" else "CPU (Triton's interpreter)"
    print(
        f"device: {card}  torch {torch.__version__}  "
        f"triton {triton.__version__}  effort {options.effort}",
        flush=True,
    )
    settings: dict[str, Any] = {"autotune_effort": options.effort}
    if options.seed is not None:
        settings["autotune_random_seed"] = options.seed

    rows = []
    versus_full: list[tuple[str, float, float, float, float]] = []
    plotted = True
    total_start = time.perf_counter()
    for key, label, fn, reference, args in cases(names, device):
        print(f"\n=== {label} ===", flush=True)
        runs = {"default strategy": run_search(fn, args, **settings)}
        if options.random_baseline > 0:
            generations = max(0, math.ceil(options.random_baseline / 100) - 1)
            runs["random"] = run_search(
                fn,
                args,
                **{
                    **settings,
                    "autotune_effort": "full",
                    "autotune_strategy": "random",
                    "autotune_max_generations": generations,
                },
            )
        if options.versus_full:
            runs["full"] = run_search(fn, args, **{**settings, "autotune_effort": "full"})
            picks = [runs["default strategy"]["call"], runs["full"]["call"]]
            quick_ms, full_ms = interleaved_ms(picks)
            versus_full.append((label, quick_ms, full_ms, runs["default strategy"]["wall_s"],
                                runs["full"]["wall_s"]))
            print(f"picks timed interleaved: quick {quick_ms:.4f} ms, full {full_ms:.4f} ms, "
                  f"full/quick {full_ms / quick_ms:.3f}", flush=True)
        expected = reference(*args)
        result = runs["default strategy"]["call"]()
        torch.testing.assert_close(result.float(), expected.float(), rtol=2e-2, atol=2e-2)
        eager_ms = bench(lambda f=reference, a=args: f(*a))
        compile_ms = math.nan  # torch.compile's CPU code says nothing about a GPU
        if device == "cuda":
            compiled = torch.compile(reference)
            compiled(*args)
            compile_ms = bench(lambda f=compiled, a=args: f(*a))
        for name, run in runs.items():
            points = run["best_over_time"]
            search_best = points[-1][1] if points else run["kernel_ms"]
            rows.append(
                {
                    "kernel": label,
                    "strategy": name,
                    "wall_s": run["wall_s"],
                    "measured": run["measured"],
                    "kernel_ms": run["kernel_ms"],
                    "to_10pct_s": within(points, search_best),
                    "eager_ms": eager_ms,
                    "compile_ms": compile_ms,
                    "config": run["best"],
                    "best_over_time": run["best_over_time"],
                    "step_seconds": run["step_seconds"],
                    "finalists": run["finalists"],
                }
            )
            print(
                f"{name}: {run['wall_s']:.1f}s ({describe_steps(run['step_seconds'])}), "
                f"{run['measured']} configs, best {run['kernel_ms']:.4f} ms, "
                f"config {run['best']!r}",
                flush=True,
            )
            print(describe_finalists(run["finalists"], run["best"]), flush=True)
        print(f"eager {eager_ms:.4f} ms  torch.compile {compile_ms:.4f} ms", flush=True)
        plotted = plot(out / f"{key}.png", label, runs) and plotted

    print(f"\nTotal: {time.perf_counter() - total_start:.0f}s\n")
    saved = [{**row, "config": dict(row["config"])} for row in rows]
    (out / f"results-{options.effort}.json").write_text(json.dumps(saved, indent=1))
    print(
        "| kernel | strategy | autotune s | configs | best ms | within 10% after s "
        "| eager ms | torch.compile ms | eager/helion | compile/helion |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['kernel']} | {row['strategy']} | {row['wall_s']:.1f} | {row['measured']} "
            f"| {row['kernel_ms']:.4f} | {row['to_10pct_s']:.1f} | {row['eager_ms']:.4f} "
            f"| {row['compile_ms']:.4f} | {row['eager_ms'] / row['kernel_ms']:.2f} "
            f"| {row['compile_ms'] / row['kernel_ms']:.2f} |"
        )
    if versus_full:
        print(f"\nquick and full picks of seed {options.seed}, timed interleaved "
              "(7 rounds, medians):\n")
        print("| kernel | quick s | full s | quick pick ms | full pick ms | full/quick |")
        print("|---|---|---|---|---|---|")
        for label, quick_ms, full_ms, quick_s, full_s in versus_full:
            print(f"| {label} | {quick_s:.1f} | {full_s:.1f} | {quick_ms:.4f} | {full_ms:.4f} "
                  f"| {full_ms / quick_ms:.3f} |")
    print()
    for row in rows:
        print(f"{row['kernel']} ({row['strategy']}): {row['config']!r}")
    if plotted:
        print(f"\nplots: {out.resolve()}/<kernel>.png")
    else:
        print("\nmatplotlib is not installed: no plots written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
