"""Compiling candidate kernels in parallel, in worker processes, with a timeout each.

Workers live for the whole search. Given a generated module's text and the
shapes of the call's arguments, a worker imports the module, rebuilds the
arguments as tensors with the same sizes, strides, dtypes and pointer
alignment, and calls the host function with every ``kernel[grid](...)``
launch turned into ``kernel.warmup(...)``: Triton compiles the kernel
(writing the binary to its on-disk cache) without running it. The parent's
later launch of the same module then finds the binary there.

Workers start in one of two ways:

- ``fork`` (the default where the OS has it): a copy of this process, ready
  in milliseconds, where a fresh interpreter would spend seconds importing
  torch. CUDA cannot be used in a forked child of a process that uses it, so
  the worker never touches it: arguments are rebuilt on the ``meta`` device
  and Triton is told the parent's device, capability and a null stream.
  If forked workers compile nothing of their first batch, or keep dying
  before they are ready, the pool starts fresh interpreters instead.
- ``spawn``: a fresh Python interpreter that imports what it needs and
  rebuilds the arguments on the original device.

A worker that raises, crashes or hangs fails only that candidate; a hung or
dead worker is killed and replaced. When the autotune budget runs out, the
workers still compiling are killed too (replaced if more work comes).

Under Triton's interpreter there is nothing to compile; workers then only
import the module (used by the tests, which need a worker to time out).
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import multiprocessing
import os
import pickle
import signal
import statistics
import subprocess
import sys
import time
import warnings
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any

# "fork" or "spawn" (see the module's docstring); tests set it.
start_method = "fork" if hasattr(os, "fork") else "spawn"
# A worker that has not said it is ready after this long is given up on.
_STARTUP_TIMEOUT_S = 180.0
# After this many workers died before becoming ready, forked workers give way
# to fresh interpreters, and fresh interpreters to compiling in this process.
_MAX_STARTUP_FAILURES = 4
# With ``adaptive`` compiles, the timeout shrinks once this many compiles have
# succeeded: to this many times the slowest of them, never below the floor.
_ADAPT_AFTER = 3
_ADAPTIVE_FACTOR = 4.0
_ADAPTIVE_FLOOR_S = 30.0
# A quick search waits for its slowest compile once per batch, so it caps each
# compile nearer the typical one: this many times the median, at least the floor.
# (On an H100 host attention's compiles took 3.9 s at the median and 31 s at
# the slowest: the one straggler was most of the search. With twice the
# median, compiling was still 70-95% of attention's quick searches on an H200
# host, which kept the fastest configs well inside 1.5 times the median.)
_QUICK_FACTOR = 1.5
_QUICK_FLOOR_S = 3.0
# The outcome of a task the deadline left no time for (its worker was killed,
# or it was never sent): not a failure of the candidate.
OUT_OF_TIME = "not compiled: the autotune budget ran out"


@dataclass
class Task:
    """One module to compile: ``key`` identifies it in the results."""

    key: Any
    module_text: str
    function_name: str
    fault: str | None = None  # fault injection for tests (see benchmark.py)


# --- the arguments, described so a worker can rebuild them -------------------------


def describe_args(args: Sequence[Any]) -> bytes | None:
    """The call's arguments as a pickle a worker can rebuild, or None when it can't."""
    import torch

    described: list[Any] = []
    for arg in args:
        if isinstance(arg, torch.Tensor):
            described.append(
                (
                    "tensor",
                    tuple(arg.shape),
                    tuple(arg.stride()),
                    arg.dtype,
                    str(arg.device),
                    arg.data_ptr() % 16,
                )
            )
        else:
            described.append(("value", arg))
    try:
        text = pickle.dumps(described)
    except Exception:
        return None
    if b"_rebuild_tensor" in text or b"torch._utils" in text:
        return None  # tensors nested in other arguments: not worth describing
    return text


def _rebuild_tensor(
    shape: tuple[int, ...], stride: tuple[int, ...], dtype: Any, device: str, misalign: int
) -> Any:
    """An uninitialized tensor like the original, its data pointer equally aligned mod 16."""
    import torch

    itemsize = torch.empty((), dtype=dtype).element_size()
    if any(size == 0 for size in shape):
        elements = 0
    else:
        elements = 1 + sum((size - 1) * step for size, step in zip(shape, stride, strict=True))
    nbytes = elements * itemsize
    base = torch.empty(nbytes + 32, dtype=torch.uint8, device=device)
    shift = (misalign - base.data_ptr()) % 16
    data = base[shift : shift + nbytes].view(dtype)
    return torch.as_strided(data, shape, stride)


def _rebuild_args(described: bytes, on_meta: bool) -> list[Any]:
    """The arguments again; ``on_meta`` puts every tensor on the ``meta`` device."""
    args = []
    for item in pickle.loads(described):
        if item[0] == "tensor":
            shape, stride, dtype, device, misalign = item[1:]
            device = "meta" if on_meta else device
            args.append(_rebuild_tensor(shape, stride, dtype, device, misalign))
        else:
            args.append(item[1])
    return args


def _use_device_of(args: Sequence[Any]) -> None:
    import torch

    for arg in args:
        if isinstance(arg, torch.Tensor) and arg.device.type == "cuda":
            torch.cuda.set_device(arg.device)
            return


# --- the worker -------------------------------------------------------------------


@dataclass(frozen=True)
class GpuTarget:
    """What a forked worker tells Triton instead of asking CUDA."""

    device_index: int
    capability: tuple[int, int]


def _compile_without_cuda(target: GpuTarget) -> None:
    """Triton, in a forked child of a CUDA process, asks CUDA nothing: the
    device, its capability and the (unused) stream come from the parent."""
    from triton.runtime import driver

    active = driver.active  # created in the parent before the fork
    active.get_current_device = lambda: target.device_index
    active.get_device_capability = lambda *_: target.capability
    active.get_current_stream = lambda *_: 0


class _LaunchFailed(Exception):
    """Triton failed to compile the kernel a launch asked for."""


def _describe_error(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0].strip()}" if lines else type(error).__name__


def _intercept_launches() -> None:
    """``kernel[grid](...)`` compiles (``warmup``) instead of launching."""
    from triton.runtime.jit import KernelInterface

    interpreting = os.environ.get("TRITON_INTERPRET", "") == "1"

    def getitem(self: Any, grid: Any) -> Any:
        def launch(*args: Any, **kwargs: Any) -> None:
            if interpreting:
                return None  # nothing to compile
            try:
                self.run(*args, grid=grid, warmup=True, **kwargs)
            except Exception as error:
                raise _LaunchFailed(_describe_error(error)) from error
            return None

        return launch

    KernelInterface.__getitem__ = getitem  # type: ignore[method-assign]


def _compile_one(
    module_text: str,
    function_name: str,
    described: bytes | None,
    fault: str | None,
    on_meta: bool,
) -> str | None:
    """Compiles one module; returns an error message, or None when it compiled."""
    if fault == "hang":
        while True:
            time.sleep(3600)
    if fault == "crash":
        os._exit(70)
    if fault == "compile_error":
        return "compile error: injected compile error"
    from .._loader import load_module

    try:
        module = load_module(module_text)
    except Exception as error:
        return f"compile error: {_describe_error(error)}"
    if described is None:
        return None
    host = getattr(module, function_name)
    try:
        args = _rebuild_args(described, on_meta)
        _use_device_of(args)
        host(*args)
    except _LaunchFailed as error:
        return f"compile error: {error}"
    except Exception:
        # The host code failed on uninitialized data, or something else
        # outside the launch did: not the candidate's fault. The parent
        # compiles and runs it itself and sees any real error there.
        return None
    return None


def _spawned_worker_main(fd: int) -> None:
    _worker_main(Connection(fd), None)


def _forked_worker_main(
    connection: Connection, target: GpuTarget | None, quiet: bool, inherited: list[int]
) -> None:
    _die_with_parent()
    for fd in inherited:  # the parent's ends of other workers' pipes, so they see EOF
        with contextlib.suppress(OSError):
            os.close(fd)
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    if target is not None:
        _compile_without_cuda(target)
    _worker_main(connection, target)


def _worker_main(connection: Connection, forked_from_gpu: GpuTarget | None) -> None:
    """Compiles what the parent sends until it sends None or goes away."""
    # Where stderr is shown, SIGUSR1 prints where the worker is (the parent
    # sends it before killing a worker that timed out).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    _intercept_launches()
    connection.send(("ready", None))
    described_cache: dict[int, bytes | None] = {}
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, module_text, function_name, args_id, described, fault = message
        if described is not None:
            described_cache = {args_id: described}
        try:
            outcome = _compile_one(
                module_text,
                function_name,
                described_cache.get(args_id),
                fault,
                on_meta=forked_from_gpu is not None,
            )
        except BaseException as error:  # reported, never fatal to the worker
            outcome = f"compile error: {_describe_error(error)}"
        connection.send((key, outcome))


def _die_with_parent() -> None:
    """On Linux, the kernel ends this worker when the parent dies (no orphans)."""
    with contextlib.suppress(Exception):
        import ctypes

        set_parent_death_signal = 1  # PR_SET_PDEATHSIG
        ctypes.CDLL(None).prctl(set_parent_death_signal, signal.SIGKILL)


# --- the pool ---------------------------------------------------------------------


class _ForkedProcess:
    """A forked worker, with the part of ``subprocess.Popen``'s interface the pool uses."""

    def __init__(
        self, connection: Connection, target: GpuTarget | None, quiet: bool, inherited: list[int]
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._process = context.Process(
            target=_forked_worker_main, args=(connection, target, quiet, inherited), daemon=True
        )
        with warnings.catch_warnings():
            # Forking a process with threads: the child only compiles, and
            # touches neither CUDA nor the parent's thread pools.
            warnings.simplefilter("ignore", DeprecationWarning)
            self._process.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float) -> None:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("compile worker", timeout)


