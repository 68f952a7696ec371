"""Times every benchmark kernel on the GPU and writes one table of Helion against PyTorch eager,
torch.compile, the vendor library and a plain Triton kernel.

Kernels: matmul, batched matmul and flash attention (tensor_cores.py), add,
softmax, row sum and rms_norm (memory_bound.py), and the cost of one call of
a tiny kernel (call_overhead.py). Each Helion kernel is autotuned on its
first call, which uses the on-disk config cache when it holds the kernel's
config (nothing forces a search); the table gives that call's seconds when
it searched. Every implementation's result is checked against eager PyTorch
before it is timed: one that is wrong or raises is printed, marked in the
table, and makes the exit status 1.

Writes to --out: results.json (every figure, the device, the versions and
the configs picked; rewritten after each kernel, so a run cut short keeps
what it measured), table.md, and ratios.png when matplotlib can be imported.
--keep starts from --out's results.json and measures only the kernels it
lacks, which resumes a run cut short or fills the table in parts. --plot
renders ratios.png from a results.json, without a GPU.

Run: python benchmarks/gpu_table.py [--autotune quick|full] [--only TEXT] [--out DIR] [--keep]
     python benchmarks/gpu_table.py --plot DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest"
RESULTS = "results.json"
TABLE = "table.md"
PLOT = "ratios.png"
PROBLEM_WIDTH = 300  # characters of a problem's message in table.md

Row = dict[str, Any]


# --- the table -----------------------------------------------------------------------


def render_table(results: dict[str, Any]) -> str:
    """table.md: what was measured where, the table, the per-call figures, problems, configs."""
    rows = results["rows"]
    lines = [
        "# Helion against PyTorch, vendor libraries and plain Triton",
        "",
        describe_run(results),
        "",
        NOTES + describe_copy(rows),
        "",
        "| " + " | ".join(header for header, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(cell(row) for _, cell in COLUMNS) + " |" for row in rows]
    lines += per_call_lines(rows) + problem_lines(rows) + config_lines(rows)
    return "\n".join(lines) + "\n"


NOTES = (
    "Medians of triton.testing.do_bench, the L2 cache flushed before each run. "
    '"best reference / helion" above 1 means Helion is faster than every other '
    "implementation in its row (named beside it). Tensor-core rows count FLOPs as the "
    "vendor library does (a causal mask halves them). Memory-bound rows count each "
    "element of the inputs and the output once and give Helion's bandwidth as a fraction "
    "of a device-to-device copy timed beside it that moves the same bytes, and of a "
    '1 GiB copy. "search s" is the first call\'s seconds when it autotuned, "cached" '
    "when its config came from the on-disk cache. Every result was checked against eager "
    "PyTorch first: WRONG and FAILED mark those that were not right, and were not timed."
)


def describe_run(results: dict[str, Any]) -> str:
    facts = results["facts"]
    return (
        f"{facts['device']}; torch {facts['torch']} (CUDA {facts['cuda']}), "
        f"triton {facts['triton']}, helion {facts['helion']}; autotune effort "
        f"{facts['effort']}; {results['updated']}."
    )


def describe_copy(rows: list[Row]) -> str:
    """The 1 GiB copy's bandwidth, over the memory-bound rows that timed it."""
    figures = [row["copy_1gib_gbs"] for row in rows if row.get("copy_1gib_gbs")]
    if not figures:
        return ""
    low, high = min(figures), max(figures)
    shown = f"{low:.0f} GB/s" if round(low) == round(high) else f"{low:.0f} to {high:.0f} GB/s"
    return f" The 1 GiB copy ran at {shown}."


def ms_cell(key: str) -> Callable[[Row], str]:
    def cell(row: Row) -> str:
        found = row["problems"].get(key)
        if found is not None:
            return found["verdict"]
        ms = row["ms"].get(key)
        return "" if ms is None else f"{ms:.4f}"

    return cell


def vendor_cell(row: Row) -> str:
    shown = ms_cell("vendor")(row)
    return f"{shown} {row['vendor']}" if shown and row["vendor"] else shown


def throughput_cell(row: Row) -> str:
    if row.get("tflops") is not None:
        return f"{row['tflops']:.0f} TFLOP/s"
    if row.get("gbs") is not None:
        return f"{row['gbs']:.0f} GB/s"
    return ""


def best_reference_cell(row: Row) -> str:
    ratio = row.get("vs_best_reference")
    return "" if ratio is None else f"{ratio:.2f} ({row['best_reference']})"


def fraction_cell(key: str) -> Callable[[Row], str]:
    def cell(row: Row) -> str:
        fraction = row.get(key)
        return "" if fraction is None else f"{fraction:.0%}"

    return cell


def search_cell(row: Row) -> str:
    if row.get("searched") is None:
        return ""
    return f"{row['first_call_s']['helion']:.1f}" if row["searched"] else "cached"


COLUMNS: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("kernel", lambda row: row["kernel"]),
    ("helion ms", ms_cell("helion")),
    ("eager ms", ms_cell("eager")),
    ("torch.compile ms", ms_cell("torch.compile")),
    ("vendor ms", vendor_cell),
    ("triton ms", ms_cell("triton")),
    ("helion throughput", throughput_cell),
    ("best reference / helion", best_reference_cell),
    ("of copy (same bytes)", fraction_cell("of_copy")),
    ("of 1 GiB copy", fraction_cell("of_copy_1gib")),
    ("search s", search_cell),
)


