"""``helion.Settings``: Helion's settings, their environment variables and defaults,
and the rule that a value either works or is refused when a kernel is made."""

from __future__ import annotations

import logging
from typing import Any

import kernels as K  # noqa: N812
import pytest

import helion
from helion import _settings, exc

# Helion 1.4's settings and defaults (those kept as they are here).
HELION_DEFAULTS = {
    "allow_warp_specialize": True,
    "autotune_accuracy_check": True,
    "autotune_baseline_accuracy_check_fn": None,
    "autotune_baseline_atol": None,
    "autotune_baseline_fn": None,
    "autotune_baseline_rtol": None,
    "autotune_benchmark_fn": None,
    "autotune_benchmark_timeout": 30,
    "autotune_best_available_max_cache_scan": 500,
    "autotune_best_available_max_configs": 20,
    "autotune_best_of_k": 1,
    "autotune_budget_seconds": None,
    "autotune_cache": "LocalAutotuneCache",
    "autotune_compile_timeout": 60,
    "autotune_config_filter": None,
    "autotune_config_overrides": {},
    "autotune_effort": "full",
    "autotune_force_persistent": False,
    "autotune_ignore_errors": False,
    "autotune_initial_population_strategy": None,
    "autotune_log": None,
    "autotune_log_details": False,
    "autotune_log_level": logging.INFO,
    "autotune_max_generations": None,
    "autotune_precompile": "fork",
    "autotune_precompile_jobs": None,
    "autotune_progress_bar": True,
    "autotune_rebenchmark_threshold": None,
    "autotune_search_acf": [],
    "autotune_seed_configs": None,
    "autotune_suspicious_rebenchmark_ratio": None,
    "autotune_with_torch_compile_fusion": False,
    "backend": "triton",
    "debug_dtype_asserts": False,
    "disable_autotuner_heuristics": False,
    "distributed": False,
    "fast_math": False,
    "force_autotune": False,
    "ignore_warnings": [],
    "index_dtype": None,
    "persistent_reserved_sms": 0,
    "print_repro": False,
    "ref_mode": helion.RefMode.OFF,
    "static_shapes": True,
    "torch_compile_fusion": False,
    "triton_do_not_specialize": False,
}
# Where this implementation's behaviour, and so its default, differs from Helion's.
OWN_DEFAULTS = {
    "autotune_adaptive_timeout": True,
    "autotune_benchmark_subprocess": False,
}


@pytest.fixture(autouse=True)
def _no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for envs, _parse, _default in _settings._FIELDS.values():
        for env in envs:
            monkeypatch.delenv(env, raising=False)


def test_every_helion_setting_exists_with_its_default() -> None:
    settings = helion.Settings()
    for name, default in {**HELION_DEFAULTS, **OWN_DEFAULTS}.items():
        assert getattr(settings, name) == default, name
    assert isinstance(settings.autotune_random_seed, int)
    assert settings.autotuner_fn is None


@pytest.mark.parametrize(
    ("env", "text", "name", "value"),
    [
        ("HELION_INTERPRET", "1", "ref_mode", helion.RefMode.EAGER),
        ("HELION_AUTOTUNER", "PatternSearch", "autotune_strategy", "pattern"),
        ("HELION_AUTOTUNER", "LFBOTreeSearch", "autotune_strategy", "model"),
        ("TRITON_F32_DEFAULT", "ieee", "dot_precision", "ieee"),
        ("HELION_SKIP_CACHE", "1", "skip_cache", True),
        ("HELION_ASSERT_CACHE_HIT", "1", "assert_cache_hit", True),
        ("HELION_AUTOTUNE_SEARCH_ACF", "ei, ucb", "autotune_search_acf", ["ei", "ucb"]),
        ("HELION_AUTOTUNE_PRECOMPILE", "0", "autotune_precompile", None),
        ("HELION_AUTOTUNE_PRECOMPILE", "spawn", "autotune_precompile", "spawn"),
        ("HELION_AUTOTUNE_LOG", "/tmp/tune.log", "autotune_log", "/tmp/tune.log"),
        ("HELION_FAST_MATH", "1", "fast_math", True),
        ("HELION_BACKEND", "cute", "backend", "cute"),
        ("HELION_PERSISTENT_RESERVED_SMS", "2", "persistent_reserved_sms", 2),
        ("HELION_BEST_AVAILABLE_MAX_CONFIGS", "5", "autotune_best_available_max_configs", 5),
    ],
)
def test_environment_variables(
    monkeypatch: pytest.MonkeyPatch, env: str, text: str, name: str, value: Any
) -> None:
    monkeypatch.setattr(_settings, "_triton_interpret_set_by_helion", True)
    monkeypatch.setenv(env, text)
    assert getattr(helion.Settings(), name) == value


