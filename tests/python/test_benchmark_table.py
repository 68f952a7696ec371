"""benchmarks/gpu_table.py without a GPU: the table and the plot drawn from a results.json
built here, byte counting, the figures derived from timings, merging runs, the command line."""

from __future__ import annotations

import importlib
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

gpu_table = importlib.import_module("gpu_table")
common = importlib.import_module("common")

FACTS = {
    "device": "NVIDIA H100 80GB HBM3",
    "torch": "2.11.0+cu130",
    "cuda": "13.0",
    "triton": "3.6.0",
    "helion": "0.1.0",
    "effort": "quick",
}

BMM = {
    "kernel": "bmm fp16 64x512^3",
    "kind": "tensor cores",
    "vendor": "cuBLAS",
    "ms": {
        "helion": 0.0487,
        "eager": 0.0461,
        "torch.compile": 0.0470,
        "vendor": 0.0458,
        "triton": 0.0530,
    },
    "problems": {},
    "first_call_s": {
        "helion": 6.53,
        "eager": 0.1,
        "torch.compile": 9.0,
        "vendor": 0.1,
        "triton": 1.2,
    },
    "searched": True,
    "config": {"block_sizes": [1, 128, 128, 64], "num_warps": 8},
    "best_reference": "cuBLAS",
    "vs_best_reference": 0.0458 / 0.0487,
    "flops": 2 * 64 * 512**3,
    "tflops": 2 * 64 * 512**3 / 0.0487 / 1e9,
}

ADD = {
    "kernel": "add 8192^2 fp32",
    "kind": "memory",
    "vendor": None,
    "ms": {"helion": 0.2686, "eager": 0.2700, "torch.compile": 0.2660, "triton": 0.2690},
    "problems": {},
    "first_call_s": {"helion": 0.8, "eager": 0.01, "torch.compile": 5.0, "triton": 0.5},
    "searched": False,
    "config": {"block_sizes": [[16, 256]], "num_warps": 4},
    "best_reference": "torch.compile",
    "vs_best_reference": 0.2660 / 0.2686,
    "bytes": 3 * 8192 * 8192 * 4,
    "gbs": 3 * 8192 * 8192 * 4 / 0.2686 / 1e6,
    "copy_gbs": 3004.0,
    "copy_1gib_gbs": 3010.0,
    "of_copy": 0.998,
    "of_copy_1gib": 0.981,
}

SOFTMAX_WRONG = {
    "kernel": "softmax 4096x2560 fp16",
    "kind": "memory",
    "vendor": None,
    "ms": {"eager": 0.0463, "torch.compile": 0.0450},
    "problems": {
        "helion": {"verdict": "WRONG", "detail": "Tensor-likes are not close! " + "x" * 1000},
        "triton": {"verdict": "FAILED", "detail": "CompilationError: out of resources"},
    },
    "first_call_s": {"helion": 5.3, "eager": 0.01, "torch.compile": 4.0, "triton": 0.2},
    "searched": None,
    "config": None,
    "best_reference": "torch.compile",
    "vs_best_reference": None,
    "bytes": 2 * 4096 * 2560 * 2,
    "gbs": None,
    "copy_gbs": 2500.0,
    "copy_1gib_gbs": 2990.0,
    "of_copy": None,
    "of_copy_1gib": None,
}

PER_CALL = {
    "kernel": "per call: add of 16 fp32",
    "kind": "per call",
    "vendor": None,
    "ms": {"helion": 0.0061, "eager": 0.0052, "triton": 0.0123},
    "per_call_us": {"helion": 6.1, "x + x": 5.2, "raw Triton": 12.3, "CUDA graph": 2.1},
    "problems": {},
    "first_call_s": {"helion": 0.3, "triton": 0.4},
    "searched": None,
    "config": None,
    "best_reference": "eager",
    "vs_best_reference": 0.0052 / 0.0061,
}


def results(*rows: dict[str, Any]) -> dict[str, Any]:
    chosen = rows or (BMM, ADD, SOFTMAX_WRONG, PER_CALL)
    return {"facts": dict(FACTS), "updated": "2026-11-26 12:00", "rows": [dict(r) for r in chosen]}


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


# --- the markdown table ----------------------------------------------------------------


def test_table_header_and_rows() -> None:
    lines = table_lines(gpu_table.render_table(results()))
    assert lines[0] == (
        "| kernel | helion ms | eager ms | torch.compile ms | vendor ms | triton ms "
        "| helion throughput | best reference / helion | of copy (same bytes) "
        "| of 1 GiB copy | search s |"
    )
    assert lines[1] == "|" + "---|" * 11
    assert lines[2] == (
        "| bmm fp16 64x512^3 | 0.0487 | 0.0461 | 0.0470 | 0.0458 cuBLAS | 0.0530 "
        "| 353 TFLOP/s | 0.94 (cuBLAS) |  |  | 6.5 |"
    )
    assert lines[3] == (
        "| add 8192^2 fp32 | 0.2686 | 0.2700 | 0.2660 |  | 0.2690 | 2998 GB/s "
        "| 0.99 (torch.compile) | 100% | 98% | cached |"
    )
    assert lines[4] == (
        "| softmax 4096x2560 fp16 | WRONG | 0.0463 | 0.0450 |  | FAILED |  |  |  |  |  |"
    )
    assert lines[5] == (
        "| per call: add of 16 fp32 | 0.0061 | 0.0052 |  |  | 0.0123 |  | 0.85 (eager) |  |  |  |"
    )
    assert len(lines) == 6
    # Every row has as many cells as the header.
    assert {line.count("|") for line in lines} == {12}


