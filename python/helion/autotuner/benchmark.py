"""Evaluating a batch of candidate configs: compile, check, time.

The search (in the compiler core) calls :meth:`Evaluator.__call__` with a JSON
list of configs and a phase; each config is

1. generated (the Triton module's text),
2. compiled in parallel worker processes with a timeout each (see
   ``precompile.py``; skipped under Triton's interpreter),
3. loaded and run once in this process on clones of the arguments (kernels
   may write into their inputs), its output compared with the baseline's:
   the default config's, or ``autotune_baseline_fn``'s (see
   :class:`Tolerance` for how close is close enough),
4. timed: on a GPU by CUDA events around single runs with L2 flushed
   before each; in the "search" phase a candidate far slower than the best
   so far is cut after one run, the others get a few runs; in the "final"
   phase the finalists are timed round-robin over several rounds and each
   gets its median, so that a burst of noise on the card hits all of them
   alike; under the interpreter by the wall clock of one run.

With a deadline (``autotune_budget_seconds``), candidates still compiling
when it passes are stopped and those not yet run are not run; they come back
as ``{"time_ms": null, "error": ..., "skipped": true}``, which the search
counts neither as failures nor as measured.

Any failure marks only that candidate, as ``{"time_ms": null, "error": ...}``,
except a CUDA error (an illegal memory access, say): it leaves the CUDA
context unusable for the rest of the process, so the search stops at once
with :class:`helion.exc.AutotuningDeviceError` naming the config. Generated
code masks every access that can run past a bound, so this should not happen.

Fault injection, for tests only: when ``HELION_AUTOTUNE_FAULTS`` holds a JSON
object ``{substring: fault}``, a candidate whose ``repr(Config)`` contains the
substring gets the fault: ``"raise"`` (raises when run), ``"cuda_error"``
(raises as a CUDA error would), ``"wrong"`` (its output is perturbed),
``"compile_error"`` (fails to compile), and, in a compile worker only,
``"hang"`` (never finishes compiling) or ``"crash"`` (the worker dies).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import torch

from .. import exc
from .._config import Config
from . import precompile

if TYPE_CHECKING:
    from ..runtime.kernel import BoundKernel
    from .report import Reporter

FAULTS_ENV = "HELION_AUTOTUNE_FAULTS"
# Under the interpreter compile workers only import the module, which is not
# worth their start-up; tests turn this on to exercise the workers on a CPU.
precompile_on_cpu = False

# The error of a candidate the deadline left no time for.
BUDGET_SPENT = "not measured: the autotune budget ran out"

# Search phase: a candidate whose first run is this much slower than the best
# so far is not run again (attention's first batch had candidates over 100 ms).
_CUTOFF_FACTOR = 3.0
# Search phase: runs per candidate, and the GPU time one candidate may take.
_SEARCH_RUNS = 10
_SEARCH_TIME_MS = 50.0
# Final phase: round-robin rounds over the finalists, runs per finalist per
# round, and the GPU time one finalist may take in all.
_FINAL_ROUNDS = 7
_FINAL_RUNS = 5
_FINAL_TIME_MS = 300.0
# L2 is flushed by writing a buffer larger than any GPU's L2 cache.
_L2_FLUSH_BYTES = 256 << 20


class _InjectedFault(RuntimeError):
    pass


class _WrongOutput(Exception):
    pass


class _OutOfTime(Exception):
    pass


# How CUDA errors that poison the context read, as torch and Triton raise them.
_DEVICE_ERROR_MARKS = (
    "CUDA error",
    "Triton Error [CUDA]",
    "illegal memory access",
    "unspecified launch failure",
    "device-side assert",
    "misaligned address",
)


# Launch errors CUDA reports before running anything: the context stays usable.
_LAUNCH_REFUSAL_MARKS = (
    "too many blocks in cooperative launch",
    "out of resource",
)


def _is_device_error(error: BaseException) -> bool:
    text = str(error)
    if any(mark in text for mark in _LAUNCH_REFUSAL_MARKS):
        return False
    return any(mark in text for mark in _DEVICE_ERROR_MARKS)


def _faults() -> dict[str, str]:
    text = os.environ.get(FAULTS_ENV, "")
    if not text:
        return {}
    faults = json.loads(text)
    if not isinstance(faults, dict):
        raise ValueError(f"{FAULTS_ENV} must hold a JSON object")
    return {str(key): str(value) for key, value in faults.items()}


def _generate_quietly(bound: BoundKernel, config: Config) -> str:
    """The module for ``config``, cached on ``bound`` but not printed
    (``print_output_code`` shows the chosen config's module, not every candidate's)."""
    code = bound._code.get(config)
    if code is None:
        code = exc.call_core(bound._core.generate, json.dumps(dict(config)))
        bound._code[config] = code
    return code


def describe_error(error: BaseException) -> str:
    """``"<ExceptionType>: <first line>"``."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    first = lines[0].strip() if lines else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _tensors(value: Any) -> list[torch.Tensor]:
    """Every tensor in a kernel's result (a tensor, or nested tuples/lists/dicts)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def _clone(args: Sequence[Any]) -> list[Any]:
    return [arg.clone() if isinstance(arg, torch.Tensor) else arg for arg in args]


def _rounding_tolerance(dtype: torch.dtype, tf32: bool) -> float | None:
    """atol = rtol that covers rounding the result to ``dtype`` differently
    (and tf32 dots); None: compared exactly."""
    if dtype == torch.float32:
        return 1e-2 if tf32 else 1e-4
    if dtype == torch.float16:
        return 2e-2
    if dtype == torch.bfloat16:
        return 5e-2
    if dtype.is_floating_point:
        return 1e-4 if dtype == torch.float64 else 1e-1
    if dtype.is_complex:
        return 1e-4
    return None


def accumulation_lengths(described: dict[str, Any]) -> list[int]:
    """The lengths of the sums whose order a config may change, from the
    config spec's description: each reduction dimension and each tile loop
    inside the kernel (a matmul's K loop, a hand-written looped reduction).
    A loop that only maps over its range counts too: that only widens the
    tolerance a little."""
    lengths = [int(r["size_hint"]) for r in described.get("reduction_loops", ())]
    for entry in described.get("block_sizes", ()):
        if not entry.get("grid", True):
            lengths += [int(n) for n in entry.get("size_hints", ())]
    return [n for n in lengths if n > 1]


# How far beyond the typical difference of two summation orders a candidate
# may be: the typical difference over N terms is about eps * sqrt(N) times
# the size of the result (the partial sums of N random terms grow like the
# result does), and the largest over many outputs a few times that.
_ORDER_SAFETY = 16.0


class Tolerance:
    """How close a candidate's output must be to the baseline's.

    Two configs of a correct kernel differ by rounding: of the result to its
    dtype (``_rounding_tolerance``), and of sums added up in another order (a
    looped reduction, another K block). The second grows with the length of
    the sum and the size of what is summed, which is not visible in the
    result's dtype: an fp32 row sum over 8192 terms differs by up to 1e-3
    between orders where the fp32 rounding tolerance is 1e-4. So the atol
    and rtol add ``_ORDER_SAFETY * eps * sum(sqrt(N))`` over the kernel's
    accumulation lengths (``eps`` of the accumulator: fp32 for 16- and 32-bit
    floats, since reductions and dots accumulate in fp32, fp64 for fp64),
    the atol scaled by the root mean square of the baseline tensor. A real
    bug (a dropped element, a wrong mask, an off-by-one tile) changes a
    result by about one term, far above that. ``atol``/``rtol`` given by the
    user (``autotune_baseline_atol``/``rtol``) replace the computed ones.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        tf32: bool,
        atol: float | None = None,
        rtol: float | None = None,
        floor: float = 0.0,
    ) -> None:
        """``floor``: the least atol and rtol (a baseline computed another way
        gets Helion's 1e-2)."""
        self.growth = sum(math.sqrt(n) for n in lengths)
        self.tf32 = tf32
        self.atol = atol
        self.rtol = rtol
        self.floor = floor

    def of(self, want: torch.Tensor) -> tuple[float, float] | None:
        """(atol, rtol) for a tensor like ``want``; None: compared exactly."""
        rounding = _rounding_tolerance(want.dtype, self.tf32)
        if rounding is None:
            return None
        wide = want.dtype in (torch.float64, torch.complex128)
        accumulator = torch.float64 if wide else torch.float32
        order = _ORDER_SAFETY * torch.finfo(accumulator).eps * self.growth
        rtol = max(self.floor, rounding + order)
        atol = max(self.floor, rounding + order * _root_mean_square(want))
        if self.atol is not None:
            atol = self.atol
        if self.rtol is not None:
            rtol = self.rtol
        return atol, rtol