def test_the_first_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELION_AUTOTUNE_STRATEGY", "random")
    monkeypatch.setenv("HELION_AUTOTUNER", "PatternSearch")
    assert helion.Settings().autotune_strategy == "random"
    assert helion.Settings(autotune_strategy="de").autotune_strategy == "differential_evolution"


def test_ignore_warnings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "HELION_IGNORE_WARNINGS", "TensorOperationInWrapper, TiledKMatmulAccumulationWarning"
    )
    assert helion.Settings().ignore_warnings == [
        exc.TensorOperationInWrapper,
        exc.TiledKMatmulAccumulationWarning,
    ]
    monkeypatch.setenv("HELION_IGNORE_WARNINGS", "ShapeMismatch")
    with pytest.raises(ValueError, match=r"HELION_IGNORE_WARNINGS.*not a warning class"):
        helion.Settings()


def test_unknown_settings_name_the_closest_ones() -> None:
    with pytest.raises(TypeError, match=r"'static_shape'; did you mean 'static_shapes'"):
        helion.Settings(static_shape=False)
    with pytest.raises(TypeError, match=r"did you mean 'autotune_effort'"):
        helion.kernel(autotune_efort="none")
    settings = helion.Settings()
    with pytest.raises(TypeError, match=r"did you mean 'print_output_code'"):
        settings.print_output_cod = True
    with pytest.raises(TypeError, match=r"^unknown helion setting 'zzz'$"):
        helion.Settings(zzz=1)


def test_precompile_takes_helions_values_and_bools() -> None:
    assert helion.Settings(autotune_precompile=True).autotune_precompile == "fork"
    assert helion.Settings(autotune_precompile=False).autotune_precompile is None
    assert helion.Settings(autotune_precompile="fork").autotune_precompile == "fork"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("backend", "cute"),
        ("fast_math", True),
        ("debug_dtype_asserts", True),
        ("distributed", True),
        ("print_repro", True),
        ("torch_compile_fusion", True),
        ("triton_do_not_specialize", True),
        ("autotune_precompile", "spawn"),
        ("autotune_benchmark_subprocess", True),
        ("autotune_cache", "StrictLocalAutotuneCache"),
        ("autotune_seed_configs", [helion.Config(block_sizes=[16])]),
        ("autotune_best_of_k", 3),
        ("autotune_log", "tune.log"),
    ],
)
def test_a_value_that_cannot_be_honoured_is_refused_when_the_kernel_is_made(
    name: str, value: Any
) -> None:
    settings = helion.Settings(**{name: value})  # a Settings object alone is not a use
    assert getattr(settings, name) == value
    with pytest.raises(exc.UnsupportedSetting, match=rf"kernel 'add': {name}=.* is not supported"):
        helion.kernel(**{name: value})(K.add)
    with pytest.raises(exc.UnsupportedSetting):
        helion.kernel(settings=settings)(K.add)


def test_values_that_work_are_accepted() -> None:
    kernel = helion.kernel(
        backend="triton",
        fast_math=False,
        allow_warp_specialize=False,
        autotune_precompile=None,
        autotune_baseline_fn=lambda *args: None,
        autotune_baseline_atol=1e-3,
        autotune_baseline_rtol=1e-3,
        autotune_search_acf=["ei"],
    )(K.add)
    assert kernel.settings.autotune_baseline_atol == 1e-3
    assert kernel.settings.autotune_search_acf == ["ei"]
