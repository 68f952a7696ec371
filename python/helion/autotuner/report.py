"""What an autotuning run tells the user: log lines, a progress bar, a CSV.

- Log lines from the search are printed to stderr when ``autotune_log_level``
  allows INFO.
- On a terminal (stderr is a TTY) with ``autotune_progress_bar``, one line is
  rewritten in place after every measured config:
  ``[autotune] 37 configs, best 0.2051 ms, 12s``. Never when not a TTY.
- ``HELION_AUTOTUNE_CSV=path`` appends one row per measured config (kernel,
  batch, phase, config JSON, time in ms, error).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import sys
import time
from typing import Any

from .._config import Config

CSV_ENV = "HELION_AUTOTUNE_CSV"
_CSV_COLUMNS = ("kernel", "batch", "phase", "config", "time_ms", "error")


def describe_steps(step_seconds: dict[str, float]) -> str:
    """Where a search's time went, and so what to cap: "generate 0.0s (0%),
    compile 64.6s (92%), ...; compile dominates"."""
    total = sum(step_seconds.values())
    if total <= 0:
        return "no time recorded"
    parts = [f"{step} {s:.1f}s ({100 * s / total:.0f}%)" for step, s in step_seconds.items()]
    top = max(step_seconds, key=step_seconds.__getitem__)
    return ", ".join(parts) + f"; {top} dominates"


def describe_compiles(seconds: list[float]) -> str:
    """How long the candidates' compiles took: what a batch waits for is its
    slowest one. "24 compiles: median 3.1s, 90th percentile 5.0s, slowest 8.2s"."""
    if not seconds:
        return "no compiles in workers"
    ordered = sorted(seconds)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return (
        f"{len(ordered)} compiles: median {at(0.5):.1f}s, "
        f"90th percentile {at(0.9):.1f}s, slowest {ordered[-1]:.1f}s"
    )


class Reporter:
    def __init__(self, kernel_name: str, settings: Any) -> None:
        self.kernel_name = kernel_name
        self.verbose = settings.autotune_log_level <= logging.INFO
        self.show_errors = (
            not settings.autotune_ignore_errors and settings.autotune_log_level <= logging.WARNING
        )
        self.bar = bool(settings.autotune_progress_bar) and _is_tty()
        self.start = time.perf_counter()
        self.count = 0
        self.best_ms = math.inf
        self._bar_shown = False
        self._csv_path = os.environ.get(CSV_ENV, "")

    # --- output --------------------------------------------------------------------

    def _write(self, text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    def _clear_bar(self) -> None:
        if self._bar_shown:
            self._write("\r\033[K")
            self._bar_shown = False

    def _draw_bar(self) -> None:
        if not self.bar:
            return
        seconds = time.perf_counter() - self.start
        best = f"{self.best_ms:.4f} ms" if math.isfinite(self.best_ms) else "-"
        self._write(f"\r\033[K[autotune] {self.count} configs, best {best}, {seconds:.0f}s")
        self._bar_shown = True

    def log(self, line: str) -> None:
        """A finished line from the search."""
        if not self.verbose:
            return
        self._clear_bar()
        self._write(line.rstrip("\n") + "\n")
        self._draw_bar()

    def note(self, line: str) -> None:
        """A line of our own, printed like the search's."""
        self.log(line)

    def record(
        self,
        config: Config,
        batch: int,
        phase: str,
        time_ms: float | None,
        error: str | None,
    ) -> None:
        """One measured config."""
        self.count += 1
        if error is None and time_ms is not None and phase != "final":
            self.best_ms = min(self.best_ms, time_ms)
        if error is not None and self.show_errors:
            self._clear_bar()
            self._write(f"[helion] autotune: {config!r} failed: {error}\n")
        if self._csv_path:
            self._csv_row(config, batch, phase, time_ms, error)
        self._draw_bar()

    def _csv_row(
        self, config: Config, batch: int, phase: str, time_ms: float | None, error: str | None
    ) -> None:
        path = self._csv_path
        new = not os.path.exists(path) or os.path.getsize(path) == 0
        with open(path, "a", newline="") as file:
            writer = csv.writer(file)
            if new:
                writer.writerow(_CSV_COLUMNS)
            writer.writerow(
                [
                    self.kernel_name,
                    batch,
                    phase,
                    json.dumps(dict(config), separators=(",", ":")),
                    "" if time_ms is None else f"{time_ms:.6g}",
                    error or "",
                ]
            )

    def close(self) -> None:
        self._clear_bar()


def _is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