def _root_mean_square(tensor: torch.Tensor) -> float:
    """Over the finite elements; 0 when there are none."""
    magnitudes = tensor.detach().abs().double().flatten()
    magnitudes = magnitudes[torch.isfinite(magnitudes)]
    return float(magnitudes.square().mean().sqrt()) if magnitudes.numel() else 0.0


def _gpu_target(args: Sequence[Any]) -> precompile.GpuTarget | None:
    """The GPU of the first CUDA tensor argument (None: none is on a GPU)."""
    for arg in args:
        if isinstance(arg, torch.Tensor) and arg.device.type == "cuda":
            index = arg.device.index
            if index is None:
                index = torch.cuda.current_device()
            major, minor = torch.cuda.get_device_capability(index)
            return precompile.GpuTarget(index, (major, minor))
    return None


class Evaluator:
    """The ``evaluate`` callback of one autotuning run."""

    def __init__(
        self,
        bound: BoundKernel,
        args: Sequence[Any],
        reporter: Reporter,
        expected_batch: int = 1 << 30,
        deadline: float | None = None,
    ) -> None:
        """``deadline``: ``time.monotonic()`` seconds after which nothing more is
        compiled or run (None: no deadline)."""
        self.bound = bound
        self.deadline = deadline
        self.args = list(args)
        self.settings = bound.settings
        self.reporter = reporter
        self.on_gpu = bound._on_gpu()
        self.faults = _faults()
        self.best_ms = math.inf
        self.batches = 0
        self._reference: list[torch.Tensor] | None = None
        self._reference_done = False
        self._tolerance = Tolerance((), tf32=False)
        self._flush: torch.Tensor | None = None
        target = _gpu_target(self.args)
        self._device = torch.device("cuda", target.device_index) if target is not None else None
        self._precompiled: set[str] = set()
        self._described: bytes | None = None
        self._pool: precompile.WorkerPool | None = None
        self._compile_seconds: list[float] = []
        # Wall seconds spent per step (generate, compile, run and check, time):
        # where a search's time goes.
        self.step_seconds = dict.fromkeys(("generate", "compile", "run_and_check", "time"), 0.0)
        settings = self.settings
        if settings.autotune_precompile and (self.on_gpu or precompile_on_cpu):
            jobs = settings.autotune_precompile_jobs or min(os.cpu_count() or 1, 16)
            self._described = precompile.describe_args(self.args)
            log_stderr = settings.autotune_log_level <= logging.DEBUG
            self._pool = precompile.WorkerPool(jobs, log_stderr, _gpu_target(self.args))
            self._pool.prestart(expected_batch)

    @property
    def compile_seconds(self) -> list[float]:
        """How long each candidate's compile in a worker took."""
        return self._pool.compile_seconds if self._pool is not None else self._compile_seconds

    def close(self) -> None:
        """Stops the compile workers (keeping what they measured)."""
        if self._pool is not None:
            self._compile_seconds = self._pool.compile_seconds
            self._pool.close()
            self._pool = None

    # --- the callback -------------------------------------------------------------

    def __call__(self, configs_json: str, phase: str) -> str:
        configs = [Config.from_dict(config) for config in json.loads(configs_json)]
        results = self.evaluate(configs, phase)
        return json.dumps(
            [
                {
                    "time_ms": None if error else time_ms,
                    "error": error,
                    "skipped": error == BUDGET_SPENT,
                }
                for time_ms, error in results
            ]
        )

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def evaluate(
        self, configs: Sequence[Config], phase: str
    ) -> list[tuple[float | None, str | None]]:
        """(time in ms, None) or (None, error) per config; the error is
        :data:`BUDGET_SPENT` for those the deadline left no time for."""
        batch = self.batches
        self.batches += 1
        results: list[tuple[float | None, str | None]] = [(None, None)] * len(configs)
        normalized: list[Config | None] = [None] * len(configs)
        errors: dict[int, str] = {}
        with self._step("generate"):
            for index, config in enumerate(configs):
                if self.out_of_time():
                    errors[index] = BUDGET_SPENT
                    continue
                try:
                    normalized[index] = self.bound.config_spec.normalize(config)
                    _generate_quietly(self.bound, normalized[index])
                except Exception as error:
                    errors[index] = describe_error(error)
        with self._step("compile"):
            errors.update(self._precompile(configs, normalized, errors))
        # After the batch's compiles: the first batch holds the default config,
        # so the workers compile it beside the others instead of this process
        # compiling it alone first (3 s of attention's quick search).
        self._ensure_reference()
        if phase == "final":
            self._evaluate_final(configs, normalized, errors, results, batch)
            return results
        for index, config in enumerate(configs):
            error = errors.get(index)
            if error is None and self.out_of_time():
                error = BUDGET_SPENT
            if error == BUDGET_SPENT:
                results[index] = (None, error)
                continue
            time_ms: float | None = None
            if error is None:
                try:
                    run = self._run_and_check(config, normalized[index])
                    if self.out_of_time():
                        raise _OutOfTime(BUDGET_SPENT)
                    with self._step("time"):
                        time_ms = self._time_search(run)
                    self.best_ms = min(self.best_ms, time_ms)
                except _OutOfTime:
                    results[index] = (None, BUDGET_SPENT)
                    continue
                except Exception as failure:
                    error = self._failure(config, failure)
            results[index] = (time_ms, error)
            self.reporter.record(config, batch, phase, time_ms, error)
        return results

    def _evaluate_final(
        self,
        configs: Sequence[Config],
        normalized: Sequence[Config | None],
        errors: dict[int, str],
        results: list[tuple[float | None, str | None]],
        batch: int,
    ) -> None:
        """Checks each finalist once, then times them all round-robin (see
        :meth:`_time_interleaved`)."""
        runs: dict[int, Callable[[], Any]] = {}
        for index, config in enumerate(configs):
            error = errors.get(index)
            if error is None and self.out_of_time():
                error = BUDGET_SPENT
            if error is None:
                try:
                    runs[index] = self._run_and_check(config, normalized[index])
                except Exception as failure:
                    error = self._failure(config, failure)
            if error is not None:
                results[index] = (None, error)
                if error != BUDGET_SPENT:
                    self.reporter.record(config, batch, "final", None, error)
        if not runs:
            return
        with self._step("time"):
            times = self._time_interleaved(list(runs.values()))
        for index, time_ms in zip(runs, times, strict=True):
            results[index] = (time_ms, None)
            self.reporter.record(configs[index], batch, "final", time_ms, None)

    def _failure(self, config: Config, failure: Exception) -> str:
        """The error recorded for a candidate that raised; a CUDA error stops the search."""
        if _is_device_error(failure):
            raise self._device_error(config, failure) from failure
        return str(failure) if isinstance(failure, _WrongOutput) else describe_error(failure)

    # --- the steps --------------------------------------------------------------

    @contextlib.contextmanager
    def _step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.step_seconds[name] += time.perf_counter() - start

    def _fault(self, config: Config) -> str | None:
        if not self.faults:
            return None
        text = repr(config)
        for substring, fault in self.faults.items():
            if substring in text:
                return fault
        return None

    def _precompile(
        self,
        configs: Sequence[Config],
        normalized: Sequence[Config | None],
        errors: dict[int, str],
    ) -> dict[int, str]:
        """Compiles the batch's new modules in the workers; index -> error."""
        found: dict[int, str] = {}
        tasks: list[precompile.Task] = []
        for index, config in enumerate(normalized):
            if index in errors or config is None:
                continue
            fault = self._fault(configs[index])
            if self._pool is None:
                if fault == "compile_error":
                    found[index] = "compile error: injected compile error"
                continue
            if config in self.bound._compiled and fault is None:
                continue
            text = _generate_quietly(self.bound, config)
            if text in self._precompiled and fault is None:
                continue
            tasks.append(precompile.Task(index, text, self.bound.fn.__name__, fault))
        if not tasks or self._pool is None:
            return found
        if self._pool.broken:
            self._pool = None  # workers do not start here: compile in this process
            return found
        # A candidate compiling many times longer than every successful one is
        # given up on early (attention's hung for the whole 60 s).
        outcome = self._pool.compile(
            tasks,
            self._described,
            float(self.settings.autotune_compile_timeout),
            self.deadline,
            adaptive=getattr(self.settings, "autotune_adaptive_timeout", True),
            quick=self.settings.autotune_effort in ("quick", "none"),
        )
        for task in tasks:
            if task.key not in outcome:
                continue  # not compiled there: compiled here when first run
            error = outcome[task.key]
            if error == precompile.OUT_OF_TIME:
                found[task.key] = BUDGET_SPENT
            elif error is None:
                self._precompiled.add(task.module_text)
            else:
                found[task.key] = error
        return found

    def _device_error(self, config: Config, failure: BaseException) -> Exception:
        return exc.AutotuningDeviceError(
            f"kernel '{self.bound.fn.__name__}': while autotuning, the candidate {config!r} "
            f"raised {describe_error(failure)}. This leaves the GPU unusable for the rest of "
            "this process, so the search stopped. It is a bug in the code generated for that "
            "config; please report it with the config. To go on: restart the process and pass "
            "a config that works (config=helion.Config(...)), or keep the search away from "
            "this one with autotune_config_overrides."
        )

    def _ensure_reference(self) -> None:
        """The baseline's output, once per autotune (on clones of the arguments):
        ``autotune_baseline_fn(*args)`` when set, else the default config's."""
        if self._reference_done:
            return
        self._reference_done = True
        if not self.settings.autotune_accuracy_check:
            return
        settings = self.settings
        default = self.bound.config_spec.default_config()
        code = _generate_quietly(self.bound, default)
        tf32 = self.on_gpu and "tl.dot(" in code and settings.dot_precision != "ieee"
        lengths = accumulation_lengths(self.bound.config_spec.describe())
        atol = getattr(settings, "autotune_baseline_atol", None)
        rtol = getattr(settings, "autotune_baseline_rtol", None)
        baseline_fn = getattr(settings, "autotune_baseline_fn", None)
        if baseline_fn is not None:
            # Another computation than the kernel's: Helion's 1e-2 at least.
            self._tolerance = Tolerance(lengths, tf32, atol, rtol, floor=_BASELINE_FN_FLOOR)
            self._reference = self._baseline_outputs(baseline_fn)
            return
        self._tolerance = Tolerance(lengths, tf32, atol, rtol)
        try:
            run = self.bound.compile_config(default)
            self._reference = self._outputs(run)
        except Exception as error:
            if _is_device_error(error):
                raise self._device_error(default, error) from error
            self.reporter.note(
                f"[helion] kernel '{self.bound.fn.__name__}': the default config failed "
                f"({describe_error(error)}); outputs are not checked"
            )

    def _baseline_outputs(self, baseline_fn: Callable[..., Any]) -> list[torch.Tensor]:
        try:
            return self._outputs(baseline_fn)
        except Exception as error:
            raise exc.AutotuneError(
                f"kernel '{self.bound.fn.__name__}': autotune_baseline_fn raised "
                f"{describe_error(error)}; it is called like the kernel, with the same "
                "arguments, and must return what the kernel returns"
            ) from error

    def _outputs(self, run: Callable[..., Any], fault: str | None = None) -> list[torch.Tensor]:
        """What one run produces: its result's tensors, then the arguments after it."""
        args = _clone(self.args)
        if fault == "raise":
            raise _InjectedFault("injected fault")
        if fault == "cuda_error":
            raise _InjectedFault("CUDA error: an illegal memory access was encountered")
        result = run(*args)
        self._synchronize()
        outputs = [t.detach() for t in _tensors(result)]
        outputs += [arg for arg in args if isinstance(arg, torch.Tensor)]
        if fault == "wrong" and outputs:
            first = outputs[0]
            outputs[0] = first + 1 if first.dtype != torch.bool else ~first
        return outputs

    def _check(self, outputs: list[torch.Tensor]) -> None:
        expected = self._reference
        if expected is None:
            return
        baseline = (
            "autotune_baseline_fn"
            if getattr(self.settings, "autotune_baseline_fn", None) is not None
            else "the default config"
        )
        if len(outputs) != len(expected):
            raise _WrongOutput(
                f"wrong output: {len(outputs)} tensors, {baseline} gives {len(expected)}"
            )
        for index, (got, want) in enumerate(zip(outputs, expected, strict=True)):
            if got.shape != want.shape or got.dtype != want.dtype:
                raise _WrongOutput(
                    f"wrong output: tensor {index} is {got.dtype}{list(got.shape)}, "
                    f"{baseline} gives {want.dtype}{list(want.shape)}"
                )
            tolerance = self._tolerance.of(want)
            if tolerance is None:
                if not torch.equal(got, want):
                    raise _WrongOutput(f"wrong output: tensor {index} differs from {baseline}'s")
                continue
            atol, rtol = tolerance
            if not torch.allclose(got, want, atol=atol, rtol=rtol, equal_nan=True):
                diff = (got.double() - want.double()).abs().nan_to_num(math.inf).max().item()
                raise _WrongOutput(
                    f"wrong output: tensor {index} differs from {baseline}'s "
                    f"(max abs diff {diff:.3g}, atol {atol:.3g}, rtol {rtol:.3g})"
                )

    def _run_and_check(self, config: Config, normalized: Config | None) -> Callable[[], Any]:
        """Runs ``config`` once and checks its output; returns a call of it to time."""
        fault = self._fault(config)
        with self._step("run_and_check"):
            run = self.bound.compile_config(normalized)
            outputs = self._outputs(run, fault)
            if self.settings.autotune_accuracy_check:
                self._check(outputs)
            del outputs
            return functools.partial(run, *_clone(self.args))

    def _synchronize(self) -> None:
        if self.on_gpu:
            torch.cuda.synchronize()

    def _time_search(self, fn: Callable[[], Any]) -> float:
        """A quick time: the median of a few runs, or the first run alone when
        it is far slower than the best so far."""
        if not self.on_gpu:
            start = time.perf_counter()
            fn()
            return (time.perf_counter() - start) * 1000.0
        first = self._gpu_times(fn, 1)[0]
        if first > _CUTOFF_FACTOR * self.best_ms:
            return first
        runs = _runs_within(first, _SEARCH_RUNS, _SEARCH_TIME_MS)
        return statistics.median(self._gpu_times(fn, runs))

    def _time_interleaved(self, fns: Sequence[Callable[[], Any]]) -> list[float]:
        """Median ms per function, timed round-robin: each round times every
        function a few times in turn, so that the card's clock and thermal
        drifts and other processes' bursts fall on all of them alike."""
        if not self.on_gpu:
            samples: list[list[float]] = [[] for _ in fns]
            for _ in range(3):
                for index, fn in enumerate(fns):
                    start = time.perf_counter()
                    fn()
                    samples[index].append((time.perf_counter() - start) * 1000.0)
            return [statistics.median(times) for times in samples]
        for fn in fns:  # warm up: caches, clocks, lazily loaded code
            fn()
        firsts = [self._gpu_times(fn, 1)[0] for fn in fns]
        per_round = [
            _runs_within(first, _FINAL_RUNS, _FINAL_TIME_MS / _FINAL_ROUNDS) for first in firsts
        ]
        samples = [[] for _ in fns]
        for _ in range(_FINAL_ROUNDS):
            for index, fn in enumerate(fns):
                samples[index] += self._gpu_times(fn, per_round[index])
        return [statistics.median(times) for times in samples]

    def _gpu_times(self, fn: Callable[[], Any], runs: int) -> list[float]:
        """Milliseconds of each of ``runs`` runs, L2 flushed before each, by CUDA events."""
        if self._flush is None:
            self._flush = torch.empty(_L2_FLUSH_BYTES, dtype=torch.int8, device=self._device)
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(runs)]
        torch.cuda.synchronize()
        for start, end in zip(starts, ends, strict=True):
            self._flush.zero_()
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        return [start.elapsed_time(end) for start, end in zip(starts, ends, strict=True)]


# With autotune_baseline_fn the baseline is computed another way than the
# kernel: outputs within Helion's default tolerance pass.
_BASELINE_FN_FLOOR = 1e-2


def _runs_within(first_ms: float, most: int, budget_ms: float) -> int:
    """How many runs of a ``first_ms`` kernel fit in ``budget_ms`` (1 to ``most``)."""
    if first_ms <= 0:
        return most
    return max(1, min(most, int(budget_ms / first_ms)))
