"""Runs the benchmark cases on the GPU and returns every figure of one row per kernel.

Per case, every implementation (Helion, PyTorch eager, torch.compile, the
vendor library, plain Triton) runs once and is checked against eager
PyTorch; one that raises or differs is reported and not timed. Each Helion
kernel picks its config on its first call: from the on-disk config cache
when it holds one, else by a search of the chosen effort; that call is
timed. The rest are do_bench medians. Memory-bound kernels are measured
against device-to-device copies timed next to them: one that moves as many
bytes as the kernel, and one of 1 GiB.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import call_overhead
import memory_bound
import tensor_cores
import torch
import triton
from common import Case, bench, copy_gbs, tensor_bytes

import helion
from helion.autotuner import cache

GIB = 1 << 30
TOLERANCE = {"rtol": 2e-2, "atol": 2e-2}
PER_CALL_SIZE = 16
PER_CALL_NAME = f"per call: add of {PER_CALL_SIZE} fp32"

Row = dict[str, Any]


def all_cases() -> Iterator[Case]:
    return itertools.chain(tensor_cores.cases(), memory_bound.cases())


def measure(effort: str, wanted: Callable[[str], bool]) -> Iterator[Row]:
    """The row of each kernel whose name ``wanted`` accepts, as soon as it is measured."""
    for case in all_cases():
        if wanted(case.name):
            yield measure_case(case, effort)
    if wanted(PER_CALL_NAME):
        yield measure_per_call()


def run_facts(effort: str) -> dict[str, Any]:
    """What a set of rows depends on besides the kernels: rows merge only when these agree."""
    return {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "triton": triton.__version__,
        "helion": helion.__version__,
        "effort": effort,
    }


def measure_case(case: Case, effort: str) -> Row:
    # Each case compiles afresh: Dynamo would otherwise make sizes dynamic after
    # the first recompile and fall back to eager past its recompile limit.
    torch._dynamo.reset()
    kernel = helion.kernel(autotune_effort=effort)(case.helion_fn)
    calls = {
        name: functools.partial(fn, *case.args)
        for name, fn in implementations_of(case, kernel).items()
    }
    expected = case.eager(*case.args)
    configs_before = cached_configs()
    first_call_s, problems = first_calls(case.name, calls, expected)
    ms = {name: bench(call) for name, call in calls.items() if name not in problems}
    row: Row = {
        "kernel": case.name,
        "kind": "memory" if case.flops is None else "tensor cores",
        "vendor": case.vendor[0] if case.vendor else None,
        "ms": ms,
        "problems": problems,
        "first_call_s": first_call_s,
        "searched": None,
        "config": None,
    }
    if "helion" not in problems:
        row["searched"] = cache.skipped() or cached_configs() != configs_before
        row["config"] = dict(kernel.bind(case.args).config)
    row.update(best_reference(row))
    if case.flops is not None:
        row.update(compute_figures(case.flops, ms.get("helion")))
    else:
        moved_bytes = tensor_bytes(case.args) + tensor_bytes(expected)
        # Copies timed beside the kernel, as the card's clocks and neighbours drift.
        copies = {"copy_gbs": copy_gbs(moved_bytes), "copy_1gib_gbs": copy_gbs(2 * GIB)}
        row.update(memory_figures(moved_bytes, ms.get("helion"), **copies))
    print(describe(row), flush=True)
    return row


def implementations_of(case: Case, kernel: helion.Kernel) -> dict[str, Callable[..., Any]]:
    """Each way of doing the case's job, under the row's key for it; Helion's comes first."""
    implementations = {
        "helion": kernel,
        "eager": case.eager,
        "torch.compile": torch.compile(case.eager, dynamic=False),
    }
    if case.vendor is not None:
        implementations["vendor"] = case.vendor[1]
    if case.triton is not None:
        implementations["triton"] = case.triton
    return implementations


def cached_configs() -> dict[str, int]:
    """The config cache's files and when each was written: a search writes one, a hit none."""
    directory = cache.config_dir()
    if not directory.is_dir():
        return {}
    return {path.name: path.stat().st_mtime_ns for path in directory.glob("*.json")}


