"""Persistent pid types together with the other features: the top-level
loop's range_* entry and maxnreg, tiles of block size 1 (squeeze_unit_blocks),
callable arguments, user tunables, and the cached call path with its direct
launches, whose persistent grid is computed at each launch."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import exc
from helion._loader import load_module
from helion.autotuner import EnumFragment, PowerOfTwoFragment
from helion.runtime import launcher as launcher_module
from helion.runtime.launcher import Launcher, fast_launches

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
PERSISTENT = ("persistent_blocked", "persistent_interleaved")


# Unlike kernels.two_loops, both loops are one-dimensional: one block size each.
def two_loops(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    doubled = torch.empty_like(x)
    sums = torch.empty([y.size(0)], dtype=y.dtype, device=y.device)
    for tile in hl.tile(x.size(0)):
        doubled[tile] = x[tile] * 2
    for tile in hl.tile(y.size(0)):
        sums[tile] = torch.sum(y[tile, :], 1)
    return doubled, sums


def scaled_split_k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    split_k = hl.register_tunable("split_k", PowerOfTwoFragment(1, 4, 2))
    hl.register_tunable("_triton_config_num_ctas", EnumFragment((1,)))
    k_chunk = k // split_k
    partial = torch.zeros([split_k, m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n, part in hl.tile([m, n, split_k], block_size=[None, None, 1]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(part.begin * k_chunk, part.begin * k_chunk + k_chunk):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        partial[part.begin, tile_m, tile_n] = acc
    return partial.sum(0)


def _kernel(fn: Any, **config: Any) -> helion.Kernel:
    return helion.kernel(config=helion.Config(**config))(fn)


def _persistent_loops(code: str) -> list[str]:
    """The `for virtual_pid... in tl.range(...)` lines: one per top-level loop."""
    return re.findall(r"for virtual_pid\w* in (tl\.range\(.*\)):", code)


def _tolerance(dtype: torch.dtype) -> dict[str, float]:
    if dtype == torch.float16:
        return {"atol": 1e-1, "rtol": 1e-2}
    if DEVICE == "cuda":
        # The GPU's dots round float32 inputs to tf32 (the default dot_precision).
        return {"atol": 5e-2, "rtol": 1e-2}
    return {"atol": 1e-3, "rtol": 1e-3}


def _no_slow_calls(kernel: helion.Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on a call of `kernel` must be a cached call."""

    def slow(*_args: Any) -> Any:
        raise AssertionError("the call missed the cache")

    monkeypatch.setattr(kernel, "_call_slowly", slow)


# --- the top-level loop's range entry and maxnreg ---------------------------------------


@pytest.mark.parametrize("pid_type", PERSISTENT)
def test_the_persistent_loop_takes_the_top_level_range_entry(pid_type: str) -> None:
    x = torch.randn(70, 45, device=DEVICE)
    y = torch.randn(45, 33, device=DEVICE)
    config = {
        "block_sizes": [[16, 16], [16]],
        "pid_type": pid_type,
        "num_sm_multiplier": 2,
        "range_unroll_factors": [2, 0],
        "range_num_stages": [3, 1],
        "range_flattens": [True, None],
        "range_multi_buffers": [False, None],
    }
    kernel = _kernel(K.matmul, **config)
    code = kernel.bind((x, y)).to_triton_code(helion.Config(**config))
    (loop,) = _persistent_loops(code)
    for keyword in (
        "loop_unroll_factor=2",
        "num_stages=3",
        "flatten=True",
        "disallow_acc_multi_buffer=True",
    ):
        assert keyword in loop, loop
    assert re.search(r"for offset_\d+ in tl\.range\(0, 45, _BLOCK_SIZE_2, num_stages=1\)", code)
    torch.testing.assert_close(kernel(x, y), x @ y, **_tolerance(x.dtype))


def test_each_top_level_loop_takes_its_own_entry() -> None:
    x = torch.randn(100, device=DEVICE)
    y = torch.randn(30, 7, device=DEVICE)
    config = {
        "block_sizes": [32, 8],
        "pid_type": "persistent_interleaved",
        "range_num_stages": [2, 4],
    }
    kernel = _kernel(two_loops, **config)
    loops = _persistent_loops(kernel.bind((x, y)).to_triton_code(helion.Config(**config)))
    assert len(loops) == 2
    assert "num_stages=2" in loops[0] and "num_stages=4" in loops[1], loops
    doubled, sums = kernel(x, y)
    torch.testing.assert_close(doubled, x * 2)
    torch.testing.assert_close(sums, y.sum(1), rtol=1e-5, atol=1e-5)


