"""Helion's public names beyond the language: Kernel and BoundKernel attributes,
``helion.aot_kernel``/``jit``/``from_cache``, ``helion.runtime`` and the
helpers of ``helion._testing``."""

from __future__ import annotations

import inspect
import os
import time
import unittest
from pathlib import Path

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion._testing as testing
from helion import _settings, exc


@pytest.fixture(autouse=True)
def _tensors_where_kernels_run():
    """Tensors these tests make live where kernels run: the GPU when there is one."""
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        yield



def _add_kernel(**settings: object) -> helion.Kernel:
    return helion.kernel(autotune_effort="none", **settings)(K.add)


# --- Kernel ---------------------------------------------------------------------------


def test_kernel_signature_source_and_name() -> None:
    kernel = _add_kernel()
    assert kernel.name == "add"
    assert kernel.signature == inspect.signature(K.add)
    assert kernel.kernel_source.startswith("def add(x: torch.Tensor, y: torch.Tensor)")
    assert "hl.tile(out.size())" in kernel.kernel_source


def test_specialization_key_follows_the_specialization() -> None:
    kernel = _add_kernel()
    a = torch.zeros(4, 5)
    same = kernel.specialization_key([a, a])
    assert kernel.specialization_key([torch.ones(4, 5), torch.ones(4, 5)]) == same
    assert kernel.specialization_key([torch.zeros(4, 6), torch.zeros(4, 6)]) != same
    assert kernel.specialization_key([a.half(), a.half()]) != same
    assert kernel.normalize_args(a, y=a) == (a, a)


# --- BoundKernel ----------------------------------------------------------------------


def test_bound_kernel_code_configs_and_cached_path(device: str) -> None:
    config = helion.Config(block_sizes=[[4, 8]])
    kernel = helion.kernel(config=config)(K.add)
    x = torch.randn(8, 16, device=device)
    bound = kernel.bind([x, x])
    assert bound.configs == [config]
    assert bound.to_code(config) == bound.to_triton_code(config)
    assert bound.get_cached_path() is None  # nothing compiled yet
    torch.testing.assert_close(kernel(x, x), x + x)
    path = bound.get_cached_path()
    assert path is not None and Path(path).read_text() == bound.to_code()
    assert bound.get_cached_path(helion.Config(block_sizes=[[2, 2]])) is None


def test_format_kernel_decorator() -> None:
    x = torch.zeros(4, 4)
    bound = _add_kernel().bind([x, x])
    config = helion.Config(block_sizes=[[4, 4]], num_warps=2)
    assert bound.format_kernel_decorator(config, helion.Settings(static_shapes=False)) == (
        "@helion.kernel(config=helion.Config(block_sizes=[[4, 4]], num_warps=2), "
        "static_shapes=False)"
    )


def test_ensure_config_exists_chooses_the_config_once() -> None:
    x = torch.zeros(4, 4)
    bound = _add_kernel().bind([x, x])
    assert bound.config is None
    bound.ensure_config_exists([x, x])
    chosen = bound.config
    assert chosen == bound.config_spec.default_config()
    bound.ensure_config_exists([x, x])
    assert bound.config is chosen


@pytest.mark.parametrize(
    "name",
    [
        "env",
        "host_function",
        "fake_args",
        "backend_cache_key",
        "extra_cache_key",
        "is_cacheable",
        "maybe_log_repro",
        "supports_subprocess_benchmark",
        "bench_compile_config",
    ],
)
def test_helion_internals_raise_clearly(name: str) -> None:
    x = torch.zeros(4, 4)
    bound = _add_kernel().bind([x, x])
    with pytest.raises(exc.InvalidAPIUsage, match=rf"BoundKernel.{name} .* does not exist"):
        getattr(bound, name)


# --- helion.aot_kernel, jit, from_cache, runtime --------------------------------------


def test_aot_kernel_is_a_kernel_with_dynamic_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELION_AOT_MODE", raising=False)
    kernel = helion.aot_kernel(batched=[[0, None], None], autotune_effort="none")(K.add)
    assert isinstance(kernel, helion.Kernel)
    assert kernel.settings.static_shapes is False
    x = torch.randn(3, 5)
    torch.testing.assert_close(kernel(x, x), x + x)
    assert helion.aot_kernel(K.add).settings.static_shapes is False
    assert helion.aot_kernel(static_shapes=True)(K.add).settings.static_shapes is True


