"""Autotuning end to end: search, compile workers, checks, timing, cache, logs.

On a CPU the kernels run under Triton's interpreter with tiny shapes and
short searches; the searches are the compiler core's own.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import kernels as K  # noqa: N812
import pytest
import torch

import helion
from helion import autotuner, exc
from helion.autotuner import benchmark, driver, precompile, report

QUICK = dict(
    autotune_effort="quick",
    autotune_max_generations=2,
    autotune_budget_seconds=60.0,  # a safety net: max_generations bounds these searches
    autotune_random_seed=1234,
    autotune_precompile_jobs=2,
    autotune_compile_timeout=20,
)


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def search_core(monkeypatch, tmp_path):
    """A fresh config cache per test; records the options of every search."""
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "cache"))
    for name in (
        "HELION_FORCE_AUTOTUNE",
        "HELION_AUTOTUNER",
        autotuner.cache.SKIP_ENV,
        autotuner.cache.ASSERT_HIT_ENV,
        benchmark.FAULTS_ENV,
        report.CSV_ENV,
    ):
        monkeypatch.delenv(name, raising=False)
    calls = []
    real = driver._run_search

    def counting(bound, options_json, evaluate, log):
        calls.append(json.loads(options_json))
        return real(bound, options_json, evaluate, log)

    monkeypatch.setattr(driver, "_run_search", counting)
    return calls


@pytest.fixture(params=["fork", "spawn"])
def workers(monkeypatch, request):
    """Compile workers (both ways of starting them), also under the interpreter
    (where they only import the module)."""
    monkeypatch.setattr(benchmark, "precompile_on_cpu", True)
    monkeypatch.setattr(precompile, "start_method", request.param)
    return request.param


def _pair(device: str, n: int = 100):
    return torch.randn(n, device=device), torch.randn(n, device=device)


_LOG_START = re.compile(r"^\[\d+s\] Starting \w+", re.M)
_LOG_DONE = re.compile(
    r"^\[\d+s\] Autotuning complete in [\d.]+s after searching \d+ configs\.$", re.M
)


def _assert_seed_log(err: str) -> None:
    assert _LOG_START.search(err), err
    assert _LOG_DONE.search(err), err
    lines = err.splitlines()
    index = lines.index("One can hardcode the best config and skip autotuning with:")
    assert "helion.kernel(config=helion.Config(" in lines[index + 1]


# --- the whole loop ----------------------------------------------------------------


def test_add_autotunes_on_first_call(device, capfd, search_core) -> None:
    k = helion.kernel(force_autotune=True, **QUICK)(K.add)
    x, y = torch.randn(12, 20, device=device), torch.randn(12, 20, device=device)
    torch.testing.assert_close(k(x, y), x + y)
    config = k.bind((x, y)).config
    assert isinstance(config, helion.Config)
    assert k.bind((x, y)).config_spec.normalize(config) == config
    err = capfd.readouterr().err
    _assert_seed_log(err)
    assert "seed 1234" in err
    assert "[autotune]" not in err  # no progress bar when stderr is not a terminal
    assert len(search_core) == 1
    options = search_core[0]
    assert options["strategy"] == "model" and options["effort"] == "quick"
    assert options["seed"] == 1234 and options["max_generations"] == 2
    assert set(options["device"]) == {
        "sm_count",
        "shared_memory_per_block",
        "max_threads_per_block",
        "supports_tensor_descriptor",
        "supports_warp_specialize",
        "supports_maxnreg",
    }
    # Under Triton's interpreter neither is searched.
    if x.device.type == "cpu":
        assert not options["device"]["supports_warp_specialize"]
        assert not options["device"]["supports_maxnreg"]
    # Later calls reuse the choice.
    torch.testing.assert_close(k(y, x), x + y)
    assert len(search_core) == 1


def test_matmul_explicit_autotune(device, capfd) -> None:
    k = helion.kernel(**QUICK)(K.matmul)
    x, y = torch.randn(32, 16, device=device), torch.randn(16, 24, device=device)
    config = k.autotune((x, y))
    assert isinstance(config, helion.Config)
    assert k.bind((x, y)).config == config
    torch.testing.assert_close(k(x, y), x @ y, atol=1e-2, rtol=1e-2)
    _assert_seed_log(capfd.readouterr().err)


def test_search_fills_in_default_arguments(device) -> None:
    """Candidates run with the kernel's default arguments (here ``eps``) filled in."""
    k = helion.kernel(**QUICK)(K.rms_norm)
    x, w = torch.randn(8, 32, device=device), torch.randn(32, device=device)
    bound = k.bind((x, w))
    best, result = autotuner.search(bound, (x, w))
    assert result["best_time_ms"] is not None
    assert all(error is None for _config, _time, error in result["history"])
    bound.set_config(best)
    torch.testing.assert_close(k(x, w), K.rms_norm_ref(x, w), atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU calls autotune")
def test_cpu_call_does_not_search(search_core) -> None:
    k = helion.kernel(**QUICK)(K.add_1d)
    x, y = _pair("cpu")
    with pytest.warns(exc.AutotuningUnavailable, match="too slow"):
        torch.testing.assert_close(k(x, y), x + y)
    assert search_core == []


# --- failing candidates ---------------------------------------------------------


def _faulty_configs() -> list[helion.Config]:
    return [helion.Config(block_sizes=[b], num_warps=4) for b in (4, 8, 16, 32, 64, 128)]


def test_failing_candidates_are_discarded(device, capfd, monkeypatch, workers, tmp_path) -> None:
    faults = {
        "[4]": "crash",
        "[8]": "compile_error",
        "[16]": "raise",
        "[32]": "hang",
        "[64]": "wrong",
    }
    monkeypatch.setenv(benchmark.FAULTS_ENV, json.dumps(faults))
    monkeypatch.setenv(report.CSV_ENV, str(tmp_path / "run.csv"))
    k = helion.kernel(configs=_faulty_configs(), **{**QUICK, "autotune_compile_timeout": 2})(
        K.add_1d
    )
    x, y = _pair(device)
    config = k.autotune((x, y))
    assert config["block_sizes"] == [[128]]
    torch.testing.assert_close(k(x, y), x + y)
    err = capfd.readouterr().err
    assert "fastest of 6 configs" in err
    with open(tmp_path / "run.csv") as file:
        rows = list(csv.DictReader(file))
    flat = {}
    for row in rows:
        if row["phase"] == "search":
            block = json.loads(row["config"])["block_sizes"][0]
            flat[block[0] if isinstance(block, list) else block] = row["error"]
    assert "worker died" in flat[4] or "died" in flat[4]
    assert flat[8].startswith("compile error")
    assert "injected fault" in flat[16]
    assert flat[32] == "compile timeout after 2s"
    assert flat[64].startswith("wrong output")
    assert flat[128] == ""
    assert "compile timeout after 2s" in err  # errors are printed by default


def test_errors_not_printed_when_ignored(device, capfd, monkeypatch) -> None:
    monkeypatch.setenv(benchmark.FAULTS_ENV, json.dumps({"[16]": "raise"}))
    configs = [helion.Config(block_sizes=[16]), helion.Config(block_sizes=[32])]
    k = helion.kernel(configs=configs, autotune_ignore_errors=True, **QUICK)(K.add_1d)
    assert k.autotune(_pair(device))["block_sizes"] == [[32]]
    assert "injected fault" not in capfd.readouterr().err


def test_no_config_found(device, monkeypatch) -> None:
    monkeypatch.setenv(benchmark.FAULTS_ENV, json.dumps({"block_sizes": "raise"}))
    configs = [helion.Config(block_sizes=[16]), helion.Config(block_sizes=[32])]
    k = helion.kernel(configs=configs, **QUICK)(K.add_1d)
    with pytest.raises(exc.NoConfigFound):
        k.autotune(_pair(device))
    search = helion.kernel(**QUICK)(K.add_1d)
    with pytest.raises(exc.NoConfigFound):
        search.autotune(_pair(device))


def test_cuda_error_stops_the_search(device, monkeypatch) -> None:
    """A CUDA error poisons the process's context: the search stops at once,
    names the config, and nothing is cached."""
    monkeypatch.setenv(benchmark.FAULTS_ENV, json.dumps({"[32]": "cuda_error"}))
    measured = []
    monkeypatch.setattr(
        report.Reporter, "record", lambda self, config, *rest: measured.append(config)
    )
    configs = [helion.Config(block_sizes=[b]) for b in (16, 32, 64)]
    k = helion.kernel(configs=configs, **QUICK)(K.add_1d)
    with pytest.raises(exc.AutotuningDeviceError, match=r"block_sizes=\[\[?32") as raised:
        k.autotune(_pair(device))
    assert "illegal memory access" in str(raised.value)
    assert "restart the process" in str(raised.value)
    assert len(measured) == 1  # the first config; none after the error
    assert k.bind(_pair(device)).config is None
    assert not list(Path(autotuner.cache.config_dir()).glob("*.json"))


# --- the budget -----------------------------------------------------------------


def test_budget_stops_compiles_that_run_past_it(device, capfd, monkeypatch, search_core) -> None:
    """Every candidate hangs in its compile worker (a 60 s timeout each): the
    budget stops the workers, and with nothing measured the default config
    is used and not cached."""
    monkeypatch.setattr(benchmark, "precompile_on_cpu", True)
    monkeypatch.setattr(precompile, "start_method", "fork")
    monkeypatch.setenv(benchmark.FAULTS_ENV, json.dumps({"block_sizes": "hang"}))
    settings = {**QUICK, "autotune_budget_seconds": 2.0, "autotune_compile_timeout": 60}
    k = helion.kernel(**settings)(K.add_1d)
    args = _pair(device)
    start = time.monotonic()
    config = k.autotune(args)
    seconds = time.monotonic() - start
    assert seconds < 10, seconds  # each compile alone would time out after 60 s
    bound = k.bind(args)
    assert config == bound.config_spec.default_config()
    assert search_core[0]["budget_seconds"] == 2.0
    assert 0 <= search_core[0]["spent_seconds"] < 2.0
    err = capfd.readouterr().err
    assert "the budget ran out before any config was measured; using the default config" in err
    assert "not measured" not in err  # skipped candidates are not failures
    assert not list(Path(autotuner.cache.config_dir()).glob("*.json"))
    torch.testing.assert_close(k(*args), args[0] + args[1])


def test_budget_that_runs_out_over_given_configs_keeps_the_first(
    device, capfd, monkeypatch
) -> None:
    monkeypatch.setattr(benchmark, "precompile_on_cpu", True)
    monkeypatch.setattr(precompile, "start_method", "fork")
    monkeypatch.setenv(benchmark.FAULTS_ENV, json.dumps({"block_sizes": "hang"}))
    configs = [helion.Config(block_sizes=[b]) for b in (64, 32)]
    settings = {**QUICK, "autotune_budget_seconds": 1.0, "autotune_compile_timeout": 60}
    k = helion.kernel(configs=configs, **settings)(K.add_1d)
    start = time.monotonic()
    config = k.autotune(_pair(device))
    assert time.monotonic() - start < 10
    assert config["block_sizes"] == [[64]]
    err = capfd.readouterr().err
    assert "the budget ran out before any of 2 configs was measured" in err, err


def test_budget_bounds_a_search_with_slow_candidates(device, capfd, monkeypatch) -> None:
    """Each candidate takes 0.3 s to time; a 2 s budget ends the search after
    a few of them, where the whole quick search would take 15 s or more."""
    timed = []
    real_search, real_final = (
        benchmark.Evaluator._time_search,
        benchmark.Evaluator._time_interleaved,
    )

    def slow_search(self, fn):
        timed.append("search")
        time.sleep(0.3)
        return real_search(self, fn)

    def slow_final(self, fns):
        timed.append("final")
        return real_final(self, fns)

    monkeypatch.setattr(benchmark.Evaluator, "_time_search", slow_search)
    monkeypatch.setattr(benchmark.Evaluator, "_time_interleaved", slow_final)
    settings = {**QUICK, "autotune_budget_seconds": 2.0, "autotune_max_generations": None}
    k = helion.kernel(**settings)(K.add_1d)
    args = _pair(device, 1000)
    start = time.monotonic()
    config = k.autotune(args)
    seconds = time.monotonic() - start
    assert seconds < 6, seconds
    assert 1 <= len(timed) <= 10, timed
    assert "final" not in timed  # no time was left to re-time the finalists
    err = capfd.readouterr().err
    assert "The autotune budget of 2s is spent; the search stops" in err, err
    torch.testing.assert_close(k(*args), args[0] + args[1])
    assert config["block_sizes"]


def test_budget_setting_is_checked() -> None:
    for bad in (-1.0, float("nan"), float("inf"), "10", True):
        with pytest.raises(ValueError, match="autotune_budget_seconds"):
            helion.kernel(autotune_budget_seconds=bad)(K.add_1d)
    assert helion.kernel(autotune_budget_seconds=0)(K.add_1d).settings.autotune_budget_seconds == 0


def test_any_int_seeds_a_search_and_overrides_are_checked(device) -> None:
    configs = [helion.Config(block_sizes=[16]), helion.Config(block_sizes=[32])]
    for seed in (-1, 2**63, 2**64 + 5):
        k = helion.kernel(configs=configs, **{**QUICK, "autotune_random_seed": seed})(K.add_1d)
        assert k.autotune(_pair(device))["block_sizes"] in ([[16]], [[32]])
    for overrides, message in [
        ({"num_warps": 2**63}, "num_warps: 9223372036854775808 does not fit in 64 bits"),
        ({"num_stages": float("nan")}, "num_stages: nan is not a finite number"),
    ]:
        k = helion.kernel(**{**QUICK, "autotune_config_overrides": overrides})(K.add_1d)
        with pytest.raises(exc.InvalidConfig, match="autotune_config_overrides: " + message):
            k.autotune(_pair(device))
    k = helion.kernel(**{**QUICK, "autotune_config_overrides": {"l2_grouping": 2**40}})(K.add_1d)
    with pytest.raises(exc.InvalidConfig, match="l2_grouping: 1099511627776 is above the maximum"):
        k.autotune(_pair(device))


# --- the cache ------------------------------------------------------------------


def test_cache_round_trip(device, capfd, monkeypatch, search_core) -> None:
    x, y = _pair(device, 16)
    first = helion.kernel(**QUICK)(K.add_1d)
    config = first.autotune((x, y))
    files = list((Path(helion.autotuner.cache.config_dir())).glob("*.json"))
    assert len(files) == 1
    entry = json.loads(files[0].read_text())
    assert entry["kernel"] == "add_1d" and entry["config"] == dict(config)
    assert set(entry["versions"]) == {"torch", "triton", "helion"}
    capfd.readouterr()

    # Another kernel object with the same source and arguments: no search.
    second = helion.kernel(**QUICK)(K.add_1d)
    assert second.autotune((x, y), force=False) == config
    assert len(search_core) == 1
    err = capfd.readouterr().err
    assert f"[helion] kernel 'add_1d': using the autotuned config from {files[0]}" in err
    torch.testing.assert_close(second(x, y), x + y)

    # Other settings that matter: another entry.
    helion.kernel(**{**QUICK, "autotune_strategy": "random"})(K.add_1d).autotune(
        (x, y), force=False
    )
    assert len(search_core) == 2

    # A corrupt file is ignored, then rewritten.
    files[0].write_text("{not json")
    third = helion.kernel(**QUICK)(K.add_1d)
    third.autotune((x, y), force=False)
    assert len(search_core) == 3
    assert json.loads(files[0].read_text())["kernel"] == "add_1d"
    capfd.readouterr()

    # HELION_FORCE_AUTOTUNE=1 searches again.
    monkeypatch.setenv("HELION_FORCE_AUTOTUNE", "1")
    fourth = helion.kernel(**QUICK)(K.add_1d)
    fourth.autotune((x, y), force=False)
    assert len(search_core) == 4
    assert "using the autotuned config" not in capfd.readouterr().err


# --- reproducibility, reporting -------------------------------------------------


def _search_rows(path: Path) -> list[tuple[str, str]]:
    with open(path) as file:
        return [(r["batch"], r["config"]) for r in csv.DictReader(file) if r["phase"] == "search"]


def test_same_seed_same_configs(device, monkeypatch, tmp_path) -> None:
    runs = []
    for strategy in ("random", "random", "model", "model"):
        path = tmp_path / f"{len(runs)}.csv"
        monkeypatch.setenv(report.CSV_ENV, str(path))
        settings = {
            **QUICK,
            "autotune_strategy": strategy,
            "autotune_random_seed": 7,
            "autotune_max_generations": 0,
            "autotune_budget_seconds": None,  # a budget would make the length vary
        }
        helion.kernel(**settings)(K.add_1d).autotune(_pair(device, 16))
        runs.append(_search_rows(path))
    assert runs[0] and runs[0] == runs[1]
    # The model-guided search's later batches follow measured times, which
    # vary; its first batch depends on the seed alone.
    first = [[row for row in run if row[0] == "0"] for run in runs[2:]]
    assert first[0] and first[0] == first[1]


def test_progress_bar_on_a_terminal(capfd, monkeypatch) -> None:
    monkeypatch.setattr(report, "_is_tty", lambda: True)
    reporter = report.Reporter("k", helion.Settings())
    reporter.record(helion.Config(block_sizes=[8]), 0, "search", 0.25, None)
    reporter.log("[0s] Starting")
    reporter.close()
    err = capfd.readouterr().err
    assert "\r\x1b[K[autotune] 1 configs, best 0.2500 ms, 0s" in err
    assert "[0s] Starting\n" in err
    monkeypatch.setattr(report, "_is_tty", lambda: True)
    quiet = report.Reporter("k", helion.Settings(autotune_progress_bar=False))
    quiet.record(helion.Config(block_sizes=[8]), 0, "search", 0.25, None)
    assert "[autotune]" not in capfd.readouterr().err


def test_strategy_setting(monkeypatch) -> None:
    assert helion.Settings().autotune_strategy == "model"
    assert helion.Settings(autotune_strategy="DifferentialEvolutionSearch").autotune_strategy == (
        "differential_evolution"
    )
    monkeypatch.setenv("HELION_AUTOTUNE_STRATEGY", "pattern")
    assert helion.Settings().autotune_strategy == "pattern"
    with pytest.raises(ValueError, match="autotune_strategy"):
        helion.Settings(autotune_strategy="exhaustive")


def test_benchmark_script_smoke_run(tmp_path) -> None:
    """benchmarks/autotune.py runs end to end (on a CPU: tiny shapes, the interpreter)."""
    if torch.cuda.is_available():
        pytest.skip("on a GPU the script runs full size; see benchmarks/autotune.py")
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "autotune.py"
    env = {**os.environ, "HELION_AUTOTUNE_MAX_GENERATIONS": "1"}
    done = subprocess.run(
        [sys.executable, str(script), "--kernels", "rms_norm", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = json.loads((tmp_path / "results-quick.json").read_text())
    assert row["kernel"].startswith("rms_norm") and row["measured"] > 0
    assert set(row["step_seconds"]) == {"generate", "compile", "run_and_check", "time"}
    assert row["finalists"] and all(f["final_ms"] is not None for f in row["finalists"])
    assert "dominates" in done.stdout
    assert "finalists (search ms -> final median ms):" in done.stdout
    assert "  <- picked" in done.stdout
    assert "| rms_norm 16x64 fp32 | default strategy |" in done.stdout


# --- compile workers ---------------------------------------------------------------


def _add_pool_and_module(device: str) -> tuple[precompile.WorkerPool, str, bytes | None]:
    k = helion.kernel(config=helion.Config(block_sizes=[16]))(K.add_1d)
    args = _pair(device)
    pool = precompile.WorkerPool(jobs=2, target=benchmark._gpu_target(args))
    return pool, k.bind(args).to_triton_code(), precompile.describe_args(args)


def test_forked_workers_that_cannot_compile_give_way_to_fresh_ones(device, monkeypatch) -> None:
    """A forked worker is a copy of this process, so it inherits this patch;
    a fresh interpreter does not."""
    monkeypatch.setattr(precompile, "start_method", "fork")
    monkeypatch.setattr(precompile, "_compile_one", lambda *_, **__: "compile error: broken")
    pool, text, described = _add_pool_and_module(device)
    try:
        tasks = [precompile.Task(key, text, "add_1d") for key in range(3)]
        assert pool.compile(tasks, described, timeout_s=120) == {0: None, 1: None, 2: None}
        assert pool.start == "spawn"
    finally:
        pool.close()


def test_proven_forked_workers_stay(device, monkeypatch) -> None:
    monkeypatch.setattr(precompile, "start_method", "fork")
    pool, text, described = _add_pool_and_module(device)
    try:
        tasks = [precompile.Task("ok", text, "add_1d"), precompile.Task("bad", "syntax(", "f")]
        outcome = pool.compile(tasks, described, timeout_s=120)
        assert outcome["ok"] is None and outcome["bad"].startswith("compile error")
        assert pool.start == "fork" and pool.proven
        workers = list(pool.workers)
    finally:
        pool.close()
    assert workers and all(worker.process.poll() is not None for worker in workers)


def test_pool_stops_at_the_deadline(device, monkeypatch) -> None:
    """Tasks still compiling at the deadline are stopped (their workers
    killed) and those not sent are not: both come back OUT_OF_TIME."""
    monkeypatch.setattr(precompile, "start_method", "fork")
    pool, text, described = _add_pool_and_module(device)
    try:
        tasks = [precompile.Task("ok", text, "add_1d")]
        tasks += [precompile.Task(key, text, "add_1d", fault="hang") for key in range(3)]
        start = time.monotonic()
        outcome = pool.compile(tasks, described, timeout_s=60, deadline=start + 1.5)
        assert time.monotonic() - start < 5
        assert outcome == {
            "ok": None,
            0: precompile.OUT_OF_TIME,
            1: precompile.OUT_OF_TIME,
            2: precompile.OUT_OF_TIME,
        }
        assert pool.start == "fork" and all(worker.task is None for worker in pool.workers)
    finally:
        pool.close()


def test_arguments_rebuilt_on_meta_keep_layout_and_alignment() -> None:
    base = torch.randn(200)
    x = torch.as_strided(base, (4, 5), (1, 8), storage_offset=1)  # 4 bytes past aligned
    (rebuilt,) = precompile._rebuild_args(precompile.describe_args((x,)), on_meta=True)
    assert rebuilt.device.type == "meta"
    assert (rebuilt.shape, rebuilt.stride(), rebuilt.dtype) == (x.shape, x.stride(), x.dtype)
    assert rebuilt.data_ptr() % 16 == x.data_ptr() % 16


def test_the_default_config_compiles_with_the_first_batch(device, monkeypatch) -> None:
    """The accuracy reference (the default config's outputs) is computed after
    the first batch's parallel compile, which holds the default config, not
    before it in this process alone."""
    monkeypatch.setattr(benchmark, "precompile_on_cpu", True)
    monkeypatch.setattr(precompile, "start_method", "fork")
    steps = []
    real_precompile = benchmark.Evaluator._precompile
    real_reference = benchmark.Evaluator._ensure_reference

    def precompile_batch(self, *args):
        steps.append("compile batch")
        return real_precompile(self, *args)

    def reference(self):
        if not self._reference_done:
            steps.append("reference")
        return real_reference(self)

    monkeypatch.setattr(benchmark.Evaluator, "_precompile", precompile_batch)
    monkeypatch.setattr(benchmark.Evaluator, "_ensure_reference", reference)
    k = helion.kernel(force_autotune=True, **QUICK)(K.add_1d)
    args = _pair(device)
    torch.testing.assert_close(k(*args), args[0] + args[1])
    assert steps[:2] == ["compile batch", "reference"], steps
