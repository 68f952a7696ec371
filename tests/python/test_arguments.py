"""Arguments the kernel runs with: Python scalars, meta tensors, bfloat16 under the interpreter."""

from __future__ import annotations

import importlib
import os
import warnings

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import exc

# The module, which ``helion.runtime.kernel`` (the decorator) hides.
kernel_module = importlib.import_module("helion.runtime.kernel")

interpreted = pytest.mark.skipif(
    os.environ.get("TRITON_INTERPRET") != "1", reason="runs under Triton's interpreter"
)


@helion.kernel(autotune_effort="none")
def scale(x: torch.Tensor, alpha: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * alpha
    return out


@helion.kernel(autotune_effort="none")
def shift(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + n
    return out


add = helion.kernel(autotune_effort="none")(K.add)


@helion.kernel(autotune_effort="none")
def times_three_in_bf16(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty(x.size(), dtype=torch.bfloat16, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = (x[tile] * 3).to(torch.bfloat16)
    return out


# --- Python scalars -----------------------------------------------------------------


@pytest.mark.parametrize("flag", [True, False])
def test_bool_for_a_float_or_int_parameter_is_an_int(device: str, flag: bool) -> None:
    x = torch.randn(16, device=device)
    torch.testing.assert_close(scale(x, flag), x * flag)
    torch.testing.assert_close(shift(x, flag), x + flag)
    # Ints after bools: their own specialization, unaffected.
    torch.testing.assert_close(shift(x, 2), x + 2)


def test_a_float_parameter_scales_a_half_tensor(device: str) -> None:
    # The float is cast to the tensor's dtype on the device; Triton's
    # interpreter hands the kernel a plain Python float there.
    x = torch.randn(16, device=device, dtype=torch.float16)
    torch.testing.assert_close(scale(x, 2.5), x * 2.5)


# --- meta tensors -------------------------------------------------------------------


def test_meta_tensors_compile_but_do_not_run() -> None:
    x = torch.randn(16, device="meta")
    with pytest.raises(exc.InvalidArgument) as raised:
        add(x, x)
    message = str(raised.value)
    assert "argument 'x' of kernel 'add'" in message and "meta device" in message, message
    assert "tl.load" in add.bind((x, x)).to_triton_code()


# --- bfloat16 under the interpreter -------------------------------------------------


@pytest.fixture
def bf16_not_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not warned yet in this process, and nothing compiled yet."""
    monkeypatch.setattr(kernel_module, "_warned_bf16", False)
    add.reset()
    times_three_in_bf16.reset()


@interpreted
def test_bf16_arguments_under_the_interpreter_warn_once(bf16_not_warned: None) -> None:
    x = torch.randn(16, dtype=torch.bfloat16)
    with pytest.warns(exc.InterpreterBFloat16, match="bfloat16 arithmetic is wrong") as record:
        add(x, x)
        add.reset()
        add(x, x)
        times_three_in_bf16(torch.randn(16))
    assert len([w for w in record if w.category is exc.InterpreterBFloat16]) == 1
    assert isinstance(record[0].message, UserWarning)


@interpreted
def test_bf16_inside_the_kernel_under_the_interpreter_warns(bf16_not_warned: None) -> None:
    with pytest.warns(exc.InterpreterBFloat16, match="times_three_in_bf16"):
        times_three_in_bf16(torch.randn(16))


@interpreted
def test_bf16_warning_can_be_ignored(bf16_not_warned: None) -> None:
    quiet = helion.kernel(autotune_effort="none", ignore_warnings=[exc.InterpreterBFloat16])(K.add)
    x = torch.randn(16, dtype=torch.bfloat16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", exc.InterpreterBFloat16)
        quiet(x, x)
    assert kernel_module._warned_bf16 is False


def test_float32_kernels_do_not_warn(bf16_not_warned: None, device: str) -> None:
    x = torch.randn(16, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error", exc.InterpreterBFloat16)
        add(x, x)