def test_aot_kernel_refuses_the_aot_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELION_AOT_MODE", "collect")
    with pytest.raises(exc.UnsupportedSetting, match=r"HELION_AOT_MODE='collect'.*unset it"):
        helion.aot_kernel()(K.add)
    monkeypatch.delenv("HELION_AOT_MODE")
    with pytest.raises(TypeError, match=r"aot_kernel's key must be callable"):
        helion.aot_kernel(key=3)


def test_jit_and_from_cache_raise_clearly() -> None:
    with pytest.raises(exc.InvalidAPIUsage, match=r"helion.jit is not supported.*@helion.kernel"):
        helion.jit(K.add)
    with pytest.raises(exc.InvalidAPIUsage, match=r"from_cache.*use @helion.kernel"):
        helion.from_cache("add")


def test_runtime_names() -> None:
    assert helion.runtime.kernel is helion.kernel
    expected = (
        torch.cuda.get_device_properties(0).multi_processor_count
        if torch.cuda.is_available()
        else os.cpu_count()
    )
    assert helion.runtime.get_num_sm(testing.DEVICE) == expected
    for name in helion.__all__:
        assert hasattr(helion, name), name


# --- helion._testing ------------------------------------------------------------------


def test_ref_mode_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELION_INTERPRET", raising=False)
    assert not testing.is_ref_mode_enabled()
    assert testing.is_ref_mode_enabled(helion.Settings(ref_mode=helion.RefMode.EAGER))
    monkeypatch.setenv("HELION_INTERPRET", "1")
    assert testing.is_ref_mode_enabled()


def test_tracking_ref_mode_runs() -> None:
    kernel = _add_kernel()
    x = torch.randn(3, 3)
    with testing.track_run_ref_calls() as names:
        kernel.run_ref(x, x)
        kernel.run_ref(x, x)
    assert names == ["add", "add"]
    with testing.assert_helion_ref_mode():
        kernel.run_ref(x, x)
    with (
        pytest.raises(AssertionError, match=r"no helion kernel ran in ref mode"),
        testing.assert_helion_ref_mode(),
    ):
        kernel(x, x)


def test_code_and_output_in_ref_mode() -> None:
    kernel = helion.kernel(ref_mode=helion.RefMode.EAGER)(K.add)
    x = torch.randn(3, 3)
    code, result = testing.code_and_output(kernel, [x, x])
    assert code == kernel.kernel_source
    torch.testing.assert_close(result, x + x)


