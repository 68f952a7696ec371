"""Helper functions and lambdas called from device code are inlined: their
bodies lower like the kernel's own, and their values are what they return."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def gated(v: torch.Tensor, scale: float = 2.0) -> torch.Tensor:
    t = v * scale
    return torch.sigmoid(t) * squared(v)


def squared(v: torch.Tensor) -> torch.Tensor:
    return v * v


def recursive(v: torch.Tensor) -> torch.Tensor:
    return recursive(v)


def early_return(v: torch.Tensor) -> torch.Tensor:
    if v.sum() > 0:
        return v
    return -v


@helion.kernel(config=helion.Config(block_sizes=[16]))
def apply_helpers(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        v = x[tile]
        shift = 1.5
        plus = lambda a: a + shift  # noqa: E731 - a lambda that reads a kernel variable
        out[tile] = gated(v) + gated(v, scale=0.5) + plus(v)
    return out


@pytest.mark.parametrize("n", [1, 37, 64])
def test_helpers_and_lambdas_are_inlined(n: int) -> None:
    x = torch.randn(n, device=DEVICE)

    def expected(v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(v * 2) * v * v + torch.sigmoid(v * 0.5) * v * v + v + 1.5

    torch.testing.assert_close(apply_helpers(x), expected(x))


@helion.kernel(config=helion.Config(block_sizes=[16]))
def calls_recursive(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = recursive(x[tile])
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def calls_early_return(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = early_return(x[tile])
    return out


@pytest.mark.parametrize(
    ("kernel", "words"),
    [(calls_recursive, ("recursion",)), (calls_early_return, ("early_return", "last statement"))],
    ids=["recursion", "early-return"],
)
def test_helper_errors_name_the_helper_at_the_call(kernel: helion.Kernel, words: tuple) -> None:
    with pytest.raises(exc.UnsupportedSyntax) as error:
        kernel(torch.randn(16, device=DEVICE))
    message = str(error.value)
    assert f"in kernel '{kernel.name}'" in message
    for word in words:
        assert word in message, message
