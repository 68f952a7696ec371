"""``helion.Settings``: how a kernel is compiled and tuned (SPEC §8).

Every setting can be given as a keyword to ``@helion.kernel(...)`` or to
``Settings(...)``; most also read a ``HELION_*`` environment variable, which
gives the default when the keyword is absent.
"""

from __future__ import annotations

import enum
import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from typing import Any


def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _optional_int(text: str) -> int | None:
    return int(text) if text.strip() else None


def _optional_float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _log_level(text: str) -> int:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    level = logging.getLevelName(text.upper())
    if not isinstance(level, int):
        raise ValueError(f"unknown log level {text!r}")
    return level


class RefMode(enum.Enum):
    """How a kernel runs: compiled (OFF) or its body eagerly in PyTorch (EAGER)."""

    OFF = "off"
    EAGER = "eager"


def _ref_mode(text: str) -> str:
    return "eager" if _bool(text) else "off"


def _random_seed() -> int:
    return int.from_bytes(os.urandom(4), "little")


_EFFORTS = ("none", "quick", "full")
_STRATEGIES = ("model", "differential_evolution", "pattern", "random")
# The search classes' names (as the log lines print them) are accepted too.
_STRATEGY_ALIASES = {
    "modelguidedsearch": "model",
    "differentialevolutionsearch": "differential_evolution",
    "de": "differential_evolution",
    "patternsearch": "pattern",
    "randomsearch": "random",
}
_DOT_PRECISIONS = ("tf32", "tf32x3", "ieee")
_INDEX_DTYPES = ("int32", "int64")
_REF_MODES = ("off", "eager")

# name -> (environment variable or None, parser of its text, default or factory)
_FIELDS: dict[str, tuple[str | None, Callable[[str], Any] | None, Any]] = {
    "static_shapes": ("HELION_STATIC_SHAPES", _bool, True),
    "autotune_effort": ("HELION_AUTOTUNE_EFFORT", str.strip, "full"),
    "autotune_strategy": ("HELION_AUTOTUNE_STRATEGY", str.strip, "model"),
    "autotune_log_level": ("HELION_AUTOTUNE_LOG_LEVEL", _log_level, logging.INFO),
    "autotune_random_seed": ("HELION_AUTOTUNE_RANDOM_SEED", int, _random_seed),
    "autotune_compile_timeout": ("HELION_AUTOTUNE_COMPILE_TIMEOUT", int, 60),
    "autotune_precompile": ("HELION_AUTOTUNE_PRECOMPILE", _bool, True),
    "autotune_precompile_jobs": ("HELION_AUTOTUNE_PRECOMPILE_JOBS", _optional_int, None),
    "autotune_accuracy_check": ("HELION_AUTOTUNE_ACCURACY_CHECK", _bool, True),
    "autotune_max_generations": ("HELION_AUTOTUNE_MAX_GENERATIONS", _optional_int, None),
    "autotune_budget_seconds": ("HELION_AUTOTUNE_BUDGET_SECONDS", _optional_float, None),
    "autotune_progress_bar": ("HELION_AUTOTUNE_PROGRESS_BAR", _bool, True),
    "autotune_ignore_errors": ("HELION_AUTOTUNE_IGNORE_ERRORS", _bool, False),
    "autotune_config_overrides": ("HELION_AUTOTUNE_CONFIG_OVERRIDES", json.loads, dict),
    "autotuner_fn": (None, None, None),
    "force_autotune": ("HELION_FORCE_AUTOTUNE", _bool, False),
    "print_output_code": ("HELION_PRINT_OUTPUT_CODE", _bool, False),
    # None: int32 unless some tensor needs 64-bit offsets.
    "index_dtype": ("HELION_INDEX_DTYPE", str.strip, None),
    "dot_precision": ("HELION_DOT_PRECISION", str.strip, "tf32"),
    "ignore_warnings": (None, None, list),
    "ref_mode": ("HELION_INTERPRET", _ref_mode, "off"),
}


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")


def _is_number(value: Any) -> bool:
    """A finite int or float (bools are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(name: str, value: Any, low: int | None, high: int | None, optional: bool) -> None:
    if optional and value is None:
        return
    if isinstance(value, int) and not isinstance(value, bool):
        if (low is None or value >= low) and (high is None or value <= high):
            return
    allowed = "an int" if low is None else f"an int between {low} and {high}"
    raise ValueError(
        f"{name}={value!r} is not allowed; use {allowed}" + (" or None" if optional else "")
    )


def _strategy_name(value: Any) -> str:
    name = str(value).strip()
    name = _STRATEGY_ALIASES.get(name.lower().replace("_", ""), name.lower())
    _check_choice("autotune_strategy", name, _STRATEGIES)
    return name


def _index_dtype_name(value: Any) -> str | None:
    """Accepts None, "int32"/"int64" or torch.int32/torch.int64."""
    if value is None:
        return None
    name = str(value).removeprefix("torch.")
    _check_choice("index_dtype", name, _INDEX_DTYPES)
    return name


class Settings:
    """The settings of one kernel. Unknown keywords raise ``TypeError``."""

    __slots__ = tuple(_FIELDS)

    def __init__(self, **settings: Any) -> None:
        unknown = [name for name in settings if name not in _FIELDS]
        if unknown:
            raise TypeError(f"unknown helion setting {unknown[0]!r}")
        for name, (env, parse, default) in _FIELDS.items():
            if name in settings:
                value = settings[name]
            elif env is not None and parse is not None and os.environ.get(env, "") != "":
                try:
                    value = parse(os.environ[env])
                except ValueError as error:
                    raise ValueError(f"bad value for {env}: {error}") from None
            else:
                value = default() if callable(default) else default
            object.__setattr__(self, name, value)
        self._check()

    def _check(self) -> None:
        _check_choice("autotune_effort", self.autotune_effort, _EFFORTS)
        object.__setattr__(self, "autotune_strategy", _strategy_name(self.autotune_strategy))
        _check_choice("dot_precision", self.dot_precision, _DOT_PRECISIONS)
        if isinstance(self.ref_mode, RefMode):
            object.__setattr__(self, "ref_mode", self.ref_mode.value)
        _check_choice("ref_mode", self.ref_mode, _REF_MODES)
        object.__setattr__(self, "index_dtype", _index_dtype_name(self.index_dtype))
        budget = self.autotune_budget_seconds
        if budget is not None and not (_is_number(budget) and budget >= 0):
            raise ValueError(
                f"autotune_budget_seconds={budget!r} is not allowed; use a number of seconds "
                "above 0, or None (or 0) for no budget"
            )
        timeout = self.autotune_compile_timeout
        if not (_is_number(timeout) and timeout > 0):
            raise ValueError(
                f"autotune_compile_timeout={timeout!r} is not allowed; use a number of seconds "
                "above 0"
            )
        _check_int("autotune_precompile_jobs", self.autotune_precompile_jobs, 1, 1024, True)
        _check_int("autotune_max_generations", self.autotune_max_generations, 0, 1 << 20, True)
        _check_int("autotune_random_seed", self.autotune_random_seed, None, None, False)
        if not isinstance(self.autotune_config_overrides, Mapping):
            raise ValueError(
                f"autotune_config_overrides={self.autotune_config_overrides!r} is not allowed; "
                "use a dict of config fields"
            )
        if self.autotuner_fn is not None and not callable(self.autotuner_fn):
            raise TypeError("autotuner_fn must be callable")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _FIELDS:
            raise TypeError(f"unknown helion setting {name!r}")
        object.__setattr__(self, name, value)
        self._check()

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.to_dict().items())
        return f"helion.Settings({fields})"
