"""Block sizes that host code computes from tunables and sizes.

`k_block = helion.next_power_of_2(helion.cdiv(k, split_k))` is fixed for
each config: the tile dimension it sizes has no block_sizes gene of its own,
while `split_k` is a tunable like any other. The value is also an int that
device code and further host arithmetic (allocations) may use."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import triton

import helion
import helion.language as hl
from helion import autotuner, exc
from helion.autotuner import IntegerFragment, PowerOfTwoFragment

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
# On the GPU, Triton's dots take float32 operands as tf32 (10-bit mantissas).
MATMUL_TOLERANCE = dict(rtol=1e-4, atol=1e-4) if DEVICE == "cpu" else dict(rtol=1e-2, atol=5e-2)


@helion.kernel(static_shapes=True, autotune_effort="none")
def split_k_matmul(
    x: torch.Tensor,
    y: torch.Tensor,
    epilogue: Callable[[torch.Tensor, tuple[Any, ...]], torch.Tensor] = lambda acc, tile: acc,
) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.zeros([m, n], dtype=torch.float32, device=x.device)
    split_k = hl.register_tunable("split_k", PowerOfTwoFragment(1, 256))
    k_block = helion.next_power_of_2(helion.cdiv(k, split_k))
    for tile_m, tile_n, outer_k in hl.tile([m, n, k], block_size=[None, None, k_block]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for inner_k in hl.tile(outer_k.begin, outer_k.end):
            acc = torch.addmm(acc, x[tile_m, inner_k], y[inner_k, tile_n])
        if outer_k.begin == 0:
            acc = epilogue(acc, (tile_m, tile_n))
        hl.atomic_add(out, [tile_m, tile_n], acc)
    return out


def run(kernel: helion.Kernel, args: tuple[Any, ...], **config: Any) -> Any:
    return kernel.bind(args).compile_config(helion.Config(**config))(*args)


def unchanged(acc: torch.Tensor, tile: tuple[Any, ...]) -> torch.Tensor:
    return acc


def operands(m: int, k: int, n: int, transposed: bool = False) -> tuple[torch.Tensor, ...]:
    if transposed:  # non-contiguous: strides (1, m) and every other column
        x = torch.randn(k, m, device=DEVICE).t()
        y = torch.randn(n, 2 * k, device=DEVICE)[:, ::2].t()
        assert not x.is_contiguous() and not y.is_contiguous()
        return x, y
    return torch.randn(m, k, device=DEVICE), torch.randn(k, n, device=DEVICE)


@pytest.mark.parametrize("split_k", [1, 2, 4, 16, 256])
@pytest.mark.parametrize(
    ("m", "k", "n", "transposed"),
    [(33, 97, 17, False), (1, 130, 20, False), (20, 64, 1, True), (19, 200, 24, True)],
    ids=["odd", "one-row", "one-column-non-contiguous", "non-contiguous"],
)
def test_split_k_matches_eager(split_k: int, m: int, k: int, n: int, transposed: bool) -> None:
    x, y = operands(m, k, n, transposed)
    args = (x, y, unchanged)
    out = run(split_k_matmul, args, block_sizes=[[16, 16, 1], [16]], split_k=split_k)
    torch.testing.assert_close(out, x @ y, **MATMUL_TOLERANCE)


@pytest.mark.parametrize(("m", "k", "n"), [(0, 16, 8), (8, 0, 8), (8, 16, 0)])
def test_split_k_with_an_empty_dimension(m: int, k: int, n: int) -> None:
    x, y = operands(m, k, n)
    out = run(split_k_matmul, (x, y, unchanged), block_sizes=[[16, 16, 1], [16]], split_k=2)
    torch.testing.assert_close(out, x @ y, **MATMUL_TOLERANCE)


@pytest.mark.parametrize("split_k", [1, 4, 8])
def test_the_block_size_is_the_hosts_value_for_each_config(split_k: int) -> None:
    x, y = operands(16, 100, 16)
    code = split_k_matmul.bind((x, y, unchanged)).to_triton_code(
        helion.Config(block_sizes=[[16, 16, 1], [16]], split_k=split_k)
    )
    k_block = triton.next_power_of_2(triton.cdiv(100, split_k))
    # The launch passes the grid's three block sizes, then the inner loop's.
    assert f"(x, y, out, 16, 16, {k_block}, 16, num_warps=" in code, code
    assert f"tl.cdiv(100, _BLOCK_SIZE_2)" in code, code


def test_the_default_config_and_an_epilogue() -> None:
    x, y = operands(40, 300, 24)
    bias = torch.randn(24, device=DEVICE)
    torch.testing.assert_close(split_k_matmul(x, y), x @ y, **MATMUL_TOLERANCE)
    out = split_k_matmul(x, y, lambda acc, tile: acc + bias[tile[1]])
    torch.testing.assert_close(out, x @ y + bias, **MATMUL_TOLERANCE)


def test_the_config_space_searches_the_tunable_not_the_block() -> None:
    x, y = operands(32, 512, 32)
    spec = split_k_matmul.bind((x, y, unchanged)).config_spec
    described = spec.describe()
    assert [entry["name"] for entry in described["tunables"]] == ["split_k"]
    grid = described["block_sizes"][0]
    assert grid["fixed"] == [None, None, 512], grid
    default = spec.default_config()
    assert default["split_k"] == 1 and default["block_sizes"][0][2] == 512
    normalized = spec.normalize(helion.Config(block_sizes=[[16, 16, 1], [32]], split_k=8))
    assert normalized["block_sizes"] == [[16, 16, 64], [32]], normalized


def test_the_search_draws_split_k_and_the_block_follows() -> None:
    kernel = helion.kernel(static_shapes=True, autotune_effort="quick", autotune_random_seed=5)(
        split_k_matmul.fn
    )
    x, y = operands(16, 256, 16)
    args = (x, y, unchanged)
    search = autotuner.RandomSearch(kernel.bind(args), args, count=6)
    best = search.autotune()
    assert search.result is not None
    drawn = [config for config, _ms, _error in search.result["history"]]
    assert any(config["split_k"] != 1 for config in drawn), drawn
    for config in drawn:
        expected = triton.next_power_of_2(triton.cdiv(256, config["split_k"]))
        assert config["block_sizes"][0][2] == expected, config
    torch.testing.assert_close(kernel.bind(args).compile_config(best)(*args), x @ y, **MATMUL_TOLERANCE)


@helion.kernel(static_shapes=True, autotune_effort="none")
def chunk_partials(x: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    chunks = hl.register_tunable("chunks", IntegerFragment(1, 8, 3))
    width = max(triton.next_power_of_2(triton.cdiv(k, chunks)), 16)
    partial = torch.zeros([helion.cdiv(k, width), m], dtype=torch.float32, device=x.device)
    for tile_m, tile_k in hl.tile([m, k], block_size=[None, width]):
        scaled = x[tile_m, tile_k] * (width % 7 + width // 16)
        partial[tile_k.id, tile_m] = scaled.sum(-1)
    return partial


@pytest.mark.parametrize("chunks", [1, 3, 5, 8])
def test_a_derived_size_in_device_code_and_host_allocations(chunks: int) -> None:
    x = torch.randn(9, 70, device=DEVICE)
    out = run(chunk_partials, (x,), block_sizes=[[8, 1]], chunks=chunks)
    width = max(triton.next_power_of_2(triton.cdiv(70, chunks)), 16)
    pieces = torch.split(x * (width % 7 + width // 16), width, dim=1)
    expected = torch.stack([piece.sum(-1) for piece in pieces])
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@helion.kernel(static_shapes=False, autotune_effort="none")
def specialized_split_k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, _ = x.size()
    k = hl.specialize(x.size(1))
    _, n = y.size()
    out = torch.zeros([m, n], dtype=torch.float32, device=x.device)
    split_k = hl.register_tunable("split_k", PowerOfTwoFragment(1, 16, 2))
    k_block = helion.next_power_of_2(helion.cdiv(k, split_k))
    for tile_m, tile_n, outer_k in hl.tile([m, n, k], block_size=[None, None, k_block]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for inner_k in hl.tile(outer_k.begin, outer_k.end):
            acc = torch.addmm(acc, x[tile_m, inner_k], y[inner_k, tile_n])
        hl.atomic_add(out, [tile_m, tile_n], acc)
    return out


def test_dynamic_shapes_with_the_reduced_size_specialized() -> None:
    x, y = operands(21, 90, 18)
    torch.testing.assert_close(specialized_split_k(x, y), x @ y, **MATMUL_TOLERANCE)
    out = run(specialized_split_k, (x, y), block_sizes=[[16, 16, 1], [16]], split_k=8)
    torch.testing.assert_close(out, x @ y, **MATMUL_TOLERANCE)


_ERROR_KERNEL = '''
import torch
import helion
import helion.language as hl
from helion.autotuner import IntegerFragment, PowerOfTwoFragment


def bad(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    {body}
    for tile in hl.tile(x.size(0), block_size=bs):
        out[tile] = x[tile] + 1
    return out
'''


def _kernel(tmp_path: Path, body: str, **settings: Any) -> helion.Kernel:
    """A kernel computing ``bs`` with ``body``, defined in a file of its own."""
    path = tmp_path / "block_size_errors.py"
    path.write_text(_ERROR_KERNEL.format(body=body))
    spec = importlib.util.spec_from_file_location("block_size_errors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return helion.kernel(autotune_effort="none", **settings)(module.bad)


@pytest.mark.parametrize(
    ("body", "settings", "cls", "words"),
    [
        (
            'bs = 96 // hl.register_tunable("parts", IntegerFragment(1, 4, 2))',
            {},
            exc.InvalidConfig,
            ("block_size bs is 48 with the tunables' default values", "power of two"),
        ),
        ("bs = x.size(0) // 2", {}, exc.InvalidConfig, ("block_size bs is 24", "power of two")),
        (
            "bs = helion.next_power_of_2(helion.cdiv(x.size(0), "
            'hl.register_tunable("parts", PowerOfTwoFragment(1, 8))))',
            {"static_shapes": False},
            exc.ShapeSpecializingCall,
            ("depends on bs", "static_shapes=True", "hl.specialize"),
        ),
        (
            'bs = x.size(0) // hl.register_tunable("parts", PowerOfTwoFragment(1, 8))',
            {"static_shapes": False},
            exc.ShapeSpecializingCall,
            ("depends on x.size(0)", "static_shapes=True"),
        ),
        ("bs = n", {}, exc.ShapeSpecializingCall, ("depends on n", "hl.constexpr")),
        (
            "bs = int(x[0].item())",
            {},
            exc.ShapeSpecializingCall,
            ("depends on bs", "known only when the kernel runs"),
        ),
        ("bs = x.sum()", {}, exc.NotAllowedOnDevice, ("'bs' is computed by host code",)),
    ],
    ids=[
        "not-a-power-of-two",
        "size-not-a-power-of-two",
        "dynamic-size-rounded",
        "dynamic-size",
        "int-argument",
        "tensor-data",
        "tensor",
    ],
)
def test_errors(
    tmp_path: Path, body: str, settings: dict[str, Any], cls: type, words: tuple[str, ...]
) -> None:
    kernel = _kernel(tmp_path, body, **settings)
    with pytest.raises(cls) as error:
        kernel(torch.randn(48, device=DEVICE), 16)
    message = str(error.value)
    assert "kernel 'bad'" in message, message
    assert "block_size=bs" in message and "^" in message, message
    for word in words:
        assert word in message, message


def test_a_config_that_makes_the_block_no_power_of_two_is_refused(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path, 'bs = 96 // hl.register_tunable("parts", IntegerFragment(1, 4, 3))')
    x = torch.randn(48, device=DEVICE)
    torch.testing.assert_close(kernel(x, 0), x + 1)  # 96 // 3 = 32
    with pytest.raises(exc.InvalidConfig) as error:
        kernel.bind((x, 0)).to_triton_code(helion.Config(parts=2))
    message = str(error.value)
    for word in ("block_size 96 // parts", "is 48 with parts=2", "power of two", "next_power_of_2"):
        assert word in message, message


@pytest.mark.gpu
def test_gpu_split_k_half_precision() -> None:
    x = torch.randn(64, 4096, device="cuda", dtype=torch.float16)
    y = torch.randn(4096, 80, device="cuda", dtype=torch.float16)
    bias = torch.randn(80, device="cuda", dtype=torch.float16)
    expected = (x.float() @ y.float()) + bias.float()
    for split_k in (1, 8, 64):
        out = run(
            split_k_matmul,
            (x, y, lambda acc, tile: acc + bias[tile[1]]),
            block_sizes=[[64, 64, 1], [64]],
            split_k=split_k,
        )
        torch.testing.assert_close(out, expected, rtol=1e-2, atol=1e-1)
    torch.testing.assert_close(split_k_matmul(x, y), x.float() @ y.float(), rtol=1e-2, atol=1e-1)