def first_calls(
    kernel_name: str, calls: dict[str, Callable[[], Any]], expected: torch.Tensor
) -> tuple[dict[str, float], dict[str, dict[str, str]]]:
    """Runs each call once and checks its result: the seconds each took (compiling,
    autotuning), and what was wrong, by call (also printed)."""
    seconds: dict[str, float] = {}
    problems: dict[str, dict[str, str]] = {}
    for name, call in calls.items():
        seconds[name], found = checked_first_call(call, expected)
        if found is not None:
            problems[name] = found
            print(f"{found['verdict']}: {kernel_name}: {name}: {found['detail']}", flush=True)
    return seconds, problems


def checked_first_call(
    call: Callable[[], Any], expected: torch.Tensor
) -> tuple[float, dict[str, str] | None]:
    start = time.perf_counter()
    try:
        result = call()
        torch.cuda.synchronize()
    except Exception as error:  # reported in the table; the other implementations still run
        return time.perf_counter() - start, problem("FAILED", f"{type(error).__name__}: {error}")
    seconds = time.perf_counter() - start
    try:
        torch.testing.assert_close(result.float(), expected.float(), **TOLERANCE)
    except AssertionError as error:
        return seconds, problem("WRONG", str(error))
    return seconds, None


def problem(verdict: str, detail: str) -> dict[str, str]:
    return {"verdict": verdict, "detail": detail.strip().replace("\n", " ")}


def best_reference(row: Row) -> Row:
    """The fastest implementation other than Helion's, and its time over Helion's."""
    references = {name: ms for name, ms in row["ms"].items() if name != "helion"}
    helion_ms = row["ms"].get("helion")
    if not references:
        return {"best_reference": None, "vs_best_reference": None}
    fastest = min(references, key=references.__getitem__)
    shown = row["vendor"] if fastest == "vendor" else fastest
    ratio = references[fastest] / helion_ms if helion_ms else None
    return {"best_reference": shown, "vs_best_reference": ratio}


def compute_figures(flops: int, helion_ms: float | None) -> Row:
    return {"flops": flops, "tflops": flops / helion_ms / 1e9 if helion_ms else None}


def memory_figures(
    moved_bytes: int, helion_ms: float | None, copy_gbs: float, copy_1gib_gbs: float
) -> Row:
    """Helion's bandwidth, alone and as a fraction of the copies' (one that moves the
    kernel's bytes, one of 1 GiB)."""
    gbs = moved_bytes / helion_ms / 1e6 if helion_ms else None
    return {
        "bytes": moved_bytes,
        "gbs": gbs,
        "copy_gbs": copy_gbs,
        "copy_1gib_gbs": copy_1gib_gbs,
        "of_copy": gbs / copy_gbs if gbs else None,
        "of_copy_1gib": gbs / copy_1gib_gbs if gbs else None,
    }


def measure_per_call() -> Row:
    """call_overhead's figures as a row: Helion's ``add`` of a tiny tensor against ``x + x``
    and a raw Triton launch (in ms like the other rows; ``per_call_us`` as it prints them)."""
    x = torch.randn(PER_CALL_SIZE, device="cuda")
    raw_triton = call_overhead.raw_triton_add()
    calls = {"helion": lambda: call_overhead.add(x, x), "triton": lambda: raw_triton(x)}
    first_call_s, problems = first_calls(PER_CALL_NAME, calls, x + x)
    row: Row = {
        "kernel": PER_CALL_NAME,
        "kind": "per call",
        "vendor": None,
        "ms": {},
        "per_call_us": {},
        "problems": problems,
        "first_call_s": first_call_s,
        "searched": None,
        "config": None,
    }
    if not problems:
        times = call_overhead.per_call_times(x, calls=2000, repeats=15)
        row["per_call_us"] = times
        row["ms"] = {
            "helion": times["helion"] / 1000,
            "eager": times["x + x"] / 1000,
            "triton": times["raw Triton"] / 1000,
        }
    row.update(best_reference(row))
    print(describe(row), flush=True)
    return row


def describe(row: Row) -> str:
    """One line per measured row, for the log."""
    times = "  ".join(f"{name} {ms:.4f} ms" for name, ms in row["ms"].items())
    return f"{row['kernel']}: {times}  config {row['config']}"
