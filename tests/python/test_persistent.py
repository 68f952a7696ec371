"""Persistent pid types: a grid of SMs times num_sm_multiplier programs, each
looping over tiles (a contiguous range of them with persistent_blocked, every
grid-size-th one with persistent_interleaved). Under Triton's interpreter the
runtime stands in a few SMs (helion.runtime.persistent_programs), so the
sizes below give kernels both more tiles than programs and fewer."""

from __future__ import annotations

from typing import Any

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import autotuner
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
PERSISTENT = ("persistent_blocked", "persistent_interleaved")


def run(kernel: helion.Kernel, args: tuple[Any, ...], **config: Any) -> Any:
    bound = kernel.bind(args)
    code = bound.to_triton_code(helion.Config(**config))
    assert "for virtual_pid in tl.range(" in code, code
    assert "persistent_programs(" in code, code
    return bound.compile_config(helion.Config(**config))(*args)


add = helion.kernel(autotune_effort="none")(K.add_1d)


@pytest.mark.parametrize("pid_type", PERSISTENT)
@pytest.mark.parametrize("multiplier", [1, 2, 8])
@pytest.mark.parametrize("n", [1, 5, 33, 1000])
def test_one_loop_every_tile_once(pid_type: str, multiplier: int, n: int) -> None:
    # Blocks of 16: from one tile (fewer than the programs) to 63 (more).
    x, y = torch.randn(n, device=DEVICE), torch.randn(n, device=DEVICE)
    out = run(add, (x, y), block_sizes=[16], pid_type=pid_type, num_sm_multiplier=multiplier)
    torch.testing.assert_close(out, x + y)


matmul = helion.kernel(autotune_effort="none")(K.matmul)


@pytest.mark.parametrize("pid_type", PERSISTENT)
@pytest.mark.parametrize(
    "layout",
    [
        {},
        {"loop_orders": [[1, 0]]},
        {"l2_grouping": 2},
        {"l2_grouping": 4, "loop_orders": [[1, 0]]},
        {"indexing": "block_ptr"},
    ],
    ids=["plain", "loop-order", "l2-grouping", "l2-grouping-loop-order", "block-ptr"],
)
@pytest.mark.parametrize("shape", [(37, 29, 45), (16, 16, 16), (97, 40, 70)])
def test_matmul(pid_type: str, layout: dict[str, Any], shape: tuple[int, int, int]) -> None:
    m, k, n = shape
    x = torch.randn(m, k, device=DEVICE)
    y = torch.randn(k, n, device=DEVICE)
    out = run(matmul, (x, y), block_sizes=[[16, 16], [16]], pid_type=pid_type, **layout)
    torch.testing.assert_close(out, x @ y, rtol=1e-2, atol=1e-2)


# torch.softmax itself in the loop (kernels.softmax spells the steps out).
@helion.kernel(autotune_effort="none")
def softmax(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.softmax(x[tile, :], dim=1)
    return out


@pytest.mark.parametrize("pid_type", PERSISTENT)
@pytest.mark.parametrize("reduction_loop", [None, 8])
@pytest.mark.parametrize("rows", [3, 41])
def test_reduction(pid_type: str, reduction_loop: int | None, rows: int) -> None:
    x = torch.randn(rows, 37, device=DEVICE)
    out = run(
        softmax, (x,), block_sizes=[2], reduction_loops=[reduction_loop], pid_type=pid_type
    )
    torch.testing.assert_close(out, torch.softmax(x, dim=1), rtol=1e-4, atol=1e-4)


two_loops = helion.kernel(autotune_effort="none")(K.two_loops)


@pytest.mark.parametrize("pid_type", PERSISTENT)
@pytest.mark.parametrize("multiplier", [1, 4])
@pytest.mark.parametrize(
    "config",
    [
        {"block_sizes": [[4, 8], 16]},
        {"block_sizes": [32, 2]},
        {"block_sizes": [[8, 4], 4], "l2_grouping": 2, "loop_orders": [[1, 0]]},
    ],
    ids=["per-dim", "flattened", "grouped"],
)
@pytest.mark.parametrize("shape", [(5, 9), (1, 1), (17, 33)])
def test_several_loops(
    pid_type: str, multiplier: int, config: dict[str, Any], shape: tuple[int, int]
) -> None:
    x = torch.randn(*shape, device=DEVICE)
    y = torch.randn(shape[1] + 3, 7, device=DEVICE)
    doubled, sums = run(
        two_loops, (x, y), **config, pid_type=pid_type, num_sm_multiplier=multiplier
    )
    torch.testing.assert_close(doubled, x * 2)
    torch.testing.assert_close(sums, y.sum(1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"num_sm_multiplier": 2}, ("num_sm_multiplier: 2", "persistent pid_type", '"flat"')),
        (
            {"pid_type": "xyz", "num_sm_multiplier": 4},
            ("num_sm_multiplier: 4", '"xyz"', "persistent_blocked"),
        ),
        (
            {"pid_type": "persistent_blocked", "num_sm_multiplier": 3},
            ("num_sm_multiplier: 3", "power of two", "128"),
        ),
        (
            {"pid_type": "persistent_interleaved", "num_sm_multiplier": 256},
            ("num_sm_multiplier: 256", "above the maximum 128"),
        ),
        ({"pid_type": "persistent"}, ('"persistent"', "not a pid type", "persistent_interleaved")),
    ],
    ids=["flat", "xyz", "not-power-of-two", "too-large", "unknown-pid-type"],
)
def test_invalid_persistent_configs(config: dict[str, Any], words: tuple[str, ...]) -> None:
    x = torch.randn(64, 32, device=DEVICE)
    y = torch.randn(32, 16, device=DEVICE)
    with pytest.raises(exc.InvalidConfig) as error:
        matmul.bind((x, y)).to_triton_code(helion.Config(block_sizes=[[16, 16], [16]], **config))
    for word in words:
        assert word in str(error.value), str(error.value)


