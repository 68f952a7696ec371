"""``helion.Settings``: how a kernel is compiled and tuned (SPEC §8).

Every setting can be given as a keyword to ``@helion.kernel(...)`` or to
``Settings(...)``; most also read a ``HELION_*`` environment variable, which
gives the default when the keyword is absent.
"""

from __future__ import annotations

import difflib
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


class RefMode(str, enum.Enum):
    """How a kernel runs: compiled (OFF) or its body eagerly in PyTorch (EAGER).

    A str enum, so ``settings.ref_mode == "eager"`` holds too.
    """

    OFF = "off"
    EAGER = "eager"


def _ref_mode(text: str) -> RefMode:
    if not _bool(text):
        return RefMode.OFF
    if triton_interpret_set_by_user():
        from . import exc

        raise exc.IncompatibleInterpretModes(
            "HELION_INTERPRET=1 (run kernels eagerly in PyTorch, ref mode) and "
            "TRITON_INTERPRET=1 (run compiled kernels under Triton's interpreter) are both "
            "set; unset one of them"
        )
    return RefMode.EAGER


# --- Triton's interpreter --------------------------------------------------------------

_triton_interpret_set_by_helion = False


def enable_triton_interpreter_without_gpu(cuda_available: bool) -> None:
    """Turns Triton's interpreter on where no GPU can run kernels, unless the user
    chose either way; remembers that helion did it, so that a user-set
    ``TRITON_INTERPRET=1`` can be told apart."""
    global _triton_interpret_set_by_helion
    if "TRITON_INTERPRET" not in os.environ and not cuda_available:
        os.environ["TRITON_INTERPRET"] = "1"
        _triton_interpret_set_by_helion = True


def triton_interpret_set_by_user() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1" and not _triton_interpret_set_by_helion


def _random_seed() -> int:
    return int.from_bytes(os.urandom(4), "little")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _warning_classes(text: str) -> list[type]:
    """HELION_IGNORE_WARNINGS: names of helion.exc warnings, separated by commas."""
    from . import exc

    classes = []
    for name in _names(text):
        warning = getattr(exc, name, None)
        if not (isinstance(warning, type) and issubclass(warning, exc.BaseWarning)):
            raise ValueError(f"{name!r} is not a warning class of helion.exc")
        classes.append(warning)
    return classes


def _precompile(text: str) -> str | None:
    text = text.strip().lower()
    if text in ("fork", "spawn"):
        return text
    return "fork" if _bool(text) else None


_EFFORTS = ("none", "quick", "full")


def _strategy_name(value: Any) -> str:
    """The compiler's name of a search strategy (its names and aliases live there)."""
    from . import _core

    try:
        return _core.strategy_name(str(value).strip())
    except _core.UserError as error:
        raise ValueError(f"autotune_strategy={value!r}: {error.args[1]}") from None


_DOT_PRECISIONS = ("tf32", "tf32x3", "ieee")
_INDEX_DTYPES = ("int32", "int64")
_REF_MODES = ("off", "eager")

