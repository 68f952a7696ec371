"""The guard a cached call tries before the specialization key (``make_guard``).

A guard may only pass arguments whose key equals the one it was made for:
a guard that passes too much runs a kernel compiled for other arguments.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

import helion
import helion.language as hl
from helion.runtime.request import make_guard, make_key_function

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(autotune_effort="none")
def scaled_add(x: torch.Tensor, y: torch.Tensor, scale: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile] * scale
    return out


def _ref(x: torch.Tensor, y: torch.Tensor, scale: float) -> torch.Tensor:
    return x + y * scale


def _guard_for(args: tuple[Any, ...], constexpr: list[bool] | None = None) -> Any:
    return make_guard(args, constexpr or [False] * len(args), run="run")


def test_a_guard_passes_arguments_like_those_it_was_made_for() -> None:
    x, y = torch.randn(4, 8), torch.randn(4, 8)
    guard = _guard_for((x, y, 1.5))
    assert guard((torch.randn(4, 8), torch.randn(4, 8), -2.0)) == "run"
    assert guard((x, x, 0.0)) == "run"  # one tensor twice is two tensors like the first


@pytest.mark.parametrize(
    ("other", "same_key"),
    [
        pytest.param(lambda x: x.double(), False, id="dtype"),
        pytest.param(lambda x: torch.randn(4, 9), False, id="size"),
        pytest.param(lambda x: torch.randn(8, 4).t(), False, id="strides"),
        pytest.param(lambda x: torch.randn(4, 8, 1), False, id="rank"),
        pytest.param(lambda x: torch.empty(4, 8, device="meta"), False, id="device"),
        pytest.param(lambda x: 3, False, id="not a tensor"),
        # Stricter than the key: such calls compute it.
        pytest.param(lambda x: x.clone().requires_grad_(), True, id="requires_grad"),
        pytest.param(lambda x: torch.nn.Parameter(x.clone()), True, id="subclass"),
    ],
)
def test_a_guard_refuses_a_tensor_with_another_key(other: Any, same_key: bool) -> None:
    x = torch.randn(4, 8)
    key = make_key_function([False, False], static_shapes=True)
    guard = _guard_for((x, x))
    changed = (x, other(x))
    assert guard(changed) is None
    assert (key(changed) == key((x, x))) == same_key


def test_a_guard_checks_scalar_types_none_and_arity() -> None:
    x = torch.randn(4)
    guard = _guard_for((x, 2, None))
    assert guard((x, 3, None)) == "run"
    assert guard((x, 3.0, None)) is None
    assert guard((x, True, None)) is None  # bool is keyed apart from int
    assert guard((x, 3, x)) is None
    assert guard((x, 3)) is None


def test_arguments_keyed_by_value_get_no_guard() -> None:
    x = torch.randn(4)
    assert _guard_for((x, 4), constexpr=[False, True]) is None
    assert _guard_for((x, "mode")) is None
    assert _guard_for((x, torch.float16)) is None
    assert _guard_for((2, 3)) is not None  # scalars alone still have a guard


def test_cached_calls_skip_the_key_while_the_guard_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    scaled_add.reset()
    x, y = torch.randn(64, device=DEVICE), torch.randn(64, device=DEVICE)
    torch.testing.assert_close(scaled_add(x, y, 2.0), _ref(x, y, 2.0))
    torch.testing.assert_close(scaled_add(x, y, 3.0), _ref(x, y, 3.0))  # makes the guard
    keys = []
    key = scaled_add._key
    monkeypatch.setattr(scaled_add, "_key", lambda args: keys.append(args) or key(args))
    for scale in (0.5, -1.0, 4.0):
        torch.testing.assert_close(scaled_add(x, y, scale), _ref(x, y, scale))
    assert keys == []


def test_calls_that_alternate_specializations_each_get_their_own_kernel() -> None:
    scaled_add.reset()
    small = (torch.randn(64, device=DEVICE), torch.randn(64, device=DEVICE), 2.0)
    large = (torch.randn(100, device=DEVICE), torch.randn(100, device=DEVICE), 2.0)
    wide = tuple(torch.randn(64, dtype=torch.float64, device=DEVICE) for _ in range(2)) + (2.0,)
    strided = (torch.randn(128, device=DEVICE)[::2], torch.randn(64, device=DEVICE), 2.0)
    for _ in range(3):
        for args in (small, large, wide, strided, small):
            result = scaled_add(*args)
            assert result.dtype == args[0].dtype
            torch.testing.assert_close(result, _ref(*args))
    assert len(scaled_add._ready) == 4


def test_a_reset_forgets_the_guard() -> None:
    scaled_add.reset()
    x = torch.randn(32, device=DEVICE)
    scaled_add(x, x, 1.0)
    scaled_add(x, x, 1.0)
    assert scaled_add._guard((x, x, 1.0)) is not None
    scaled_add.reset()
    assert scaled_add._guard((x, x, 1.0)) is None
    torch.testing.assert_close(scaled_add(x, x, 1.0), x + x)


def test_a_new_config_replaces_the_guarded_host_function() -> None:
    scaled_add.reset()
    x = torch.randn(64, device=DEVICE)
    scaled_add(x, x, 1.0)
    scaled_add(x, x, 1.0)
    bound = scaled_add.bind((x, x, 1.0))
    bound.set_config(helion.Config(block_sizes=[32]))
    assert scaled_add._guard((x, x, 1.0)) is None
    torch.testing.assert_close(scaled_add(x, x, 1.0), x + x)
    assert scaled_add._guard((x, x, 1.0)) is bound.keyed_run()