def test_flat_configs_reset_the_top_level_entry() -> None:
    x = torch.randn(64, 32, device=DEVICE)
    y = torch.randn(32, 16, device=DEVICE)
    spec = helion.kernel(K.matmul).bind((x, y)).config_spec
    flat = spec.normalize(helion.Config(range_num_stages=[3, 2], pid_type="flat"))
    assert flat["range_num_stages"] == [0, 2]
    persistent = spec.normalize(helion.Config(range_num_stages=[3, 2], pid_type="persistent_blocked"))
    assert persistent["range_num_stages"] == [3, 2]


@pytest.mark.parametrize("pid_type", PERSISTENT)
def test_maxnreg_with_a_persistent_pid_type_reaches_the_launch(pid_type: str) -> None:
    x = torch.randn(70, 45, device=DEVICE)
    y = torch.randn(45, 33, device=DEVICE)
    config = helion.Config(
        block_sizes=[[16, 16], [16]], pid_type=pid_type, maxnreg=128, num_warps=4
    )
    kernel = helion.kernel(config=config)(K.matmul)
    code = kernel.bind((x, y)).to_triton_code(config)
    assert re.search(r"persistent_programs\(x\.device, 1, 0\),\)\]\(.*, maxnreg=128\)", code), code
    torch.testing.assert_close(kernel(x, y), x @ y, **_tolerance(x.dtype))


@pytest.mark.parametrize("pid_type", ["flat", "xyz"])
def test_maxnreg_without_a_persistent_pid_type_is_refused(pid_type: str) -> None:
    x = torch.randn(64, 32, device=DEVICE)
    y = torch.randn(32, 16, device=DEVICE)
    config = helion.Config(block_sizes=[[16, 16], [16]], pid_type=pid_type, maxnreg=64)
    with pytest.raises(exc.InvalidConfig) as error:
        helion.kernel(K.matmul).bind((x, y)).to_triton_code(config)
    for words in ("maxnreg: 64", "needs a persistent pid_type", "persistent_blocked"):
        assert words in str(error.value), str(error.value)


def test_maxnreg_is_capped_by_the_warps() -> None:
    x = torch.randn(64, 32, device=DEVICE)
    y = torch.randn(32, 16, device=DEVICE)
    spec = helion.kernel(K.matmul).bind((x, y)).config_spec
    # 16 warps of 32 threads share 65536 registers: 128 each.
    config = spec.normalize(helion.Config(pid_type="persistent_blocked", maxnreg=256, num_warps=16))
    assert config["maxnreg"] == 128


def test_the_spec_lists_the_persistent_pid_types_and_maxnreg() -> None:
    x = torch.randn(64, 32, device=DEVICE)
    y = torch.randn(32, 16, device=DEVICE)
    described = helion.kernel(K.matmul).bind((x, y)).config_spec.describe()
    assert {"persistent_blocked", "persistent_interleaved"} <= set(described["pid_type"])
    assert described["maxnreg"] == [None, 32, 64, 128, 256]


# --- block size 1, callables, tunables ----------------------------------------------


@pytest.mark.parametrize("pid_type", PERSISTENT)
@pytest.mark.parametrize("indexing", ["pointer", "block_ptr", "tensor_descriptor"])
def test_a_batch_tile_of_one_in_persistent_programs(pid_type: str, indexing: str) -> None:
    dtype = torch.float16 if DEVICE == "cuda" else torch.float32
    a = torch.randn(5, 40, 32, device=DEVICE, dtype=dtype)
    b = torch.randn(5, 32, 24, device=DEVICE, dtype=dtype)
    config = {
        "block_sizes": [1, 16, 16, 16],
        "pid_type": pid_type,
        "indexing": indexing,
        "range_num_stages": [2, 0],
    }
    kernel = _kernel(K.bmm, **config)
    code = kernel.bind((a, b)).to_triton_code(helion.Config(**config))
    # The batch tile lost its dimension: the accumulator and the dot are 2-D.
    assert "acc = tl.full([_BLOCK_SIZE_1, _BLOCK_SIZE_2], 0.0, tl.float32)" in code, code
    assert len(_persistent_loops(code)) == 1
    expected = torch.bmm(a.float(), b.float()).to(dtype)
    torch.testing.assert_close(kernel(a, b), expected, **_tolerance(dtype))


