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
of ours: the guard (the check of the specialization called last), the key
and lookup a call takes when the guard misses, the host function with its
launch skipped (allocation, checks, grid), and the launch; on a GPU also
Triton's C launch alone and the floor of this path, the output's allocation
plus the C launch.

On a machine without a GPU the kernel runs under Triton's interpreter, whose
launch executes the kernel in Python: there the compiled kernel's C launch is
stubbed out (a Python function that does nothing stands for it), while
everything before it runs as on a GPU: the guard, the host function, the
``Launcher`` with its direct key. The figures then say what our Python
layers cost on the CPU; the split's launch is the ``Launcher``'s part alone.

Run: python benchmarks/call_overhead.py [--calls N] [--repeats N] [--size N]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
import types
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


@functools.cache
def raw_triton_add() -> Callable[[torch.Tensor], torch.Tensor]:
    """One Triton JIT function for every caller, so the one checked is the one timed."""
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
    """The guard, the host function without its launch, and the launch alone; on a GPU
    also the C launch alone and the floor of this path (the output's allocation and
    the C launch, nothing of ours)."""
    args = (x, x)
    key = add._key
    ready = add._ready
    guard = add._guard
    rows = {
        "guard (the last specialization's check)": per_call_us(lambda: guard(args), calls,
                                                               repeats),
        "key + lookup (a call the guard misses)": per_call_us(lambda: ready.get(key(args)),
                                                              calls, repeats),
    }
    host = add.bind(args)._host_without_launches()
    rows["host function, launch skipped"] = per_call_us(lambda: host(*args), calls, repeats)
    launch = captured_launch(args)
    name = "launch" if ON_GPU else "launch (the Launcher; C launch stubbed)"
    rows[name] = per_call_us(launch, calls, repeats) if launch is not None else float("nan")
    if ON_GPU:
        c_launch, allocate_and_c_launch = bare_launches(x)
        rows["C launch alone (Triton's launcher and the driver)"] = per_call_us(
            c_launch, calls, repeats)
        rows["floor: torch.empty_like + C launch"] = per_call_us(
            allocate_and_c_launch, calls, repeats)
    return rows


def bare_launches(x: torch.Tensor) -> tuple[Callable[[], None], Callable[[], torch.Tensor]]:
    """The recorded C launch of ``add(x, x)`` called with fixed arguments, and the same
    after allocating the output: what a cached call costs without any Python of ours."""
    from helion.runtime.launcher import _current_stream

    run = add._ready[add._key((x, x))]
    site = next(v for v in run.__globals__.values() if isinstance(v, Launcher) and v._kernels)
    c_launch, function, cooperative, pdl, metadata = next(iter(site._kernels.values()))
    recorded = captured_launch((x, x))
    assert recorded is not None
    grid_x, grid_y, grid_z, *arguments = recorded.args  # (x, y, z, x, x, out, literals...)
    stream = _current_stream(x.get_device())

    def launch_into(out: torch.Tensor) -> None:
        c_launch(grid_x, grid_y, grid_z, stream, function, cooperative, pdl, None, None,
                 metadata, None, None, None, x.data_ptr(), x.data_ptr(), out.data_ptr(),
                 *arguments[3:])

    def allocate_and_launch() -> torch.Tensor:
        result = torch.empty_like(x)
        launch_into(result)
        return result

    return functools.partial(launch_into, torch.empty_like(x)), allocate_and_launch


def captured_launch(args: tuple[Any, ...]) -> Callable[[], None] | None:
    """The host function's first launch with its arguments, replayable alone."""
    run = add._ready[add._key(args)]
    launchers = [value for value in run.__globals__.values() if isinstance(value, Launcher)]
    recorded: list[Callable[[], None]] = []
    for launcher in launchers:
        launcher.launch = _recording(launcher.launch, recorded)
    try:
        run(*args)
    finally:
        for launcher in launchers:
            launcher.launch = launcher.launch.__wrapped__
    return recorded[0] if recorded else None


def _recording(
    launch: Callable[..., None], recorded: list[Callable[[], None]]
) -> Callable[..., None]:
    @functools.wraps(launch)
    def record(*args: Any) -> None:
        launch(*args)
        recorded.append(functools.partial(launch, *args))

    return record


def direct_launch_count() -> int:
    run = next(iter(add._ready.values()))
    return sum(v.direct_launches for v in run.__globals__.values() if isinstance(v, Launcher))


