"""Running one search: the options the core's search reads, the evaluator
it calls back, and the result it returns."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from .. import _core, exc
from .._config import Config
from .benchmark import Evaluator, _generate_quietly
from .report import Reporter, describe_compiles, describe_steps

if TYPE_CHECKING:
    from ..runtime.kernel import BoundKernel


def strategy_name(spelling: str) -> str:
    """The core's name of the strategy ``spelling`` names (a name, class name
    or alias of ``_core.search_strategies()``, ignoring case and
    underscores); ValueError for an unknown one."""
    try:
        return _core.strategy_name(spelling)
    except _core.UserError as error:
        raise ValueError(error.args[1]) from None


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
                "supports_warp_specialize": properties.major >= 10
                and bool(bound.settings.allow_warp_specialize),
                "supports_maxnreg": torch.version.hip is None,
            }
    # Triton's interpreter: no real limits, and no tensor descriptors.
    return {
        "sm_count": 132,
        "shared_memory_per_block": 232448,
        "max_threads_per_block": 1024,
        "supports_tensor_descriptor": False,
        "supports_warp_specialize": False,
        "supports_maxnreg": False,
    }


def _overrides(overrides: Any) -> dict[str, Any]:
    """autotune_config_overrides, checked like a config's fields."""
    try:
        return dict(Config.from_dict(overrides or {}))
    except exc.InvalidConfig as error:
        raise exc.InvalidConfig(f"autotune_config_overrides: {error}") from None


def default_strategy(settings: Any) -> str:
    """The strategy a search without given configs uses (``autotune_strategy``,
    which HELION_AUTOTUNER sets too)."""
    if settings.autotune_strategy == "finite":
        raise ValueError(
            "autotune_strategy='finite' (FiniteSearch) times the configs it is given; "
            "pass them as @helion.kernel(configs=[...]) instead"
        )
    return settings.autotune_strategy


def _options(
    bound: BoundKernel,
    args: Sequence[Any],
    configs: Sequence[Config] | None,
    strategy: str | None = None,
    sizes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``strategy`` (None: the default) and ``sizes`` (population_size,
    max_generations, ...; None values keep the strategy's defaults) come from
    a search class."""
    settings = bound.settings
    effort = settings.autotune_effort if settings.autotune_effort != "none" else "quick"
    options: dict[str, Any] = {
        "strategy": "finite" if configs else strategy or default_strategy(settings),
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
    options.update({name: value for name, value in (sizes or {}).items() if value is not None})
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
    strategy: str | None = None,
    sizes: dict[str, Any] | None = None,
) -> tuple[Config, dict[str, Any]]:
    """Runs a search (over ``configs`` when given) without the cache; returns the
    best config and the core's full result (history, best_over_time,
    finalists, step_seconds, ...). ``strategy`` and ``sizes``: see ``_options``."""
    started = time.monotonic()  # the budget counts everything from here
    settings = bound.settings
    name = bound.fn.__name__
    args = bound.kernel.normalize_args(*args)  # candidates are called with defaults filled in
    options = _options(bound, args, configs, strategy, sizes)
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
        steps = describe_steps(evaluator.step_seconds)
        compiles = describe_compiles(evaluator.compile_seconds)
        reporter.note(f"[helion] kernel '{name}': search time by step: {steps}; {compiles}")
    except _core.UserError as error:
        found = exc._from_core(error)
        raise type(found)(f"kernel '{name}': autotuning: {found}") from None
    except _core.InternalError as error:
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