@pytest.mark.parametrize("pid_type", PERSISTENT)
def test_a_callable_epilogue_in_persistent_programs(pid_type: str) -> None:
    x = torch.randn(50, 40, device=DEVICE)
    y = torch.randn(40, 29, device=DEVICE)
    bias = torch.randn(29, device=DEVICE)
    kernel = _kernel(
        K.matmul_with_epilogue, block_sizes=[16, 16, 16], pid_type=pid_type, num_sm_multiplier=2
    )
    result = kernel(x, y, lambda acc, tile: torch.relu(acc + bias[tile[1]]))
    torch.testing.assert_close(result, torch.relu(x @ y + bias), **_tolerance(x.dtype))
    scale = 0.5
    result = kernel(x, y, lambda acc, tile: acc * scale)
    torch.testing.assert_close(result, (x @ y) * scale, **_tolerance(x.dtype))


@pytest.mark.parametrize("pid_type", ["flat", *PERSISTENT])
def test_tunables_through_the_cached_call_path(
    pid_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = torch.randn(33, 64, device=DEVICE)
    y = torch.randn(64, 17, device=DEVICE)
    kernel = _kernel(
        scaled_split_k, block_sizes=[[16, 16, 1], [16]], pid_type=pid_type, split_k=4
    )
    torch.testing.assert_close(kernel(x, y), x @ y, **_tolerance(x.dtype))
    _no_slow_calls(kernel, monkeypatch)
    other = torch.randn(33, 64, device=DEVICE)
    torch.testing.assert_close(kernel(other, y), other @ y, **_tolerance(other.dtype))
    code = kernel.bind((x, y)).to_triton_code()
    assert "split_k = 4\n" in code and "num_ctas=1)" in code, code


# --- the direct launch path ---------------------------------------------------------


class _StandInJit:
    """Records the launches of a host function's kernel as Triton's JITFunction
    would see them (see test_call_path.py for the launcher's own tests)."""

    class _CLauncher:
        launch_cooperative_grid = False
        launch_pdl = False
        global_scratch_size = 0
        profile_scratch_size = 0

        def __init__(self, launches: list[tuple[Any, ...]]) -> None:
            self.launches = launches

        def launch(self, x: int, y: int, z: int, *rest: Any) -> None:
            self.launches.append(("direct", (x, y, z)))

    class _Compiled:
        function = "function"
        packed_metadata = "metadata"

    def __init__(self, real: Any) -> None:
        self.params = real.params
        self.launches: list[tuple[Any, ...]] = []
        self.options: list[dict[str, Any]] = []
        backend = type("CUDABackend", (), {"supports_native_tensor_specialization": True})
        self.device_caches = {0: ({}, {}, None, backend(), None)}
        self.pre_run_hooks: list[Any] = []
        self.compiled = self._Compiled()
        self.compiled.run = self._CLauncher(self.launches)

    def run(self, *args: Any, grid: Any, warmup: bool, **options: Any) -> Any:
        self.launches.append(("triton", tuple(grid) + (1,) * (3 - len(grid))))
        self.options.append(options)
        return self.compiled


def _stand_in_launches(
    kernel: helion.Kernel, args: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> tuple[Callable[..., Any], _StandInJit]:
    """The kernel's host function with its Triton kernel replaced by a stand-in,
    behind the direct launcher."""
    import triton.runtime

    module = load_module(kernel.bind(args).to_triton_code(kernel.configs[0]))
    host = getattr(module, kernel.name)
    (name,) = [n for n, v in vars(module).items() if isinstance(v, triton.runtime.KernelInterface)]
    device_function = getattr(module, name)
    # Under Triton's interpreter the module holds an InterpretedFunction: the
    # parameters come from a JITFunction of the same function.
    if not isinstance(device_function, triton.runtime.JITFunction):
        device_function = triton.runtime.JITFunction(device_function.fn)
    stand_in = _StandInJit(device_function)
    monkeypatch.setattr(module, name, stand_in)
    monkeypatch.setattr(triton.runtime, "JITFunction", _StandInJit)
    monkeypatch.setattr(launcher_module, "_current_device", lambda: 0)
    monkeypatch.setattr(launcher_module, "_current_stream", lambda device: 7)
    monkeypatch.setattr(launcher_module, "direct_launches_supported", lambda: True)
    return fast_launches(host), stand_in


def test_direct_launches_compute_the_persistent_grid_at_each_launch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = torch.randn(70, 45)
    y = torch.randn(45, 33)
    kernel = _kernel(
        K.matmul, block_sizes=[[16, 16], [16]], pid_type="persistent_blocked", num_sm_multiplier=4,
        maxnreg=64,
    )
    host, stand_in = _stand_in_launches(kernel, (x, y), monkeypatch)
    sms = {"count": 5}
    monkeypatch.setattr(
        helion.runtime, "persistent_programs",
        lambda device, multiplier, reserved=0: sms["count"] * multiplier - reserved,
    )
    host(x, y)
    sms["count"] = 9  # another device's count: the next launch must read it
    host(x, y)
    assert stand_in.launches == [("triton", (20, 1, 1)), ("direct", (36, 1, 1))]
    assert stand_in.options[0]["maxnreg"] == 64


def test_direct_launches_keep_the_tunables_launch_options(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.randn(33, 64)
    y = torch.randn(64, 17)
    kernel = _kernel(scaled_split_k, block_sizes=[[16, 16, 1], [16]], split_k=2)
    host, stand_in = _stand_in_launches(kernel, (x, y), monkeypatch)
    host(x, y)
    host(x, y)
    # The option went to Triton's compile with the first launch; the second
    # launches the kernel it compiled.
    assert [kind for kind, _grid in stand_in.launches] == ["triton", "direct"]
    assert stand_in.options == [{"num_warps": 4, "num_stages": 2, "num_ctas": 1}]


# --- on a GPU -----------------------------------------------------------------------


def _direct_launches(kernel: helion.Kernel, args: tuple[Any, ...]) -> int:
    run = kernel.bind(args).keyed_run()  # what cached calls run
    assert run is not None
    return sum(v.direct_launches for v in run.__globals__.values() if isinstance(v, Launcher))


@pytest.mark.gpu
@pytest.mark.parametrize("pid_type", PERSISTENT)
def test_gpu_persistent_matmul_with_range_options_and_maxnreg(pid_type: str) -> None:
    x = torch.randn(1000, 520, device="cuda", dtype=torch.float16)
    y = torch.randn(520, 700, device="cuda", dtype=torch.float16)
    kernel = _kernel(
        K.matmul,
        block_sizes=[[64, 128], [32]],
        pid_type=pid_type,
        num_sm_multiplier=2,
        range_num_stages=[2, 3],
        range_unroll_factors=[1, 0],
        range_flattens=[True, None],
        maxnreg=128,
        num_warps=4,
    )
    for _ in range(3):
        torch.testing.assert_close(kernel(x, y), x @ y, rtol=1e-2, atol=1e-1)
    assert _direct_launches(kernel, (x, y)) >= 1


@pytest.mark.gpu
@pytest.mark.parametrize("pid_type", PERSISTENT)
def test_gpu_persistent_batch_tile_of_one_and_epilogue(pid_type: str) -> None:
    a = torch.randn(6, 128, 64, device="cuda", dtype=torch.float16)
    b = torch.randn(6, 64, 96, device="cuda", dtype=torch.float16)
    kernel = _kernel(
        K.bmm, block_sizes=[1, 64, 32, 32], pid_type=pid_type, indexing="tensor_descriptor"
    )
    torch.testing.assert_close(kernel(a, b), torch.bmm(a, b), rtol=1e-2, atol=1e-1)
    x = torch.randn(300, 256, device="cuda", dtype=torch.float16)
    y = torch.randn(256, 200, device="cuda", dtype=torch.float16)
    bias = torch.randn(200, device="cuda", dtype=torch.float16)
    epilogue = _kernel(K.matmul_with_epilogue, block_sizes=[64, 64, 32], pid_type=pid_type)
    for _ in range(2):
        result = epilogue(x, y, lambda acc, tile: torch.relu(acc + bias[tile[1]]))
        torch.testing.assert_close(result, torch.relu(x @ y + bias), rtol=1e-2, atol=1e-1)


@pytest.mark.gpu
@pytest.mark.parametrize("pid_type", ["flat", *PERSISTENT])
def test_gpu_tunables_launch_directly(pid_type: str) -> None:
    x = torch.randn(256, 512, device="cuda")
    y = torch.randn(512, 128, device="cuda")
    kernel = _kernel(
        scaled_split_k, block_sizes=[[32, 32, 1], [32]], pid_type=pid_type, split_k=4
    )
    for _ in range(3):
        torch.testing.assert_close(kernel(x, y), x @ y, **_tolerance(x.dtype))
    assert _direct_launches(kernel, (x, y)) == 2
