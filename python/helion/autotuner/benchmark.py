"""Evaluating a batch of candidate configs: compile, check, time.

The search (in the compiler core) calls :meth:`Evaluator.__call__` with a JSON
list of configs and a phase; each config is

1. generated (the Triton module's text),
2. compiled in parallel worker processes with a timeout each (see
   ``precompile.py``; skipped under Triton's interpreter),
3. loaded and run once in this process on clones of the arguments (kernels
   may write into their inputs), its output compared with the default
   config's,
4. timed: on a GPU with ``triton.testing.do_bench`` (which flushes L2
   between repetitions), briefly in the "search" phase (with an early
   cut-off for clearly slow candidates) and carefully in the "final" phase;
   under the interpreter by the wall clock of one run.

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
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import torch

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

# Search phase: a candidate whose 3-run estimate is this much slower than
# the best so far is not measured further.
_CUTOFF_FACTOR = 3.0
_ESTIMATE_RUNS = 3


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


def _is_device_error(error: BaseException) -> bool:
    text = str(error)
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
        from ..runtime.kernel import _call_core

        code = _call_core(bound._core.generate, json.dumps(dict(config)))
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


def _tolerance(dtype: torch.dtype, tf32: bool) -> float | None:
    """atol = rtol for ``dtype``; None: compared exactly."""
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
        self._tf32 = False
        self._precompiled: set[str] = set()
        self._described: bytes | None = None
        self._pool: precompile.WorkerPool | None = None
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

    def close(self) -> None:
        """Stops the compile workers."""
        if self._pool is not None:
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
        self._ensure_reference()
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
                    time_ms = self._measure(config, normalized[index], phase)
                except _OutOfTime:
                    results[index] = (None, BUDGET_SPENT)
                    continue
                except Exception as failure:
                    if _is_device_error(failure):
                        raise self._device_error(config, failure) from failure
                    error = (
                        str(failure)
                        if isinstance(failure, _WrongOutput)
                        else describe_error(failure)
                    )
            results[index] = (time_ms, error)
            self.reporter.record(config, batch, phase, time_ms, error)
        return results

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
        timeout = float(self.settings.autotune_compile_timeout)
        outcome = self._pool.compile(tasks, self._described, timeout, self.deadline)
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
        from .. import exc

        return exc.AutotuningDeviceError(
            f"kernel '{self.bound.fn.__name__}': while autotuning, the candidate {config!r} "
            f"raised {describe_error(failure)}. This leaves the GPU unusable for the rest of "
            "this process, so the search stopped. It is a bug in the code generated for that "
            "config; please report it with the config. To go on: restart the process and pass "
            "a config that works (config=helion.Config(...)), or keep the search away from "
            "this one with autotune_config_overrides."
        )

    def _ensure_reference(self) -> None:
        """The default config's output, once per autotune (on clones of the arguments)."""
        if self._reference_done:
            return
        self._reference_done = True
        if not self.settings.autotune_accuracy_check:
            return
        default = self.bound.config_spec.default_config()
        code = _generate_quietly(self.bound, default)
        self._tf32 = self.on_gpu and "tl.dot(" in code and self.settings.dot_precision != "ieee"
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
        if len(outputs) != len(expected):
            raise _WrongOutput(
                f"wrong output: {len(outputs)} tensors, the default config gives {len(expected)}"
            )
        for index, (got, want) in enumerate(zip(outputs, expected, strict=True)):
            if got.shape != want.shape or got.dtype != want.dtype:
                raise _WrongOutput(
                    f"wrong output: tensor {index} is {got.dtype}{list(got.shape)}, "
                    f"the default config gives {want.dtype}{list(want.shape)}"
                )
            tolerance = _tolerance(got.dtype, self._tf32)
            if tolerance is None:
                if not torch.equal(got, want):
                    raise _WrongOutput(
                        f"wrong output: tensor {index} differs from the default config's"
                    )
                continue
            if not torch.allclose(got, want, atol=tolerance, rtol=tolerance, equal_nan=True):
                diff = (got.double() - want.double()).abs().nan_to_num(math.inf).max().item()
                raise _WrongOutput(
                    f"wrong output: tensor {index} differs from the default config's "
                    f"(max abs diff {diff:.3g}, tolerance {tolerance:g})"
                )

    def _measure(self, config: Config, normalized: Config | None, phase: str) -> float:
        fault = self._fault(config)
        with self._step("run_and_check"):
            run = self.bound.compile_config(normalized)
            outputs = self._outputs(run, fault)
            if self.settings.autotune_accuracy_check:
                self._check(outputs)
            del outputs
            args = _clone(self.args)
        if self.out_of_time():
            raise _OutOfTime(BUDGET_SPENT)
        with self._step("time"):
            time_ms = self._time(functools.partial(run, *args), phase)
        if not math.isfinite(time_ms):
            raise RuntimeError(f"measured time {time_ms}")
        if phase != "final":
            self.best_ms = min(self.best_ms, time_ms)
        return time_ms

    def _synchronize(self) -> None:
        if self.on_gpu:
            torch.cuda.synchronize()

    def _time(self, fn: Callable[[], Any], phase: str) -> float:
        if not self.on_gpu:
            start = time.perf_counter()
            fn()
            return (time.perf_counter() - start) * 1000.0
        from triton.testing import do_bench

        if phase == "final":
            return float(do_bench(fn, warmup=25, rep=100, return_mode="median"))
        estimate = self._estimate(fn)
        if estimate > _CUTOFF_FACTOR * self.best_ms:
            return estimate
        return float(do_bench(fn, warmup=5, rep=20, return_mode="median"))

    def _estimate(self, fn: Callable[[], Any]) -> float:
        """Mean time of a few back-to-back runs (no L2 flush): a cheap first look."""
        torch.cuda.synchronize()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(_ESTIMATE_RUNS):
            fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / _ESTIMATE_RUNS