def test_table_says_where_and_how() -> None:
    text = gpu_table.render_table(results())
    assert (
        "NVIDIA H100 80GB HBM3; torch 2.11.0+cu130 (CUDA 13.0), triton 3.6.0, helion 0.1.0; "
        "autotune effort quick; 2026-11-26 12:00." in text
    )
    assert "The 1 GiB copy ran at 2990 to 3010 GB/s." in text
    assert (
        "per call: add of 16 fp32 (µs per call; eager is `x + x`, triton a raw Triton JIT "
        "launch with its allocation): helion 6.10, x + x 5.20, raw Triton 12.30, "
        "CUDA graph 2.10." in text
    )


def test_table_lists_problems_shortened_and_configs() -> None:
    text = gpu_table.render_table(results())
    problems = [line for line in text.splitlines() if line.startswith("- softmax")]
    assert problems[0].startswith("- softmax 4096x2560 fp16, helion: WRONG: Tensor-likes")
    assert len(problems[0]) < gpu_table.PROBLEM_WIDTH + 60
    assert problems[1] == (
        "- softmax 4096x2560 fp16, triton: FAILED: CompilationError: out of resources"
    )
    assert "- bmm fp16 64x512^3: `{'block_sizes': [1, 128, 128, 64], 'num_warps': 8}`" in text
    assert "- add 8192^2 fp32: `{'block_sizes': [[16, 256]], 'num_warps': 4}`" in text


def test_table_without_problems_or_memory_rows() -> None:
    text = gpu_table.render_table(results(BMM))
    assert "Problems:" not in text
    assert "1 GiB copy ran at" not in text
    assert len(table_lines(text)) == 3


def test_write_puts_results_and_table_in_the_folder(tmp_path: Path) -> None:
    data = results()
    gpu_table.write(tmp_path / "out", data)
    assert json.loads((tmp_path / "out" / gpu_table.RESULTS).read_text()) == data
    assert (tmp_path / "out" / gpu_table.TABLE).read_text() == gpu_table.render_table(data)


# --- the plot --------------------------------------------------------------------------


def drawn(tmp_path: Path, name: str, data: dict[str, Any]) -> Any:
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / name
    assert gpu_table.render_plot(data, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return image.imread(path)


def test_plot_has_one_bar_group_per_measured_kernel(tmp_path: Path) -> None:
    pixels = drawn(tmp_path, "all.png", results())
    # Three kernels have a ratio (the wrong softmax has none): 2 + 0.45 inches each, 120 dpi.
    assert pixels.shape[0] == round((2.0 + 0.45 * 3) * 120)
    assert pixels.shape[1] == 10 * 120
    assert pixels.std() > 0.05


def test_plot_follows_the_figures(tmp_path: Path) -> None:
    slower = results()
    faster = results()
    faster["rows"][0]["vs_best_reference"] = 2.5
    assert (drawn(tmp_path, "a.png", slower) != drawn(tmp_path, "b.png", faster)).any()


def test_plot_command_draws_from_results_json(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    gpu_table.write(tmp_path, results())
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "gpu_table.py"), "--plot", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / gpu_table.PLOT).read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert not gpu_table.render_plot(results(), tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()
    gpu_table.write(tmp_path, results())
    assert gpu_table.main(["--plot", str(tmp_path)]) == 1
    assert "matplotlib cannot be imported" in capsys.readouterr().err


# --- figures, bytes, merging runs, the command line --------------------------------------


def test_tensor_bytes_counts_each_element_once() -> None:
    half = torch.empty([3, 5], dtype=torch.float16)
    assert common.tensor_bytes(half) == 30
    assert common.tensor_bytes((half, [torch.empty(4), 2.5], None)) == 30 + 16
    wide = torch.empty([8, 8], dtype=torch.float32)
    assert common.tensor_bytes(wide[:, :2]) == 64  # a view's elements, not its storage
    assert common.tensor_bytes(torch.empty([0, 7])) == 0
    assert common.tensor_bytes(torch.empty([2], dtype=torch.int8)) == 2


def test_copy_reads_and_writes_half_the_bytes_each() -> None:
    assert common.copy_source_bytes(3 * 8192 * 8192 * 4) == 3 * 8192 * 8192 * 2
    assert common.copy_source_bytes(2 << 30) == 1 << 30


def test_derived_figures() -> None:
    measure = importlib.import_module("measure")
    memory = measure.memory_figures(3_000_000, 0.001, copy_gbs=4000.0, copy_1gib_gbs=2000.0)
    assert memory["gbs"] == pytest.approx(3000.0)
    assert memory["of_copy"] == pytest.approx(0.75)
    assert memory["of_copy_1gib"] == pytest.approx(1.5)
    assert measure.memory_figures(10, None, 1.0, 1.0)["of_copy"] is None
    assert measure.compute_figures(2 * 10**12, 4.0)["tflops"] == pytest.approx(500.0)
    row = {"vendor": "cuBLAS", "ms": {"helion": 2.0, "eager": 3.0, "vendor": 1.0}}
    assert measure.best_reference(row) == {"best_reference": "cuBLAS", "vs_best_reference": 0.5}
    alone = {"vendor": None, "ms": {"helion": 2.0}}
    assert measure.best_reference(alone) == {"best_reference": None, "vs_best_reference": None}


def test_keep_takes_rows_of_the_same_device_and_versions_only(tmp_path: Path) -> None:
    gpu_table.write(tmp_path, results())
    assert [row["kernel"] for row in gpu_table.kept_rows(tmp_path, FACTS)] == [
        "bmm fp16 64x512^3",
        "add 8192^2 fp32",
        "softmax 4096x2560 fp16",
        "per call: add of 16 fp32",
    ]
    assert gpu_table.kept_rows(tmp_path / "empty", FACTS) == []
    with pytest.raises(SystemExit, match="was measured with"):
        gpu_table.kept_rows(tmp_path, {**FACTS, "effort": "full"})


def test_help_runs_without_a_gpu() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "gpu_table.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--autotune {quick,full}", "--only TEXT", "--out DIR", "--keep", "--plot DIR"):
        assert option in done.stdout


