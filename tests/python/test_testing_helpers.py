"""helion._testing: what Helion's examples and users' tests import."""

from __future__ import annotations

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import _testing, exc
from helion._testing import DEVICE, HALF_DTYPE, code_and_output, run_example
from helion.autotuner import PowerOfTwoFragment


add_one = helion.kernel(config=helion.Config(block_sizes=[16]))(K.add_one)


def test_device_and_dtypes() -> None:
    assert DEVICE.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert HALF_DTYPE is torch.float16
    assert _testing.LONG_INT_TYPE is torch.int64


def test_run_example_checks_then_times_every_implementation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    x = torch.randn(40, device=DEVICE)
    times = run_example(
        {"helion": add_one}, {"torch": lambda x: x + 1, "also": lambda x: 1 + x}, (x,)
    )
    assert set(times) == {"torch", "also", "helion"}
    assert all(t > 0 for t in times.values())
    err = capsys.readouterr().err
    assert "Testing helion correctness..." in err and "Testing also correctness..." in err
    assert "Benchmark Results" in err and "1.00x (ref)" in err


def test_run_example_raises_on_a_wrong_kernel() -> None:
    x = torch.randn(40, device=DEVICE)
    with pytest.raises(AssertionError, match="helion"):
        run_example(add_one, lambda x: x + 2, (x,))


def test_run_example_mismatch_tolerance() -> None:
    x = torch.zeros(100, device=DEVICE)

    def one_off(x: torch.Tensor) -> torch.Tensor:
        out = x + 1
        out[0] = 5
        return out

    run_example(one_off, add_one, (x,), max_mismatch_pct=0.02)
    with pytest.raises(AssertionError, match="differ"):
        run_example(one_off, add_one, (x,), max_mismatch_pct=0.02, max_mismatched_abs_diff=1)


def test_run_example_refuses_what_it_cannot_do() -> None:
    x = torch.randn(8, device=DEVICE)
    with pytest.raises(exc.CompileError, match="bwd=True"):
        run_example(add_one, lambda x: x + 1, (x,), bwd=True)


def test_code_and_output() -> None:
    x = torch.randn(40, device=DEVICE)
    code, result = code_and_output(add_one, (x,))
    assert "@triton.jit" in code and "_BLOCK_SIZE_0" in code
    torch.testing.assert_close(result, x + 1)
    code, result = code_and_output(add_one, (x,), block_sizes=[32])
    assert "32" in code.split("def add_one(")[1]
    torch.testing.assert_close(result, x + 1)


def test_check_example_runs_a_project_example() -> None:
    x, y = torch.randn(30, 20, device=DEVICE), torch.randn(30, 20, device=DEVICE)
    code = _testing.check_example("add", (x, y), x + y, block_sizes=[[8, 8]])
    assert "def add(" in code
    code = _testing.check_example("add", (x, y), x + y, static_shapes=False, block_sizes=[[8, 8]])
    assert "x_size_0" in code


def test_do_bench_returns_milliseconds() -> None:
    assert _testing.do_bench(lambda: torch.ones(4).sum(), rep=5) > 0


def test_top_level_helpers() -> None:
    assert [helion.cdiv(n, 4) for n in (0, 1, 4, 5, 8)] == [0, 1, 1, 2, 2]
    assert [helion.next_power_of_2(n) for n in (0, 1, 2, 3, 5, 64, 65)] == [1, 1, 2, 4, 8, 64, 128]
    assert helion.Settings(ref_mode=helion.RefMode.OFF).ref_mode == "off"
    assert helion.runtime.Kernel is helion.Kernel


def test_every_helion_error_class_exists() -> None:
    # A sample of Helion 1.4's classes users catch; all derive from Base.
    for name in (
        "BaseError",
        "TypeInferenceError",
        "InvalidAPIUsage",
        "TileOfTile",
        "AutotuneError",
    ):
        cls = getattr(exc, name)
        assert issubclass(cls, exc.BaseError) and issubclass(cls, exc.Base)
    assert issubclass(exc.TiledKMatmulAccumulationWarning, exc.BaseWarning)
    assert issubclass(exc.ShapeMismatch, exc.BaseError)
    assert not issubclass(exc.TensorOperationInWrapper, exc.BaseError)


def test_tunable_fragments() -> None:
    from helion.autotuner import (
        BooleanFragment,
        EnumFragment,
        IntegerFragment,
        ListOf,
        PowerOfTwoFragment,
    )

    assert PowerOfTwoFragment(1, 256).default() == 1
    assert PowerOfTwoFragment(4, 64, 128).default() == 64
    assert PowerOfTwoFragment(1, 8).is_valid(4) and not PowerOfTwoFragment(1, 8).is_valid(6)
    assert IntegerFragment(2, 9, 0).default() == 2
    assert EnumFragment(("a", "b")).default() == "a"
    with pytest.raises(ValueError, match="subset"):
        EnumFragment(("a", "b"), search_choices=("c",))
    assert BooleanFragment().default() is False
    assert ListOf(IntegerFragment(1, 3), 2).default() == [1, 1]
    with pytest.raises(ValueError, match="powers of two"):
        PowerOfTwoFragment(3, 8)


@helion.kernel(autotune_effort="none")
def uses_a_tunable(x: torch.Tensor) -> torch.Tensor:
    split = hl.register_tunable("split", PowerOfTwoFragment(1, 8))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * split
    return out


def test_register_tunable_takes_the_configs_value() -> None:
    x = torch.randn(8, device=DEVICE)
    torch.testing.assert_close(uses_a_tunable(x), x)
    bound = uses_a_tunable.bind((x,))
    torch.testing.assert_close(bound.compile_config(helion.Config(split=4))(x), x * 4)