def _spawn_process(connection: Connection, quiet: bool) -> subprocess.Popen[bytes]:
    fd = connection.fileno()
    code = f"import helion.autotuner.precompile as p; p._spawned_worker_main({fd})"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        pass_fds=(fd,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else None,
        close_fds=True,
    )


class _Worker:
    def __init__(
        self, start: str, quiet: bool, target: GpuTarget | None, inherited: list[int]
    ) -> None:
        parent_end, child_end = Pipe()
        self.process: subprocess.Popen[bytes] | _ForkedProcess
        if start == "fork":
            inherited = [*inherited, parent_end.fileno()]
            self.process = _ForkedProcess(child_end, target, quiet, inherited)
        else:
            self.process = _spawn_process(child_end, quiet)
        child_end.close()
        self.connection = parent_end
        self.spawned = time.monotonic()
        self.ready = False
        self.task: Task | None = None
        self.started = 0.0
        self.args_id: int | None = None  # the arguments this worker has

    def send(self, task: Task, args_id: int, described: bytes | None) -> None:
        fresh = described if self.args_id != args_id else None
        self.connection.send(
            (task.key, task.module_text, task.function_name, args_id, fresh, task.fault)
        )
        self.args_id = args_id
        self.task = task
        self.started = time.monotonic()

    def show_stack(self) -> None:
        with contextlib.suppress(Exception):
            os.kill(self.process.pid, signal.SIGUSR1)
            time.sleep(0.5)

    def ask_to_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.send(None)

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.wait(timeout=10)
        except Exception:
            pass
        self.connection.close()


