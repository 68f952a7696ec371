"""``helion.autotuner.benchmarking``: timing a callable the way users' benchmarks do."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch


def do_bench_generic(
    fn: Callable[[], Any],
    warmup: int = 25,
    rep: int = 100,
    grad_to_none: Sequence[torch.Tensor] | None = None,
    quantiles: Sequence[float] | None = None,
    return_mode: str = "mean",
) -> Any:
    """Milliseconds per call of ``fn``: Triton's ``do_bench`` on a GPU; on the
    CPU the median of repeated wall-clock runs over about ``rep`` ms."""
    if torch.cuda.is_available():
        from triton.testing import do_bench as triton_do_bench

        return triton_do_bench(fn, warmup, rep, grad_to_none, quantiles, return_mode)
    fn()
    times: list[float] = []
    deadline = time.perf_counter() + rep / 1000
    while not times or (time.perf_counter() < deadline and len(times) < 1000):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]
