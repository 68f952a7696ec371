"""Autotuning: finding the fastest config of one kernel specialization.

The search strategies live in the compiler core (``_core.Kernel.autotune``);
this package gives them what they cannot do themselves: running one search
(``driver.py``), compiling candidates in worker processes, checking their
output and timing them (``benchmark.py``, ``precompile.py``), reporting
progress (``report.py``) and remembering the winner on disk (``cache.py``). The search classes
(``searches.py``) run one strategy by Helion's class names, for
``autotuner_fn``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import exc
from .._config import Config
from . import cache
from .driver import default_strategy, search, strategy_name
from .fragments import (
    BooleanFragment,
    EnumFragment,
    Fragment,
    IntegerFragment,
    ListOf,
    PowerOfTwoFragment,
)
from .searches import (
    BaseSearch,
    DifferentialEvolutionSearch,
    FiniteSearch,
    LFBOTreeSearch,
    PatternSearch,
    RandomSearch,
    search_algorithms,
)

if TYPE_CHECKING:
    from ..runtime.kernel import BoundKernel

__all__ = [
    "BaseSearch",
    "BooleanFragment",
    "DifferentialEvolutionSearch",
    "EnumFragment",
    "FiniteSearch",
    "Fragment",
    "IntegerFragment",
    "LFBOTreeSearch",
    "ListOf",
    "PatternSearch",
    "PowerOfTwoFragment",
    "RandomSearch",
    "autotune",
    "cache",
    "default_strategy",
    "search",
    "search_algorithms",
    "strategy_name",
]


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
    cached config exists; the result is cached either way, except with
    ``HELION_SKIP_CACHE=1``, which neither reads nor writes the cache. With
    ``HELION_ASSERT_CACHE_HIT=1`` a search that would run raises
    :class:`helion.exc.CacheAssertionError` instead.
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
    parts = cache.key_parts(bound, args, default_strategy(settings))
    if use_cache and not settings.force_autotune and not cache.skipped():
        found = cache.lookup(bound, parts)
        if found is not None:
            config, path = found
            if verbose:
                print(
                    f"[helion] kernel '{name}': using the autotuned config from {path}",
                    file=sys.stderr,
                    flush=True,
                )
            return config
    if cache.must_hit():
        explanation = cache.explain_miss(bound.kernel.name, parts)
        print(f"[helion] kernel '{name}': cache miss; {explanation}", file=sys.stderr, flush=True)
        raise exc.CacheAssertionError(
            f"kernel '{name}': no cached config for these arguments and settings, and "
            f"{cache.ASSERT_HIT_ENV}=1 forbids searching (how the key differs is printed "
            f"above); unset {cache.ASSERT_HIT_ENV} to search, or pass config= to "
            "@helion.kernel"
        )
    best, result = search(bound, args)
    # Not when the budget left nothing measured.
    if result.get("best_time_ms") is not None and not cache.skipped():
        cache.store(bound, parts, best, result.get("best_time_ms"))
    return best


# Helion's names for autotuner parts that work differently here, with what to use instead.
_NOT_PROVIDED = {
    "LocalAutotuneCache": "the local on-disk cache is the only one (HELION_CACHE_DIR)",
    "StrictLocalAutotuneCache": "set HELION_ASSERT_CACHE_HIT=1 to require a cached config",
    "AOTAutotuneCache": "use helion.aot_kernel",
    "cache_classes": "the local on-disk cache is the only one (HELION_CACHE_DIR)",
    "AutotuneEffortProfile": "set autotune_effort ('none', 'quick' or 'full')",
    "DifferentialEvolutionConfig": "pass the options to DifferentialEvolutionSearch(...)",
    "PatternSearchConfig": "pass the options to PatternSearch(...)",
    "RandomSearchConfig": "pass the options to RandomSearch(...)",
    "DESurrogateHybrid": "use LFBOTreeSearch (model-guided) or DifferentialEvolutionSearch",
    "LFBOPatternSearch": "use LFBOTreeSearch (model-guided) or PatternSearch",
    "CachedFiniteSearch": "use FiniteSearch with the configs to choose from",
    "InitialPopulationStrategy": "the searches seed themselves from the kernel's shape",
    "initial_population_strategies": "the searches seed themselves from the kernel's shape",
    "ConfigSpec": "use bound_kernel.config_spec",
    "UserConfigSpec": "use hl.register_tunable in the kernel",
    "NumThreadsFragment": "num_threads belongs to another backend; kernels compile with Triton",
    "aot_kernel": "use helion.aot_kernel",
    "from_cache": "use helion.from_cache",
}

__getattr__ = exc.not_provided_getattr("helion.autotuner", _NOT_PROVIDED)
