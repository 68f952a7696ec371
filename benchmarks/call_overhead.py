"""What one call of a compiled kernel costs on a tiny tensor, and where the time goes.

Prints the per-call time (µs, the median over repeats of back-to-back calls,
so the CPU's cost of issuing a call, which is what bounds tiny kernels) of:

- ours: ``add(x, x)``, a cached call of a compiled helion kernel (on a GPU
  its launch goes straight to Triton's C launcher: ``runtime/launcher.py``);
- ``x + x``: a plain torch op;
- a raw Triton JIT launch of the same add (``kernel[grid](...)`` plus the
  output's allocation), GPU only;
- CUDA graph replay of one captured ``add(x, x)``, GPU only;

the ratios of ours to ``x + x`` and to the raw Triton launch, and the split
of ours: the guard (specialization key and lookup), the host function with
its launch skipped (allocation, checks, grid), and the launch.

On a machine without a GPU the kernel runs under Triton's interpreter, whose
launch executes the kernel in Python: there the launch is stubbed out and the
figures only say what our Python layers cost on the CPU.

Run: python benchmarks/call_overhead.py [--calls N] [--repeats N] [--size N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))

import torch  # noqa: E402

import helion  # noqa: E402
import helion.language as hl  # noqa: E402
from helion.runtime.launcher import Launcher  # noqa: E402

ON_GPU = torch.cuda.is_available()


@helion.kernel(autotune_effort="none")
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


def per_call_us(call: Callable[[], Any], calls: int, repeats: int) -> float:
    """Median over ``repeats`` of the wall time of ``calls`` back-to-back calls, per call."""
    for _ in range(min(calls, 100)):
        call()
    synchronize()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        synchronize()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def synchronize() -> None:
    if ON_GPU:
        torch.cuda.synchronize()


def raw_triton_add() -> Callable[[torch.Tensor], torch.Tensor]:
    import triton
    import triton.language as tl

    @triton.jit
    def add_kernel(x, y, out, n, BLOCK: tl.constexpr):  # noqa: N803
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offsets < n
        tl.store(out + offsets, tl.load(x + offsets, mask) + tl.load(y + offsets, mask), mask)

    def run(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        add_kernel[(triton.cdiv(n, 1024),)](x, x, out, n, BLOCK=1024)
        return out

    return run


def cuda_graph_replay(x: torch.Tensor) -> Callable[[], None]:
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        add(x, x)
    return graph.replay


def split(x: torch.Tensor, calls: int, repeats: int) -> dict[str, float]:
    """The guard, the host function without its launch, and the launch alone."""
    args = (x, x)
    key = add._key
    ready = add._ready
    guard = per_call_us(lambda: ready.get(key(args)), calls, repeats)
    host = add.bind(args)._host_without_launches()
    host_only = per_call_us(lambda: host(*args), calls, repeats)
    launch = captured_launch(args)
    launch_only = per_call_us(launch, calls, repeats) if launch is not None else float("nan")
    return {"guard (key + lookup)": guard, "host function, launch skipped": host_only,
            "launch": launch_only}


def captured_launch(args: tuple[Any, ...]) -> Callable[[], None] | None:
    """The host function's launch with its arguments, replayable alone (GPU only)."""
    if not ON_GPU:
        return None
    run = add._ready[add._key(args)]
    namespace = run.__globals__
    recorded: list[Callable[[], None]] = []
    for name, value in list(namespace.items()):
        if isinstance(value, Launcher):
            namespace[name] = _Recorder(value, recorded)
    try:
        run(*args)
    finally:
        for name, value in list(namespace.items()):
            if isinstance(value, _Recorder):
                namespace[name] = value.launcher
    return recorded[0] if recorded else None


class _Recorder:
    def __init__(self, launcher: Any, recorded: list[Callable[[], None]]) -> None:
        self.launcher = launcher
        self.recorded = recorded

    def __getitem__(self, grid: Any) -> Callable[..., None]:
        def launch(*args: Any, **options: Any) -> None:
            self.launcher[grid](*args, **options)
            self.recorded.append(lambda: self.launcher[grid](*args, **options))

        return launch


def direct_launch_count() -> int:
    run = next(iter(add._ready.values()))
    return sum(v.direct_launches for v in run.__globals__.values() if isinstance(v, Launcher))


def stub_launches(x: torch.Tensor) -> None:
    """Under the interpreter: every launch of ``add(x, x)`` does nothing (see the module's doc)."""
    bound = add.bind((x, x))
    bound.set_config(bound.config_spec.default_config())
    add._ready[add._key((x, x))] = bound._host_without_launches()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--size", type=int, default=16, help="elements of the tiny tensor")
    options = parser.parse_args()
    device = "cuda" if ON_GPU else "cpu"
    x = torch.randn(options.size, device=device)
    if not ON_GPU:
        # One real run checks the kernel before its launch is stubbed.
        torch.testing.assert_close(add(x, x), x + x)
        stub_launches(x)
    else:
        torch.testing.assert_close(add(x, x), x + x)
    calls, repeats = options.calls, options.repeats
    rows: list[tuple[str, float]] = [
        ("ours: add(x, x)" + ("" if ON_GPU else ", launch stubbed"),
         per_call_us(lambda: add(x, x), calls, repeats)),
        ("x + x", per_call_us(lambda: x + x, calls, repeats)),
    ]
    if ON_GPU:
        raw = raw_triton_add()
        rows.append(("raw Triton JIT launch (with its allocation)",
                     per_call_us(lambda: raw(x), calls, repeats)))
        rows.append(("CUDA graph replay of add(x, x)",
                     per_call_us(cuda_graph_replay(x), calls, repeats)))
    where = torch.cuda.get_device_name() if ON_GPU else "CPU, Triton interpreter"
    print(f"per-call time, {options.size}-element float32 tensor, on {where}")
    for name, value in rows:
        print(f"  {name:<48} {value:8.2f} µs")
    print(f"  {'ours / (x + x)':<48} {rows[0][1] / rows[1][1]:8.2f} x")
    if ON_GPU:
        print(f"  {'ours / raw Triton JIT launch':<48} {rows[0][1] / rows[2][1]:8.2f} x")
        print(f"  {'direct launches so far':<48} {direct_launch_count():8d}")
    print("split of ours:")
    for name, value in split(x, calls, repeats).items():
        print(f"  {name:<48} {value:8.2f} µs")


if __name__ == "__main__":
    main()