# name -> (environment variables, first set wins; parser of their text; default or factory)
_FIELDS: dict[str, tuple[tuple[str, ...], Callable[[str], Any] | None, Any]] = {
    "static_shapes": (("HELION_STATIC_SHAPES",), _bool, True),
    "autotune_effort": (("HELION_AUTOTUNE_EFFORT",), str.strip, "full"),
    # HELION_AUTOTUNER names a search the way Helion does (PatternSearch, LFBOTreeSearch).
    "autotune_strategy": (
        ("HELION_AUTOTUNE_STRATEGY", "HELION_AUTOTUNER"),
        _strategy_name,
        "model",
    ),
    "autotune_log_level": (("HELION_AUTOTUNE_LOG_LEVEL",), _log_level, logging.INFO),
    "autotune_random_seed": (("HELION_AUTOTUNE_RANDOM_SEED",), int, _random_seed),
    "autotune_compile_timeout": (("HELION_AUTOTUNE_COMPILE_TIMEOUT",), int, 60),
    # "fork" (workers forked from this process) or None (compile in this process).
    "autotune_precompile": (("HELION_AUTOTUNE_PRECOMPILE",), _precompile, "fork"),
    "autotune_precompile_jobs": (("HELION_AUTOTUNE_PRECOMPILE_JOBS",), _optional_int, None),
    "autotune_accuracy_check": (("HELION_AUTOTUNE_ACCURACY_CHECK",), _bool, True),
    "autotune_max_generations": (("HELION_AUTOTUNE_MAX_GENERATIONS",), _optional_int, None),
    "autotune_budget_seconds": (("HELION_AUTOTUNE_BUDGET_SECONDS",), _optional_float, None),
    "autotune_progress_bar": (("HELION_AUTOTUNE_PROGRESS_BAR",), _bool, True),
    "autotune_ignore_errors": (("HELION_AUTOTUNE_IGNORE_ERRORS",), _bool, False),
    "autotune_config_overrides": (("HELION_AUTOTUNE_CONFIG_OVERRIDES",), json.loads, dict),
    "autotuner_fn": ((), None, None),
    "force_autotune": (("HELION_FORCE_AUTOTUNE",), _bool, False),
    "print_output_code": (("HELION_PRINT_OUTPUT_CODE",), _bool, False),
    # None: int32 unless some tensor needs 64-bit offsets.
    "index_dtype": (("HELION_INDEX_DTYPE",), str.strip, None),
    "dot_precision": (("HELION_DOT_PRECISION", "TRITON_F32_DEFAULT"), str.strip, "tf32"),
    "ignore_warnings": (("HELION_IGNORE_WARNINGS",), _warning_classes, list),
    "ref_mode": (("HELION_INTERPRET",), _ref_mode, RefMode.OFF),
    # The autotuner's: checking candidates against a baseline of the user's.
    "autotune_baseline_fn": ((), None, None),
    "autotune_baseline_atol": ((), None, None),
    "autotune_baseline_rtol": ((), None, None),
    "autotune_baseline_accuracy_check_fn": ((), None, None),
    "autotune_search_acf": (("HELION_AUTOTUNE_SEARCH_ACF",), _names, list),
    # The autotuner's: its on-disk cache of best configs.
    "autotune_cache": (("HELION_AUTOTUNE_CACHE",), str.strip, "LocalAutotuneCache"),
    "skip_cache": (("HELION_SKIP_CACHE",), _bool, False),
    "assert_cache_hit": (("HELION_ASSERT_CACHE_HIT",), _bool, False),
    # Helion's settings that only some values of work here (see _SUPPORTED).
    "allow_warp_specialize": (("HELION_ALLOW_WARP_SPECIALIZE",), _bool, True),
    "autotune_adaptive_timeout": (("HELION_AUTOTUNE_ADAPTIVE_TIMEOUT",), _bool, True),
    "autotune_benchmark_fn": ((), None, None),
    "autotune_benchmark_subprocess": (("HELION_AUTOTUNE_BENCHMARK_SUBPROCESS",), _bool, False),
    "autotune_benchmark_timeout": (("HELION_AUTOTUNE_BENCHMARK_TIMEOUT",), int, 30),
    "autotune_best_available_max_cache_scan": (("HELION_BEST_AVAILABLE_MAX_CACHE_SCAN",), int, 500),
    "autotune_best_available_max_configs": (("HELION_BEST_AVAILABLE_MAX_CONFIGS",), int, 20),
    "autotune_best_of_k": (("HELION_AUTOTUNE_BEST_OF_K",), int, 1),
    "autotune_config_filter": ((), None, None),
    "autotune_force_persistent": (("HELION_AUTOTUNE_FORCE_PERSISTENT",), _bool, False),
    "autotune_initial_population_strategy": (
        ("HELION_AUTOTUNER_INITIAL_POPULATION",),
        str.strip,
        None,
    ),
    "autotune_log": (("HELION_AUTOTUNE_LOG",), str.strip, None),
    "autotune_log_details": (("HELION_AUTOTUNE_LOG_DETAILS",), _bool, False),
    "autotune_rebenchmark_threshold": (("HELION_REBENCHMARK_THRESHOLD",), _optional_float, None),
    "autotune_seed_configs": ((), None, None),
    "autotune_suspicious_rebenchmark_ratio": (
        ("HELION_AUTOTUNE_SUSPICIOUS_REBENCHMARK_RATIO",),
        _optional_float,
        None,
    ),
    "autotune_with_torch_compile_fusion": (
        ("HELION_AUTOTUNE_WITH_TORCH_COMPILE_FUSION",),
        _bool,
        False,
    ),
    "backend": (("HELION_BACKEND",), str.strip, "triton"),
    "debug_dtype_asserts": (("HELION_DEBUG_DTYPE_ASSERTS",), _bool, False),
    "disable_autotuner_heuristics": (("HELION_DISABLE_AUTOTUNER_HEURISTICS",), _bool, False),
    "distributed": (("HELION_DISTRIBUTED",), _bool, False),
    "fast_math": (("HELION_FAST_MATH",), _bool, False),
    "persistent_reserved_sms": (("HELION_PERSISTENT_RESERVED_SMS",), int, 0),
    "print_repro": (("HELION_PRINT_REPRO",), _bool, False),
    "torch_compile_fusion": (("HELION_TORCH_COMPILE_FUSION",), _bool, False),
    "triton_do_not_specialize": (("HELION_TRITON_DO_NOT_SPECIALIZE",), _bool, False),
}