def per_call_lines(rows: list[Row]) -> list[str]:
    """What the per-call row's columns hold, with the CUDA graph's figure the table lacks."""
    lines = []
    for row in rows:
        if row.get("per_call_us"):
            figures = ", ".join(f"{name} {us:.2f}" for name, us in row["per_call_us"].items())
            lines += [
                "",
                f"{row['kernel']} (µs per call; eager is `x + x`, triton a raw "
                f"Triton JIT launch with its allocation): {figures}.",
            ]
    return lines


def problem_lines(rows: list[Row]) -> list[str]:
    """One line per problem; results.json keeps the whole message."""
    found = [
        f"- {row['kernel']}, {name}: {problem['verdict']}: "
        + textwrap.shorten(problem["detail"], PROBLEM_WIDTH)
        for row in rows
        for name, problem in row["problems"].items()
    ]
    return ["", "Problems:", "", *found] if found else []


def config_lines(rows: list[Row]) -> list[str]:
    picked = [f"- {row['kernel']}: `{row['config']}`" for row in rows if row.get("config")]
    return ["", "Configs picked:", "", *picked] if picked else []


# --- the plot ------------------------------------------------------------------------


def render_plot(results: dict[str, Any], path: Path) -> bool:
    """Draws ``path``: per kernel, Helion's speed over the best reference's and, for the
    memory-bound ones, its fraction of the copy bandwidth. False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [row for row in results["rows"] if row.get("vs_best_reference") is not None]
    positions = range(len(rows))
    height = 2.0 + 0.45 * len(rows)  # inches
    figure, axes = plt.subplots(figsize=(10, height))
    speeds = axes.barh(
        [y - 0.2 for y in positions],
        [row["vs_best_reference"] for row in rows],
        height=0.4,
        label="helion's speed relative to the best reference",
    )
    axes.bar_label(speeds, fmt="%.2f", padding=2, fontsize=8)
    copied = [(y, row["of_copy"]) for y, row in zip(positions, rows) if row.get("of_copy")]
    if copied:
        fractions = axes.barh(
            [y + 0.2 for y, _ in copied],
            [fraction for _, fraction in copied],
            height=0.4,
            label="helion's fraction of copy bandwidth (same bytes)",
        )
        axes.bar_label(fractions, fmt="%.2f", padding=2, fontsize=8)
    axes.axvline(1.0, color="black", linewidth=1, linestyle="--")
    axes.margins(x=0.12)  # room for the value labels
    axes.set_yticks(list(positions), [row["kernel"] for row in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("ratio (1.0: as fast as the best reference, or as the copy)")
    axes.set_title(f"{results['facts']['device']}, autotune effort {results['facts']['effort']}")
    # In the figure's bottom half inch, where no bar can hide behind it.
    figure.legend(loc="lower center", ncol=2, fontsize=8)
    figure.tight_layout(rect=(0, 0.5 / height, 1, 1))
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def plot_saved(directory: Path) -> int:
    results = json.loads((directory / RESULTS).read_text())
    if not render_plot(results, directory / PLOT):
        print("matplotlib cannot be imported: no plot drawn", file=sys.stderr)
        return 1
    print(f"plot: {directory / PLOT}")
    return 0


# --- the run and its files ---------------------------------------------------------


def write(directory: Path, results: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RESULTS).write_text(json.dumps(results, indent=1) + "\n")
    (directory / TABLE).write_text(render_table(results))


def kept_rows(directory: Path, facts: dict[str, Any]) -> list[Row]:
    """The rows of an earlier run to keep, which must come from the same device and versions."""
    path = directory / RESULTS
    if not path.exists():
        return []
    saved = json.loads(path.read_text())
    if saved["facts"] != facts:
        raise SystemExit(
            f"--keep: {path} was measured with {saved['facts']}, this run is {facts}; "
            "choose another --out"
        )
    return saved["rows"]


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M")


def measure_into(options: argparse.Namespace) -> int:
    import torch

    if not torch.cuda.is_available():
        print(
            "gpu_table.py measures on a CUDA GPU and sees none (--plot DIR needs none)",
            file=sys.stderr,
        )
        return 2
    # Imported here: --help and --plot need neither a GPU nor Helion.
    import measure

    facts = measure.run_facts(options.autotune)
    rows = kept_rows(options.out, facts) if options.keep else []
    done = {row["kernel"] for row in rows}
    results: dict[str, Any] = {"facts": facts, "updated": now(), "rows": rows}
    for row in measure.measure(
        options.autotune, lambda name: options.only in name and name not in done
    ):
        rows.append(row)
        results["updated"] = now()
        write(options.out, results)
    if not rows:
        print(f"no kernel's name contains {options.only!r}", file=sys.stderr)
        return 2
    print()
    print(render_table(results))
    print(f"written: {options.out / RESULTS}, {options.out / TABLE}")
    if render_plot(results, options.out / PLOT):
        print(f"plot: {options.out / PLOT}")
    else:
        print(
            "matplotlib cannot be imported: no plot drawn; run "
            f"`python benchmarks/gpu_table.py --plot {options.out}` where it can"
        )
    return 1 if any(row["problems"] for row in rows) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--autotune",
        choices=("quick", "full"),
        default="quick",
        help="search effort for kernels the config cache lacks (default quick)",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="TEXT",
        help="measure only the kernels whose name contains TEXT",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"where the results go (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep DIR's results.json and measure only the kernels it lacks",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="DIR",
        help=f"only draw DIR/{PLOT} from DIR/{RESULTS} (no GPU needed)",
    )
    options = parser.parse_args(argv)
    if options.plot is not None:
        return plot_saved(options.plot)
    return measure_into(options)


if __name__ == "__main__":
    sys.exit(main())