# --- the measuring path on the CPU -----------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU, run benchmarks/gpu_table.py")
@pytest.mark.filterwarnings("ignore::helion.exc.AutotuningUnavailable")
def test_measure_checks_and_times_every_implementation(monkeypatch: pytest.MonkeyPatch) -> None:
    """measure.py's path at tiny sizes under Triton's interpreter, with wall-clock timers for
    the GPU's: every Helion and plain Triton kernel matches eager PyTorch."""
    measure = importlib.import_module("measure")
    tensor_cores = importlib.import_module("tensor_cores")
    memory_bound = importlib.import_module("memory_bound")
    sizes = {
        tensor_cores: {
            "MATMUL_SIZE": 128,
            "ODD_MATMUL_SHAPE": (48, 40, 72),
            "BMM_SIZES": ((2, 128),),
            "ATTENTION_TOKENS": 256,
            "ATTENTION_HEADS": 2,
            "ATTENTION_SEQUENCES": (128,),
            "ATTENTION_HEAD_DIMS": (32,),
        },
        memory_bound: {
            "ADD_SHAPE": (33, 77),
            "SOFTMAX_SHAPE": (16, 100),
            "ROW_SUM_SHAPE": (8, 2500),
            "RMS_NORM_SHAPE": (16, 130),
        },
    }
    for module, constants in sizes.items():
        for name, value in constants.items():
            monkeypatch.setattr(module, name, value)
    monkeypatch.setattr(
        measure,
        "all_cases",
        lambda: itertools.chain(tensor_cores.cases("cpu"), memory_bound.cases("cpu")),
    )
    monkeypatch.setattr(measure, "bench", wall_clock_ms)
    monkeypatch.setattr(measure, "copy_gbs", lambda moved_bytes: 1000.0)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)
    monkeypatch.setattr(torch, "compile", lambda fn, dynamic: fn)  # inductor is slow here

    # The interpreter computes bfloat16 wrongly (see README.md).
    rows = list(
        measure.measure("quick", lambda name: "bf16" not in name and "per call" not in name)
    )

    assert [row["kernel"] for row in rows] == [
        "matmul 128^3 fp16",
        "matmul 48x40x72 fp16",
        "bmm fp16 2x128^3",
        "attention fp16 4x128x32",
        "attention fp16 4x128x32 causal",
        "add 33x77 fp32",
        "softmax 16x100 fp16",
        "row sum 8x2500 fp32",
        "rms_norm 16x130 fp16",
    ]
    for row in rows:
        assert row["problems"] == {}, row["kernel"]
        expected = {"helion", "eager", "torch.compile"}
        if row["kernel"] != "matmul 48x40x72 fp16":  # no plain Triton kernel for odd sizes
            expected.add("triton")
        assert set(row["ms"]) == expected | ({"vendor"} if row["vendor"] else set())
        assert row["config"] and row["vs_best_reference"] > 0
        assert (row["tflops"] if row["kind"] == "tensor cores" else row["of_copy"]) > 0
    assert rows[5]["bytes"] == 3 * 33 * 77 * 4
    results = {"facts": FACTS, "updated": "now", "rows": rows}
    assert len(table_lines(gpu_table.render_table(results))) == 2 + len(rows)


def wall_clock_ms(call: Any) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1e3