# Settings of which only some values work here: name -> (the values that work, what to
# do instead). A kernel with another value raises UnsupportedSetting when it is
# decorated. Allowing a value here is where support for it is declared.
_SUPPORTED: dict[str, tuple[tuple[Any, ...], str]] = {
    "autotune_precompile": (
        ("fork", None),
        "candidates are compiled in forked workers ('fork') or in this process (None)",
    ),
    "autotune_baseline_accuracy_check_fn": (
        (None,),
        "set autotune_baseline_atol and autotune_baseline_rtol",
    ),
    "autotune_benchmark_fn": ((None,), "candidates are timed by helion's own benchmark"),
    "autotune_benchmark_subprocess": (
        (False,),
        "candidates are timed in this process; autotune_compile_timeout bounds compiles",
    ),
    "autotune_benchmark_timeout": ((30,), "leave the default"),
    "autotune_best_available_max_cache_scan": ((500,), "leave the default"),
    "autotune_best_available_max_configs": ((20,), "leave the default"),
    "autotune_best_of_k": ((1,), "leave the default"),
    "autotune_cache": (("LocalAutotuneCache",), "the local on-disk cache is the only one"),
    "autotune_config_filter": ((None,), "use autotune_config_overrides to fix config fields"),
    "autotune_force_persistent": ((False,), "pass a config with the pid_type you want"),
    "autotune_initial_population_strategy": ((None,), "leave it unset"),
    "autotune_log": ((None,), "the search logs to stderr; see autotune_log_level"),
    "autotune_log_details": ((False,), "use autotune_log_level=logging.DEBUG"),
    "autotune_rebenchmark_threshold": ((None,), "leave it unset"),
    "autotune_seed_configs": (
        (None,),
        "pass configs=[...] to @helion.kernel to choose among given configs",
    ),
    "autotune_suspicious_rebenchmark_ratio": ((None,), "leave it unset"),
    "autotune_with_torch_compile_fusion": ((False,), "leave it off"),
    "backend": (("triton",), "Triton is the only backend"),
    "debug_dtype_asserts": ((False,), "check dtypes in the kernel's host code"),
    "disable_autotuner_heuristics": ((False,), "leave it off"),
    "distributed": ((False,), "kernels run on one device"),
    "fast_math": ((False,), "leave it off; kernels use Triton's precise math"),
    "print_repro": ((False,), "use print_output_code=True to see the generated code"),
    "torch_compile_fusion": ((False,), "leave it off"),
    "triton_do_not_specialize": ((False,), "use static_shapes=False"),
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
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int and (low is None or value >= low) and (high is None or value <= high):
        return
    allowed = "an int" if low is None else f"an int between {low} and {high}"
    raise ValueError(
        f"{name}={value!r} is not allowed; use {allowed}" + (" or None" if optional else "")
    )


def _index_dtype_name(value: Any) -> str | None:
    """Accepts None, "int32"/"int64" or torch.int32/torch.int64."""
    if value is None:
        return None
    name = str(value).removeprefix("torch.")
    _check_choice("index_dtype", name, _INDEX_DTYPES)
    return name


def _unknown_setting(name: str) -> TypeError:
    close = difflib.get_close_matches(name, _FIELDS, n=3)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    return TypeError(f"unknown helion setting {name!r}{hint}")


def _from_environment(envs: tuple[str, ...], parse: Callable[[str], Any]) -> tuple[bool, Any]:
    """(found, value) from the first of ``envs`` that is set and not empty."""
    for env in envs:
        text = os.environ.get(env, "")
        if text == "":
            continue
        try:
            return True, parse(text)
        except ValueError as error:
            raise ValueError(f"bad value for {env}: {error}") from None
    return False, None


class Settings:
    """The settings of one kernel. Unknown keywords raise ``TypeError``."""

    __slots__ = tuple(_FIELDS)

    def __init__(self, **settings: Any) -> None:
        for name in settings:
            if name not in _FIELDS:
                raise _unknown_setting(name)
        for name, (envs, parse, default) in _FIELDS.items():
            if name in settings:
                value = settings[name]
            else:
                found, value = _from_environment(envs, parse) if parse else (False, None)
                if not found:
                    value = default() if callable(default) else default
            object.__setattr__(self, name, value)
        self._check()

    def _check(self) -> None:
        _check_choice("autotune_effort", self.autotune_effort, _EFFORTS)
        object.__setattr__(self, "autotune_strategy", _strategy_name(self.autotune_strategy))
        _check_choice("dot_precision", self.dot_precision, _DOT_PRECISIONS)
        _check_choice("ref_mode", self.ref_mode, _REF_MODES)
        object.__setattr__(self, "ref_mode", RefMode(self.ref_mode))
        if isinstance(self.autotune_precompile, bool):
            object.__setattr__(
                self, "autotune_precompile", "fork" if self.autotune_precompile else None
            )
        object.__setattr__(self, "index_dtype", _index_dtype_name(self.index_dtype))
        _check_int("persistent_reserved_sms", self.persistent_reserved_sms, 0, 1 << 20, False)
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
            raise _unknown_setting(name)
        object.__setattr__(self, name, value)
        self._check()

    def check_supported(self, kernel_name: str) -> None:
        """Raises UnsupportedSetting for a setting whose value cannot be honoured here."""
        from . import exc

        for name, (values, instead) in _SUPPORTED.items():
            value = getattr(self, name)
            if not any(value is v or (type(value) is type(v) and value == v) for v in values):
                raise exc.UnsupportedSetting(
                    f"kernel '{kernel_name}': {name}={value!r} is not supported; {instead} "
                    f"(supported: {', '.join(map(repr, values))})"
                )
        if self.ref_mode == RefMode.EAGER and self.print_output_code:
            raise exc.RefEagerModeCodePrintError(
                f"kernel '{kernel_name}': print_output_code=True asks for the generated code, "
                "but ref mode (ref_mode=EAGER, HELION_INTERPRET=1) runs the kernel's Python "
                "body and generates none; turn one of them off"
            )

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
