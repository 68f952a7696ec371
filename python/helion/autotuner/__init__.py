"""Autotuning: finding the fastest config of one kernel specialization.

The search strategies live in the compiler core (``_core.Kernel.autotune``);
this package gives them what they cannot do themselves: compiling candidates
in worker processes, checking their output and timing them
(``benchmark.py``, ``precompile.py``), reporting progress (``report.py``) and
remembering the winner on disk (``cache.py``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from .. import _core, exc
from .._config import Config
from . import cache
from .benchmark import Evaluator, _generate_quietly
from .fragments import (
    BooleanFragment,
    EnumFragment,
    Fragment,
    IntegerFragment,
    ListOf,
    PowerOfTwoFragment,
)
from .report import Reporter

if TYPE_CHECKING:
    from ..runtime.kernel import BoundKernel

__all__ = [
    "BooleanFragment",
    "EnumFragment",
    "Fragment",
    "IntegerFragment",
    "ListOf",
    "PowerOfTwoFragment",
    "autotune",
    "cache",
]


def _device_info(bound: BoundKernel, args: Sequence[Any]) -> dict[str, Any]:
    for arg in args:
        if isinstance(arg, torch.Tensor) and arg.device.type == "cuda":
            index = (
                arg.device.index if arg.device.index is not None else torch.cuda.current_device()
            )
            properties = torch.cuda.get_device_properties(index)
            shared = getattr(properties, "shared_memory_per_block_optin", 0) or getattr(
                properties, "shared_memory_per_block", 49152
            )
            return {
                "sm_count": int(properties.multi_processor_count),
                "shared_memory_per_block": int(shared),
                "max_threads_per_block": int(getattr(properties, "max_threads_per_block", 1024)),
                "supports_tensor_descriptor": properties.major >= 9,
            }
    # Triton's interpreter: no real limits, and no tensor descriptors.
    return {
        "sm_count": 132,
        "shared_memory_per_block": 232448,
        "max_threads_per_block": 1024,
        "supports_tensor_descriptor": False,
    }


def _overrides(overrides: Any) -> dict[str, Any]:
    """autotune_config_overrides, checked like a config's fields."""
    try:
        return dict(Config.from_dict(overrides or {}))
    except exc.InvalidConfig as error:
        raise exc.InvalidConfig(f"autotune_config_overrides: {error}") from None


def _options(
    bound: BoundKernel, args: Sequence[Any], configs: Sequence[Config] | None
) -> dict[str, Any]:
    settings = bound.settings
    effort = settings.autotune_effort if settings.autotune_effort != "none" else "quick"
    options: dict[str, Any] = {
        "strategy": "finite" if configs else settings.autotune_strategy,
        "effort": effort,
        # Any int seeds a search; the core reads 64-bit ints.
        "seed": int(settings.autotune_random_seed) & 0x7FFFFFFFFFFFFFFF,
        "max_generations": (
            -1 if settings.autotune_max_generations is None else settings.autotune_max_generations
        ),
        "budget_seconds": float(settings.autotune_budget_seconds or 0.0),
        "overrides": _overrides(settings.autotune_config_overrides),
        "device": _device_info(bound, args),
    }
    if configs:
        options["configs"] = [dict(config) for config in configs]
    return options


def _run_search(
    bound: BoundKernel,
    options_json: str,
    evaluate: Callable[[str, str], str],
    log: Callable[[str], None],
) -> str:
    """The core's search (a seam tests use to watch the searches run)."""
    return bound._core.autotune(options_json, evaluate, log)


def search(
    bound: BoundKernel,
    args: Sequence[Any],
    *,
    configs: Sequence[Config] | None = None,
) -> tuple[Config, dict[str, Any]]:
    """Runs a search (over ``configs`` when given) without the cache; returns the
    best config and the core's full result (history, best_over_time, ...)."""
    started = time.monotonic()  # the budget counts everything from here
    settings = bound.settings
    name = bound.fn.__name__
    args = bound.kernel.normalize_args(*args)  # candidates are called with defaults filled in
    options = _options(bound, args, configs)
    budget = options["budget_seconds"]
    deadline = started + budget if budget > 0 else None
    reporter = Reporter(name, settings)
    if not configs:
        reporter.note(
            f"[helion] autotuning kernel '{name}' (seed {options['seed']}; "
            "set autotune_random_seed or HELION_AUTOTUNE_RANDOM_SEED to repeat this search)"
        )
    evaluator = Evaluator(
        bound, args, reporter, expected_batch=len(configs or ()) or 1 << 30, deadline=deadline
    )
    try:
        options["spent_seconds"] = time.monotonic() - started
        result_json = _run_search(bound, json.dumps(options), evaluator, reporter.log)
    except (_core.UserError, _core.InternalError) as error:
        raise exc._from_core(error) from None
    finally:
        evaluator.close()
        reporter.close()
    result = json.loads(result_json)
    result["step_seconds"] = evaluator.step_seconds
    best = bound.config_spec.normalize(Config.from_dict(result["best"]))
    if settings.print_output_code:
        print(_generate_quietly(bound, best), file=sys.stderr, flush=True)
    return best, result


def autotune(
    bound: BoundKernel,
    args: Sequence[Any],
    *,
    configs: Sequence[Config] | None = None,
    use_cache: bool = True,
) -> Config:
    """The best config for ``bound``'s specialization, from the cache or a search.

    With ``configs`` (more than one), only those are timed and nothing is
    cached. ``use_cache=False`` (or ``force_autotune``) searches even when a
    cached config exists; the result is cached either way.
    """
    settings = bound.settings
    name = bound.fn.__name__
    verbose = settings.autotune_log_level <= logging.INFO
    if configs:
        best, result = search(bound, args, configs=configs)
        if verbose:
            time_ms = result["best_time_ms"]
            fastest = (
                f"fastest of {len(configs)} configs is {best!r} ({time_ms:.4f} ms)"
                if time_ms is not None
                else f"the budget ran out before any of {len(configs)} configs was measured; "
                f"using {best!r}"
            )
            print(f"[helion] kernel '{name}': {fastest}", file=sys.stderr, flush=True)
        return best
    if use_cache and not settings.force_autotune:
        found = cache.lookup(bound, args)
        if found is not None:
            config, path = found
            if verbose:
                print(
                    f"[helion] kernel '{name}': using the autotuned config from {path}",
                    file=sys.stderr,
                    flush=True,
                )
            return config
    best, result = search(bound, args)
    if result.get("best_time_ms") is not None:  # not when the budget left nothing measured
        cache.store(bound, args, best, result.get("best_time_ms"))
    return best
