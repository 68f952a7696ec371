"""Helpers that kernels' examples and tests import, as in Helion.

``DEVICE`` and ``HALF_DTYPE`` pick what a script runs on; ``run_example``
checks a kernel against its baselines and times them all; ``code_and_output``
and ``check_example`` give a kernel's generated code beside its result.
Without a CUDA GPU everything runs on the CPU (kernels under Triton's
interpreter), where timings say little about a GPU.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import unittest
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from . import exc
from ._config import Config
from ._settings import RefMode, Settings
from .autotuner.benchmarking import do_bench_generic as do_bench
from .runtime import Kernel, ref_mode

DEVICE = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
HALF_DTYPE = torch.float16
LONG_INT_TYPE = torch.int64

# The project's examples, beside the package in a checkout.
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def is_cuda() -> bool:
    """Kernels run on a CUDA GPU (not under Triton's interpreter)."""
    return DEVICE.type == "cuda"


def is_ref_mode_enabled(settings: Settings | None = None) -> bool:
    """Kernels run in ref mode: ``settings`` say so, or without settings, ``HELION_INTERPRET``."""
    if settings is not None:
        return settings.ref_mode == RefMode.EAGER
    return os.environ.get("HELION_INTERPRET", "").strip().lower() in ("1", "true", "yes", "on")


# --- skipping tests -----------------------------------------------------------------


def skipIfFn(condition: Callable[[], bool], reason: str) -> Callable[[Any], Any]:  # noqa: N802
    """Skips the test when ``condition()`` holds (asked when the decorator runs)."""
    return unittest.skipIf(condition(), reason)


def xfailIfFn(condition: Callable[[], bool]) -> Callable[[Any], Any]:  # noqa: N802
    """Marks the test an expected failure when ``condition()`` holds."""

    def decorate(test: Any) -> Any:
        return unittest.expectedFailure(test) if condition() else test

    return decorate


def skipIfNotCUDA() -> Callable[[Any], Any]:  # noqa: N802 (Helion's spelling)
    return unittest.skipIf(not is_cuda(), "needs a CUDA GPU")


def skipIfRefEager(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipIf(is_ref_mode_enabled(), reason)


def skipIfNormalMode(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipIf(not is_ref_mode_enabled(), reason)


def skipIfRocm(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipIf(torch.version.hip is not None, reason)


def skipIfXPU(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipIf(DEVICE.type == "xpu", reason)


def skipUnlessAMDCDNA(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipUnless(supports_amd_cdna_tunables(), reason)


def skipIfNotTriton(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    # Triton is the only backend here.
    return unittest.skipIf(False, reason)


def onlyBackends(backends: Sequence[str]) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipUnless("triton" in backends, f"runs only on {', '.join(backends)}")


def get_nvidia_gpu_model() -> str:
    """The CUDA GPU's name (e.g. "NVIDIA H100 80GB HBM3"), or "" without one."""
    if not is_cuda() or torch.version.hip is not None:
        return ""
    return torch.cuda.get_device_name(DEVICE)


def skipIfA10G(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipIf("A10G" in get_nvidia_gpu_model(), reason)


def _cuda_capability() -> tuple[int, int]:
    return torch.cuda.get_device_capability(DEVICE) if is_cuda() else (0, 0)


def skipIfCudaCapabilityLessThan(  # noqa: N802
    capability: tuple[int, int], reason: str
) -> Callable[[Any], Any]:
    return unittest.skipIf(_cuda_capability() < tuple(capability), reason)


def _shared_memory_per_block() -> int:
    if not is_cuda():
        return 0
    properties = torch.cuda.get_device_properties(DEVICE)
    return int(getattr(properties, "shared_memory_per_block_optin", 0))


def skipIfCudaSharedMemoryLessThan(  # noqa: N802
    required_bytes: int, reason: str
) -> Callable[[Any], Any]:
    return unittest.skipIf(_shared_memory_per_block() < required_bytes, reason)


skipIfSharedMemoryLessThan = skipIfCudaSharedMemoryLessThan  # noqa: N816 (Helion's spelling)


def skipIfLowVRAM(  # noqa: N802
    reason: str = "not enough GPU memory", required_bytes: int = 30 * 2**30
) -> Callable[[Any], Any]:
    memory = torch.cuda.get_device_properties(DEVICE).total_memory if is_cuda() else 0
    return unittest.skipIf(memory < required_bytes, reason)


def _version(text: str) -> tuple[int, ...]:
    digits = []
    for part in text.split("+")[0].split(".")[:3]:
        number = "".join(c for c in part if c.isdigit())
        digits.append(int(number) if number else 0)
    return tuple(digits)


def skipIfPyTorchBaseVerLessThan(version: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipIf(
        _version(torch.__version__) < _version(version), f"needs PyTorch {version} or later"
    )


def requires_torch_version(version: str) -> Callable[[Any], Any]:
    return skipIfPyTorchBaseVerLessThan(version)


def supports_tensor_descriptor() -> bool:
    """Triton's tensor descriptors (TMA) work here: a CUDA GPU of capability 9 or later."""
    return _cuda_capability() >= (9, 0)


def skipUnlessTensorDescriptor(reason: str) -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipUnless(supports_tensor_descriptor(), reason)


def get_tensor_descriptor_fn_name() -> str:
    """How generated code creates a tensor descriptor."""
    return "tl.make_tensor_descriptor"


def supports_amd_cdna_tunables() -> bool:
    # No config field here is specific to AMD's CDNA GPUs.
    return False


def skipUnlessTf32Supported(reason: str = "needs TF32") -> Callable[[Any], Any]:  # noqa: N802
    return unittest.skipUnless(_cuda_capability() >= (8, 0), reason)


def synchronize_device() -> None:
    """Waits for the GPU's queued work (nothing to wait for on the CPU)."""
    if is_cuda():
        torch.cuda.synchronize(DEVICE)


def is_master_rank() -> bool:
    # Kernels run in one process on one device (the distributed setting is not supported).
    return True


def sync_object(value: Any) -> Any:
    """The value every rank agrees on: with a single process, ``value`` itself."""
    return value


@contextlib.contextmanager
def float32_matmul_precision(precision: str = "high") -> Iterator[None]:
    """Sets ``torch.set_float32_matmul_precision`` for the block, then restores it."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


# --- ref mode in tests ----------------------------------------------------------------


@contextlib.contextmanager
def track_run_ref_calls() -> Iterator[list[str]]:
    """Yields a list that receives the name of each kernel run in ref mode in the block."""
    with ref_mode.observe_runs() as names:
        yield names


@contextlib.contextmanager
def assert_helion_ref_mode() -> Iterator[None]:
    """Fails unless some kernel runs in ref mode inside the block."""
    with track_run_ref_calls() as names:
        yield
    if not names:
        raise AssertionError("no helion kernel ran in ref mode in this block")


class TestCase(unittest.TestCase):
    """Base of kernel tests."""


class RefEagerTestBase:
    """Mixin of test classes whose kernels run in ref mode: each test runs with
    ``HELION_INTERPRET=1``, so kernels it decorates run eagerly in PyTorch."""

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        before = os.environ.get("HELION_INTERPRET")
        os.environ["HELION_INTERPRET"] = "1"

        def restore() -> None:
            if before is None:
                os.environ.pop("HELION_INTERPRET", None)
            else:
                os.environ["HELION_INTERPRET"] = before

        self.addCleanup(restore)  # type: ignore[attr-defined]


class RefEagerTestDisabled:
    """Mixin of test classes that must not run in ref mode: skipped when it is on."""

    def setUp(self) -> None:
        if is_ref_mode_enabled():
            self.skipTest("not run in ref mode")  # type: ignore[attr-defined]
        super().setUp()  # type: ignore[misc]


# Names of Helion's _testing that depend on its internals (its expected-output
# journal, its counters, its benchmark internals), with what to use here.
_NOT_PROVIDED = {
    "AssertExpectedJournal": "compare generated code with your own expected text",
    "CosSimilarity": "use torch.nn.functional.cosine_similarity",
    "counters": "helion keeps no event counters here",
    "compute_repeat": "use do_bench(fn, rep=...)",
    "interleaved_bench": "use run_example(..., interleaved=True) or do_bench",
    "get_test_dot_precision": "pass dot_precision= to @helion.kernel",
    "get_test_float32_matmul_precision": "use float32_matmul_precision(...)",
}


__getattr__ = exc.not_provided_getattr("helion._testing", _NOT_PROVIDED)


def import_path(path: str | Path) -> Any:
    """The module at ``path``, imported under a name made from the path."""
    path = Path(path).resolve()
    name = "_helion_example_" + "_".join(path.with_suffix("").parts[-2:])
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- checking outputs ---------------------------------------------------------------


def _clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        clone = value.detach().clone()
        return clone.requires_grad_(value.requires_grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def assert_close_with_mismatch_tolerance(
    actual: torch.Tensor,
    expected: torch.Tensor,
    *,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    max_mismatch_pct: float = 0.01,
    max_abs_diff: float | None = None,
) -> None:
    """Like ``torch.testing.assert_close``, but a fraction of elements
    (``max_mismatch_pct``) may be off, each by at most ``max_abs_diff``."""
    try:
        torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol)
        return
    except AssertionError:
        pass
    actual, expected = actual.float(), expected.float()
    off = ~torch.isclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True)
    fraction = off.float().mean().item() if off.numel() else 0.0
    worst = (actual - expected).abs()[off].max().item() if off.any() else 0.0
    if fraction > max_mismatch_pct or (max_abs_diff is not None and worst > max_abs_diff):
        raise AssertionError(
            f"{fraction:.2%} of elements differ (at most {max_mismatch_pct:.2%} may), the "
            f"largest difference is {worst:g}"
            + ("" if max_abs_diff is None else f" (at most {max_abs_diff:g} may be)")
        )


def _check_outputs(
    name: str,
    actual: Any,
    expected: Any,
    rtol: float,
    atol: float,
    max_mismatch_pct: float | None,
    max_mismatched_abs_diff: float | None,
) -> None:
    got, want = _tensors(actual), _tensors(expected)
    if len(got) != len(want):
        raise AssertionError(f"{name} returned {len(got)} tensors, the baseline {len(want)}")
    for a, e in zip(got, want):
        a, e = a.detach().float(), e.detach().float()
        if max_mismatch_pct is None:
            torch.testing.assert_close(a, e, rtol=rtol, atol=atol, msg=lambda m: f"{name}: {m}")
        else:
            assert_close_with_mismatch_tolerance(
                a,
                e,
                atol=atol,
                rtol=rtol,
                max_mismatch_pct=max_mismatch_pct,
                max_abs_diff=max_mismatched_abs_diff,
            )


def _implementations(fn: Any, default_name: str) -> dict[str, Callable[..., Any]]:
    if isinstance(fn, Mapping):
        return dict(fn)
    return {default_name: fn}


def run_example(
    kernel_fn: Callable[..., Any] | Mapping[str, Callable[..., Any]],
    baseline_fn: Callable[..., Any] | Mapping[str, Callable[..., Any]],
    args: Sequence[Any],
    kernel_name: str = "helion",
    baseline_name: str = "torch",
    rtol: float = 1e-2,
    atol: float = 1e-1,
    max_mismatch_pct: float | None = None,
    max_mismatched_abs_diff: float | None = None,
    bwd: bool = False,
    trace_path: str | None = None,
    process_group_name: str | None = None,
    interleaved: bool = True,
) -> dict[str, float]:
    """Checks every kernel (and every baseline after the first) against the
    first baseline's output, then times them all and prints a table to stderr.

    Returns each implementation's time in milliseconds. Raises on a mismatch.
    """
    for given, what in (
        (bwd, "bwd=True"),
        (trace_path, "trace_path"),
        (process_group_name, "process_group_name"),
    ):
        if given:
            raise exc.CompileError(
                f"run_example({what}) is not supported: kernels here have no backward, "
                "tracing or process groups; leave it out"
            )
    baselines = _implementations(baseline_fn, baseline_name)
    kernels = _implementations(kernel_fn, kernel_name)
    reference_name, reference = next(iter(baselines.items()))
    expected = reference(*_clone(args))
    implementations = {**baselines, **kernels}
    for name, fn in implementations.items():
        if name == reference_name:
            continue
        print(f"Testing {name} correctness...", file=sys.stderr)
        _check_outputs(
            name, fn(*_clone(args)), expected, rtol, atol, max_mismatch_pct, max_mismatched_abs_diff
        )

    times: dict[str, list[float]] = {name: [] for name in implementations}
    rounds = 3 if interleaved else 1
    for _ in range(rounds):
        for name, fn in implementations.items():
            times[name].append(float(do_bench(lambda fn=fn: fn(*args))))
    result = {name: sorted(t)[len(t) // 2] for name, t in times.items()}
    _print_table(result, baselines)
    return result


def _print_table(result: Mapping[str, float], baselines: Mapping[str, Any]) -> None:
    best_baseline = min(result[name] for name in baselines)
    lines = ["", "Benchmark Results", f"{'Implementation':<24}{'Time (ms)':>12}{'Speedup':>14}"]
    for name, ms in result.items():
        speedup = "1.00x (ref)" if ms == best_baseline else f"{best_baseline / ms:.2f}x"
        lines.append(f"{name:<24}{ms:>12.4f}{speedup:>14}")
    if not is_cuda():
        lines.append("(CPU, kernels under Triton's interpreter: times say nothing of a GPU)")
    print("\n".join(lines), file=sys.stderr)


# --- generated code -----------------------------------------------------------------


def code_and_output(fn: Kernel, args: Sequence[Any], **config_kwargs: Any) -> tuple[str, Any]:
    """The Triton module ``fn`` generates for ``args`` and the result of running it.

    The config comes from ``config_kwargs`` when given, else the kernel's one
    config, else its default config. In ref mode nothing is generated: the code
    is the kernel's own source, and the result comes from running it eagerly.
    """
    if not isinstance(fn, Kernel):
        raise TypeError(f"code_and_output takes a helion kernel, got {type(fn).__name__}")
    if is_ref_mode_enabled(fn.settings):
        if not config_kwargs:
            return fn.kernel_source, fn.run_ref(*args)
        config = Config(**config_kwargs)
        return fn.kernel_source, ref_mode.run(fn.fn, fn.name, fn.normalize_args(*args), config)
    bound = fn.bind(tuple(args))
    if config_kwargs:
        config = Config(**config_kwargs)
    elif len(fn.configs) == 1:
        config = fn.configs[0]
    else:
        config = bound.config_spec.default_config()
    bound.set_config(config)
    return bound.to_triton_code(config), bound(*fn.normalize_args(*args))


def check_example(
    name: str,
    args: Sequence[Any],
    expected: Any,
    fn_name: str | None = None,
    skip_accuracy: bool = False,
    static_shapes: bool | None = None,
    atol: float = 1e-1,
    rtol: float = 1e-2,
    **config_kwargs: Any,
) -> str:
    """Runs kernel ``fn_name`` (default ``name``) of ``examples/<name>.py`` on
    ``args`` with the config from ``config_kwargs``, checks its result against
    ``expected`` and returns the generated code."""
    module = import_path(EXAMPLES_DIR / f"{name}.py")
    kernel = getattr(module, fn_name or name)
    if static_shapes is not None:
        settings = {name: getattr(kernel.settings, name) for name in Settings.__slots__}
        settings["static_shapes"] = static_shapes
        kernel = Kernel(kernel.fn, configs=kernel.configs, settings=Settings(**settings))
    code, result = code_and_output(kernel, args, **config_kwargs)
    if not skip_accuracy:
        _check_outputs(fn_name or name, result, expected, rtol, atol, None, None)
    return code