def test_the_config_space_lists_the_persistent_choices() -> None:
    x = torch.randn(64, 32, device=DEVICE)
    y = torch.randn(32, 16, device=DEVICE)
    spec = matmul.bind((x, y)).config_spec
    described = spec.describe()
    assert described["pid_type"] == ["flat", "xyz", *PERSISTENT]
    assert described["num_sm_multiplier"] == [2**i for i in range(8)]
    normalized = spec.normalize(
        helion.Config(pid_type="persistent_interleaved", num_sm_multiplier=16)
    )
    assert normalized["pid_type"] == "persistent_interleaved"
    assert normalized["num_sm_multiplier"] == 16
    # The default multiplier is not written out.
    assert "num_sm_multiplier" not in spec.normalize(helion.Config(pid_type="persistent_blocked"))


def test_the_grid_is_the_sms_times_the_multiplier() -> None:
    device = torch.device(DEVICE)
    sms = helion.runtime.persistent_programs(device, 1)
    assert helion.runtime.persistent_programs(device, 8) == 8 * sms
    assert helion.runtime.persistent_programs(device, 2, reserved_sms=1) == 2 * (sms - 1)
    # Reserving every SM still leaves the kernel one.
    assert helion.runtime.persistent_programs(device, 4, reserved_sms=10**6) == 4
    if device.type == "cuda":
        assert sms == torch.cuda.get_device_properties(device).multi_processor_count


def test_reserved_sms_reach_the_launch() -> None:
    kernel = helion.kernel(autotune_effort="none", persistent_reserved_sms=3)(K.add_1d)
    x, y = torch.randn(300, device=DEVICE), torch.randn(300, device=DEVICE)
    config = helion.Config(block_sizes=[16], pid_type="persistent_blocked", num_sm_multiplier=2)
    code = kernel.bind((x, y)).to_triton_code(config)
    assert "persistent_programs(x.device, 2, 3)" in code, code
    torch.testing.assert_close(kernel.bind((x, y)).compile_config(config)(x, y), x + y)


def test_a_search_restricted_to_a_persistent_pid_type() -> None:
    kernel = helion.kernel(
        autotune_config_overrides={"pid_type": "persistent_interleaved"},
        autotune_strategy="random",
        autotune_random_seed=7,
        autotune_effort="quick",
    )(K.add_1d)
    x, y = torch.randn(200, device=DEVICE), torch.randn(200, device=DEVICE)
    best = autotuner.RandomSearch(kernel.bind((x, y)), (x, y), count=4).autotune()
    assert best["pid_type"] == "persistent_interleaved"
    torch.testing.assert_close(kernel.bind((x, y)).compile_config(best)(x, y), x + y)


@pytest.mark.gpu
@pytest.mark.parametrize("pid_type", PERSISTENT)
@pytest.mark.parametrize("multiplier", [1, 2, 16])
def test_gpu_matmul_half(pid_type: str, multiplier: int) -> None:
    x = torch.randn(1000, 520, device="cuda", dtype=torch.float16)
    y = torch.randn(520, 700, device="cuda", dtype=torch.float16)
    out = run(
        matmul,
        (x, y),
        block_sizes=[[64, 128], [32]],
        l2_grouping=8,
        pid_type=pid_type,
        num_sm_multiplier=multiplier,
        num_warps=8,
        num_stages=3,
    )
    torch.testing.assert_close(out, x @ y, rtol=1e-2, atol=1e-1)


@pytest.mark.gpu
@pytest.mark.parametrize("pid_type", PERSISTENT)
def test_gpu_fewer_tiles_than_sms_and_several_loops(pid_type: str) -> None:
    # 3 + 2 tiles on a grid of one program per SM: most programs get none.
    x = torch.randn(40, 50, device="cuda")
    y = torch.randn(53, 7, device="cuda")
    doubled, sums = run(
        two_loops, (x, y), block_sizes=[[16, 64], 32], pid_type=pid_type, num_sm_multiplier=1
    )
    torch.testing.assert_close(doubled, x * 2)
    torch.testing.assert_close(sums, y.sum(1), rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
def test_gpu_search_with_persistent_candidates() -> None:
    kernel = helion.kernel(autotune_effort="quick", autotune_random_seed=3)(softmax.fn)
    x = torch.randn(4096, 1000, device="cuda")
    search = autotuner.RandomSearch(kernel.bind((x,)), (x,), count=24)
    best = search.autotune()
    assert search.result is not None
    measured = [(config, error) for config, _ms, error in search.result["history"]]
    persistent = [config for config, error in measured if config.get("pid_type") in PERSISTENT]
    assert persistent, measured
    # Only configs too large for shared memory, or cut by the search's cap on
    # compile time, may fail (the search skips them).
    failed = [error for _config, error in measured if error is not None]
    assert all("out of resource" in error or "compile timeout" in error for error in failed), failed
    torch.testing.assert_close(
        kernel.bind((x,)).compile_config(best)(x), torch.softmax(x, dim=1), rtol=1e-4, atol=1e-4
    )