def stub_launches(x: torch.Tensor) -> None:
    """Under the interpreter: ``add(x, x)`` runs its host function with a ``Launcher`` whose
    recorded C launch does nothing (see the module's doc)."""
    import triton.runtime

    from helion import _loader
    from helion.runtime import launcher

    bound = add.bind((x, x))
    bound.set_config(bound.config_spec.default_config())
    code = bound.to_triton_code()
    host = getattr(_loader.load_module(code), add.name)
    namespace = dict(host.__globals__)
    for name, value in host.__globals__.items():
        if type(value).__name__ == "InterpretedFunction":
            namespace[name] = _StubJit(value.fn)
    host = types.FunctionType(host.__code__, namespace, host.__name__, host.__defaults__)
    # The stand-ins of what the direct launch asks torch for on a GPU.
    launcher._current_device = lambda: 0
    launcher._current_stream = lambda device: 0
    real_jit_function = triton.runtime.JITFunction
    triton.runtime.JITFunction = _StubJit  # type: ignore[misc]
    try:
        fast = launcher.fast_launches(host, code)
    finally:
        triton.runtime.JITFunction = real_jit_function  # type: ignore[misc]
    fast(x, x)  # through the stand-in of Triton's launch, which records the kernel
    add._ready[add._key((x, x))] = fast


class _StubJit:
    """What the ``Launcher`` reads of a ``JITFunction``, around a kernel it never runs."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        import triton

        self.params = triton.runtime.JITFunction(fn).params
        self.device_caches = {0: (None, None, None, CUDABackend(), None)}
        self.pre_run_hooks: list[Any] = []

    def run(self, *args: Any, grid: Any, warmup: bool, **options: Any) -> Any:
        return _StubCompiled()


class CUDABackend:
    """Named as Triton's: the direct key reads tensors itself for CUDA's backend alone."""


class _StubCLauncher:
    launch_cooperative_grid = False
    launch_pdl = False
    global_scratch_size = 0
    profile_scratch_size = 0

    @staticmethod
    def launch(*args: Any) -> None:
        return None


class _StubCompiled:
    function = 0
    packed_metadata = (4, 1, 0)
    run = _StubCLauncher()


def per_call_times(x: torch.Tensor, calls: int, repeats: int) -> dict[str, float]:
    """µs per call of each way to add ``x`` to itself (the GPU-only ways on a GPU).

    ``add(x, x)`` must have run once before: a CUDA graph cannot capture its compilation.
    """
    times = {
        "helion": per_call_us(lambda: add(x, x), calls, repeats),
        "x + x": per_call_us(lambda: x + x, calls, repeats),
    }
    if ON_GPU:
        raw = raw_triton_add()
        times["raw Triton"] = per_call_us(lambda: raw(x), calls, repeats)
        times["CUDA graph"] = per_call_us(cuda_graph_replay(x), calls, repeats)
    return times


LABELS = {
    "helion": "ours: add(x, x)" + ("" if ON_GPU else ", C launch stubbed"),
    "x + x": "x + x",
    "raw Triton": "raw Triton JIT launch (with its allocation)",
    "CUDA graph": "CUDA graph replay of add(x, x)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--size", type=int, default=16, help="elements of the tiny tensor")
    options = parser.parse_args()
    device = "cuda" if ON_GPU else "cpu"
    x = torch.randn(options.size, device=device)
    # One real run checks the kernel (without a GPU, before its launch is stubbed).
    torch.testing.assert_close(add(x, x), x + x)
    if not ON_GPU:
        stub_launches(x)
    calls, repeats = options.calls, options.repeats
    times = per_call_times(x, calls, repeats)
    where = torch.cuda.get_device_name() if ON_GPU else "CPU, Triton interpreter"
    print(f"per-call time, {options.size}-element float32 tensor, on {where}")
    for name, value in times.items():
        print(f"  {LABELS[name]:<48} {value:8.2f} µs")
    print(f"  {'ours / (x + x)':<48} {times['helion'] / times['x + x']:8.2f} x")
    if ON_GPU:
        ratio = times["helion"] / times["raw Triton"]
        print(f"  {'ours / raw Triton JIT launch':<48} {ratio:8.2f} x")
    print(f"  {'direct launches so far':<48} {direct_launch_count():8d}")
    print("split of ours:")
    for name, value in split(x, calls, repeats).items():
        print(f"  {name:<48} {value:8.2f} µs")


if __name__ == "__main__":
    main()
