"""The search classes by Helion's names and constructor shapes.

Each runs one strategy of the compiler core's search over a bound kernel's
configs with the given arguments: ``SearchClass(bound_kernel, args,
...).autotune()`` returns the best config, without reading or writing the
config cache. They are what an ``autotuner_fn`` setting returns::

    def autotuner_fn(bound_kernel, args, **kwargs):
        return DifferentialEvolutionSearch(bound_kernel, args, population_size=8)

The kernel's settings still apply (``autotune_effort``,
``autotune_random_seed``, ``autotune_budget_seconds``,
``autotune_config_overrides``, the accuracy check); a size left as None is
the strategy's default for the effort. Which strategy a class runs, and the
names ``HELION_AUTOTUNER`` accepts, come from the core's table
(``_core.search_strategies()``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .. import _core
from .._config import Config
from .driver import search, strategy_name

if TYPE_CHECKING:
    from ..runtime.kernel import BoundKernel


class BaseSearch:
    """One search over ``bound_kernel``'s configs for ``args``."""

    # The core's name of the strategy (a name of ``_core.search_strategies()``).
    strategy: ClassVar[str]

    def __init__(self, bound_kernel: BoundKernel, args: Sequence[Any], **sizes: Any) -> None:
        self.kernel = bound_kernel
        self.args = tuple(args)
        self.sizes = sizes
        # The core's full result of the last autotune(): history, finalists, ...
        self.result: dict[str, Any] | None = None

    def autotune(self, *, skip_cache: bool = False) -> Config:
        """Runs the search; returns the best config. A search object neither
        reads nor writes the config cache, so ``skip_cache`` (Helion's
        keyword) always holds here."""
        best, self.result = self._search()
        return best

    def _search(self) -> tuple[Config, dict[str, Any]]:
        return search(self.kernel, self.args, strategy=self.strategy, sizes=self.sizes)


class LFBOTreeSearch(BaseSearch):
    """Helion's default search; here the core's model-guided search stands in
    for it: a surrogate fitted to every measured and failed config proposes
    the candidates it predicts fastest, with a bonus for unexplored regions.
    Helion's tree-model parameters are not offered."""

    strategy = "model"

    def __init__(
        self,
        bound_kernel: BoundKernel,
        args: Sequence[Any],
        initial_population: int | None = None,
        max_generations: int | None = None,
    ) -> None:
        super().__init__(
            bound_kernel, args, population_size=initial_population, max_generations=max_generations
        )


class DifferentialEvolutionSearch(BaseSearch):
    """DE/rand/1/bin over the config's genes."""

    strategy = "differential_evolution"

    def __init__(
        self,
        bound_kernel: BoundKernel,
        args: Sequence[Any],
        population_size: int | None = None,
        max_generations: int | None = None,
        crossover_rate: float | None = None,
    ) -> None:
        super().__init__(
            bound_kernel,
            args,
            population_size=population_size,
            max_generations=max_generations,
            crossover_rate=crossover_rate,
        )


class PatternSearch(BaseSearch):
    """Greedy one-step descent from the best ``copies`` of an initial population."""

    strategy = "pattern"

    def __init__(
        self,
        bound_kernel: BoundKernel,
        args: Sequence[Any],
        initial_population: int | None = None,
        copies: int | None = None,
        max_generations: int | None = None,
    ) -> None:
        super().__init__(
            bound_kernel,
            args,
            population_size=initial_population,
            starts=copies,
            max_generations=max_generations,
        )


class RandomSearch(BaseSearch):
    """``count`` configs drawn uniformly from the space."""

    strategy = "random"

    def __init__(
        self, bound_kernel: BoundKernel, args: Sequence[Any], count: int | None = None
    ) -> None:
        super().__init__(bound_kernel, args, count=count)


class FiniteSearch(BaseSearch):
    """Times exactly ``configs`` and returns the fastest."""

    strategy = "finite"

    def __init__(
        self,
        bound_kernel: BoundKernel,
        args: Sequence[Any],
        configs: Sequence[Config | dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(bound_kernel, args)
        if not configs:
            raise ValueError("FiniteSearch needs configs: pass configs=[helion.Config(...), ...]")
        self.configs = [c if isinstance(c, Config) else Config.from_dict(c) for c in configs]

    def _search(self) -> tuple[Config, dict[str, Any]]:
        return search(self.kernel, self.args, configs=self.configs)


def _classes() -> dict[str, type[BaseSearch]]:
    """Every spelling of the core's table -> the class that runs that strategy."""
    by_strategy = {
        cls.strategy: cls
        for cls in (
            LFBOTreeSearch,
            DifferentialEvolutionSearch,
            PatternSearch,
            RandomSearch,
            FiniteSearch,
        )
    }
    table = json.loads(_core.search_strategies())
    missing = {entry["name"] for entry in table} ^ set(by_strategy)
    assert not missing, f"search classes and the core's strategies differ: {missing}"
    out: dict[str, type[BaseSearch]] = {}
    for entry in table:
        cls = by_strategy[entry["name"]]
        for spelling in (cls.__name__, entry["class_name"], *entry["aliases"]):
            out.setdefault(spelling, cls)
    return out


# Helion's ``helion.autotuner.search_algorithms``: class name (and the core's
# other spellings) -> search class.
search_algorithms: dict[str, type[BaseSearch]] = _classes()

__all__ = [
    "BaseSearch",
    "DifferentialEvolutionSearch",
    "FiniteSearch",
    "LFBOTreeSearch",
    "PatternSearch",
    "RandomSearch",
    "search_algorithms",
    "strategy_name",
]