class WorkerPool:
    """Long-lived compile workers; ``compile`` runs a batch with a timeout per task.

    ``target``: the GPU the candidates are for (None under the interpreter);
    forked workers need it, since they cannot ask CUDA.
    """

    def __init__(
        self, jobs: int, log_stderr: bool = False, target: GpuTarget | None = None
    ) -> None:
        self.jobs = max(1, jobs)
        self.log_stderr = log_stderr
        self.target = target
        self.start = start_method
        self.proven = self.start != "fork"  # a forked pool proves itself on its first batch
        self.workers: list[_Worker] = []
        self.startup_failures = 0
        self.broken = False
        # Successful compiles and the longest of them, for adaptive timeouts;
        # how long each took, for the search's report.
        self.compiled = 0
        self.slowest_compile_s = 0.0
        self.compile_seconds: list[float] = []
        self._args_ids: dict[bytes, int] = {}
        _live_pools.add(self)

    def prestart(self, count: int) -> None:
        """Starts up to ``count`` workers now, so their start-up overlaps other work."""
        while len(self.workers) < min(count, self.jobs):
            self._spawn()

    def _args_id(self, described: bytes | None) -> int:
        if described is None:
            return -1
        return self._args_ids.setdefault(described, len(self._args_ids))

    def _spawn(self) -> None:
        if self.start == "fork" and self.target is not None:
            from triton.runtime import driver

            _ = driver.active  # created here, so the child never needs CUDA to make it
        inherited = [worker.connection.fileno() for worker in self.workers]
        self.workers.append(_Worker(self.start, not self.log_stderr, self.target, inherited))

    def _remove(self, worker: _Worker) -> None:
        worker.kill()
        self.workers.remove(worker)

    def compile(
        self,
        tasks: Sequence[Task],
        described: bytes | None,
        timeout_s: float,
        deadline: float | None = None,
        adaptive: bool = False,
        quick: bool = False,
    ) -> dict[Any, str | None]:
        """key -> error message (None: compiled). Tasks missing from the result were not
        compiled here (the pool broke); the caller compiles them itself.

        ``adaptive``: the timeout shrinks as compiles succeed (``timeout_for``),
        within this batch too: a batch waits for its slowest compile, so one
        candidate that hangs would hold up all the others.

        ``deadline`` (``time.monotonic()`` seconds): tasks still compiling then are
        stopped (their workers killed) and, like tasks not yet sent, get
        :data:`OUT_OF_TIME`."""
        results = self._compile_batch(tasks, described, timeout_s, deadline, adaptive, quick)
        finished = [outcome for outcome in results.values() if outcome != OUT_OF_TIME]
        if not self.proven and finished:
            if any(outcome is None for outcome in finished):
                self.proven = True
            elif deadline is None or time.monotonic() < deadline:
                # Forked workers compiled nothing: perhaps they cannot here.
                # Fresh interpreters settle it.
                self._fall_back_to_spawn()
                results = self._compile_batch(
                    tasks, described, timeout_s, deadline, adaptive, quick
                )
        return results

    def timeout_for(self, limit_s: float, adaptive: bool, quick: bool = False) -> float:
        """The compile timeout now: ``limit_s``, or with ``adaptive`` and a few
        successful compiles seen, a few times the slowest of them (at least
        the floor, at most ``limit_s``); for a ``quick`` search, 1.5 times
        their median (at least its floor)."""
        if not adaptive or self.compiled < _ADAPT_AFTER:
            return limit_s
        if quick:
            median = statistics.median(self.compile_seconds)
            return min(limit_s, max(_QUICK_FLOOR_S, _QUICK_FACTOR * median))
        return min(limit_s, max(_ADAPTIVE_FLOOR_S, _ADAPTIVE_FACTOR * self.slowest_compile_s))

    def _fall_back_to_spawn(self) -> None:
        self.close()
        self.start = "spawn"
        self.proven = True
        self.startup_failures = 0
        self.broken = False

    def _stop_at_deadline(self, pending: deque[Task], results: dict[Any, str | None]) -> None:
        for task in pending:
            results[task.key] = OUT_OF_TIME
        pending.clear()
        for worker in list(self.workers):
            if worker.task is not None:
                results[worker.task.key] = OUT_OF_TIME
                self._remove(worker)

    def _compile_batch(
        self,
        tasks: Sequence[Task],
        described: bytes | None,
        timeout_s: float,
        deadline: float | None = None,
        adaptive: bool = False,
        quick: bool = False,
    ) -> dict[Any, str | None]:
        results: dict[Any, str | None] = {}
        if self.broken or not tasks:
            return results
        args_id = self._args_id(described)
        pending = deque(tasks)
        while pending or any(worker.task is not None for worker in self.workers):
            if deadline is not None and time.monotonic() >= deadline:
                self._stop_at_deadline(pending, results)
                return results
            busy = sum(worker.task is not None for worker in self.workers)
            while len(self.workers) < min(self.jobs, len(pending) + busy):
                self._spawn()
            for worker in self.workers:
                if pending and worker.ready and worker.task is None:
                    worker.send(pending.popleft(), args_id, described)
            now = time.monotonic()
            timeout = self.timeout_for(timeout_s, adaptive, quick)
            deadlines = [w.started + timeout for w in self.workers if w.task is not None]
            deadlines += [w.spawned + _STARTUP_TIMEOUT_S for w in self.workers if not w.ready]
            if deadline is not None:
                deadlines.append(deadline)
            wait_s = max(0.0, min(deadlines) - now) if deadlines else 1.0
            readable = wait([w.connection for w in self.workers], timeout=min(wait_s, 5.0))
            for worker in list(self.workers):
                if worker.connection not in readable:
                    continue
                try:
                    message = worker.connection.recv()
                except (EOFError, OSError):
                    self._died(worker, results)
                    continue
                if message == ("ready", None) and not worker.ready:
                    worker.ready = True
                    continue
                key, outcome = message
                results[key] = outcome
                if outcome is None:
                    self.compiled += 1
                    took = time.monotonic() - worker.started
                    self.slowest_compile_s = max(self.slowest_compile_s, took)
                    self.compile_seconds.append(took)
                worker.task = None
            now = time.monotonic()
            timeout = self.timeout_for(timeout_s, adaptive, quick)
            for worker in list(self.workers):
                if worker.task is not None and now > worker.started + timeout:
                    results[worker.task.key] = f"compile timeout after {timeout:g}s"
                    if self.log_stderr:
                        worker.show_stack()
                    self._remove(worker)
                elif not worker.ready and now > worker.spawned + _STARTUP_TIMEOUT_S:
                    self._startup_failed(worker)
            if self.broken:
                self.close()
                return results
        return results

    def _died(self, worker: _Worker, results: dict[Any, str | None]) -> None:
        if worker.task is not None:
            code = worker.process.poll()
            results[worker.task.key] = f"compile error: the compile worker died (exit code {code})"
            self._remove(worker)
        else:
            self._startup_failed(worker)

    def _startup_failed(self, worker: _Worker) -> None:
        self._remove(worker)
        self.startup_failures += 1
        if self.startup_failures < _MAX_STARTUP_FAILURES:
            return
        if self.start == "fork":  # workers from now on are fresh interpreters
            self.start, self.proven, self.startup_failures = "spawn", True, 0
        else:
            self.broken = True

    def close(self) -> None:
        """Asks every worker to exit, gives them a moment together, then kills the rest."""
        for worker in self.workers:
            worker.ask_to_stop()
        deadline = time.monotonic() + 2.0
        for worker in self.workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            worker.kill()
        self.workers.clear()


_live_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for pool in list(_live_pools):
        pool.close()