def _outcome(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


def test_skip_decorators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELION_INTERPRET", raising=False)

    class Cases(unittest.TestCase):
        @testing.skipIfFn(lambda: True, "always")
        def test_skipped_by_fn(self) -> None:
            pass

        @testing.skipIfNormalMode("ref mode only")
        def test_skipped_in_normal_mode(self) -> None:
            pass

        @testing.skipIfRefEager("not in ref mode")
        def test_runs_in_normal_mode(self) -> None:
            pass

        @testing.skipIfNotTriton("triton only")
        def test_runs_with_triton(self) -> None:
            pass

        @testing.onlyBackends(["cute"])
        def test_skipped_for_another_backend(self) -> None:
            pass

        @testing.skipIfPyTorchBaseVerLessThan("99.0")
        def test_skipped_for_a_future_torch(self) -> None:
            pass

        @testing.xfailIfFn(lambda: True)
        def test_expected_to_fail(self) -> None:
            raise AssertionError("fails as expected")

    result = _outcome(Cases)
    assert result.testsRun == 7
    assert sorted(test.id().rsplit(".", 1)[1] for test, _ in result.skipped) == [
        "test_skipped_by_fn",
        "test_skipped_for_a_future_torch",
        "test_skipped_for_another_backend",
        "test_skipped_in_normal_mode",
    ]
    assert len(result.expectedFailures) == 1 and not result.failures and not result.errors


def test_gpu_skips_follow_the_device() -> None:
    on_gpu = testing.is_cuda()

    class Cases(unittest.TestCase):
        @testing.skipIfCudaCapabilityLessThan((8, 0), "needs sm80")
        def test_sm80(self) -> None:
            pass

        @testing.skipUnlessTensorDescriptor("needs TMA")
        def test_tma(self) -> None:
            pass

        @testing.skipIfLowVRAM("needs memory", required_bytes=1)
        def test_memory(self) -> None:
            pass

    # The GPU these tests run on is an H100 or later.
    assert len(_outcome(Cases).skipped) == (0 if on_gpu else 3)


def test_ref_eager_test_base_runs_kernels_in_ref_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELION_INTERPRET", raising=False)
    monkeypatch.setattr(_settings, "_triton_interpret_set_by_helion", True)
    seen: list[object] = []

    class Cases(testing.RefEagerTestBase, unittest.TestCase):
        def test_kernel(self) -> None:
            kernel = helion.kernel(K.add)
            seen.append(kernel.settings.ref_mode)
            x = torch.randn(2, 2)
            with testing.assert_helion_ref_mode():
                torch.testing.assert_close(kernel(x, x), x + x)

    class Disabled(testing.RefEagerTestDisabled, unittest.TestCase):
        def test_anything(self) -> None:
            seen.append("ran")

    result = _outcome(Cases)
    assert not result.failures and not result.errors, result.errors
    assert seen == [helion.RefMode.EAGER]
    assert "HELION_INTERPRET" not in os.environ
    _outcome(Disabled)
    assert seen[-1] == "ran"


def test_single_process_helpers() -> None:
    assert testing.is_master_rank()
    assert testing.sync_object({"a": 1}) == {"a": 1}
    testing.synchronize_device()
    before = torch.get_float32_matmul_precision()
    with testing.float32_matmul_precision("medium"):
        assert torch.get_float32_matmul_precision() == "medium"
    assert torch.get_float32_matmul_precision() == before
    assert testing.get_tensor_descriptor_fn_name() == "tl.make_tensor_descriptor"


@pytest.mark.parametrize("name", ["AssertExpectedJournal", "counters", "interleaved_bench"])
def test_helpers_not_provided_raise_clearly(name: str) -> None:
    with pytest.raises(exc.InvalidAPIUsage, match=rf"helion._testing.{name} is not supported here"):
        getattr(testing, name)
    with pytest.raises(AttributeError):
        testing.no_such_helper


# --- modules users' kernels import beside the public ones ------------------------------


def test_do_bench_generic_times_a_callable_in_milliseconds() -> None:
    from helion.autotuner.benchmarking import do_bench_generic

    calls = []
    ms = do_bench_generic(lambda: (calls.append(1), time.sleep(0.002)), rep=20)
    assert 1.5 <= ms < 50
    assert len(calls) >= 2
    assert testing.do_bench is do_bench_generic


def test_get_backend_reads_the_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from helion.runtime.settings import _get_backend

    assert _get_backend() == "triton"
    monkeypatch.setenv("HELION_BACKEND", "pallas")
    assert _get_backend() == "pallas"


def test_tileir_tunables_are_never_used() -> None:
    from helion._compat import use_tileir_tunables

    assert use_tileir_tunables() is False


@pytest.mark.parametrize(
    ("module", "name", "instead"),
    [
        ("helion.language", "dot_scaled", "hl.dot"),
        ("helion.language", "breakpoint", "ref mode"),
        ("helion.autotuner", "LocalAutotuneCache", "HELION_CACHE_DIR"),
        ("helion.autotuner", "PatternSearchConfig", "PatternSearch(...)"),
    ],
)
def test_helion_names_not_provided_say_what_to_use(module: str, name: str, instead: str) -> None:
    import importlib

    with pytest.raises(exc.InvalidAPIUsage, match="is not supported here") as error:
        getattr(importlib.import_module(module), name)
    assert instead in str(error.value)
    with pytest.raises(AttributeError):
        getattr(importlib.import_module(module), "no_such_name")


@pytest.mark.parametrize("key", ["epilogue_subtile", "load_cache_modifiers", "num_threads"])
def test_helion_config_fields_not_taken_here_say_so(key: str) -> None:
    kernel = helion.kernel(config=helion.Config(block_sizes=[[4, 4]], **{key: 2}))(K.add)
    x = torch.zeros(8, 8)
    with pytest.raises(exc.InvalidConfig, match=f'"{key}" is not supported: .*; remove it'):
        kernel(x, x)
