"""Helpers, lambdas and callable arguments with star parameters: `*args`
collects extra positional arguments into a tuple, `**kwargs` unknown keyword
ones into a dict; keyword-only parameters bind by name. Inside device code,
`f(*args)` and `f(**kwargs)` pass them on."""

from __future__ import annotations

import pathlib
from typing import Callable

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(config=helion.Config(block_sizes=[8, 16]))
def with_score_mod(x: torch.Tensor, score_mod: Callable[..., torch.Tensor]) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        rows = tile_m.index[:, None]
        cols = tile_n.index[None, :]
        out[tile_m, tile_n] = score_mod(x[tile_m, tile_n], rows, cols)
    return out


def test_lambda_ignoring_extra_arguments() -> None:
    x = torch.randn(20, 40, device=DEVICE)
    result = with_score_mod(x, lambda score, *_: torch.tanh(score))
    torch.testing.assert_close(result, torch.tanh(x))


def test_lambda_reading_its_star_arguments() -> None:
    x = torch.randn(20, 40, device=DEVICE)
    rows = torch.arange(20, device=DEVICE)[:, None]
    cols = torch.arange(40, device=DEVICE)[None, :]
    result = with_score_mod(x, lambda score, *idx: torch.where(idx[0] >= idx[-1], score, -score))
    torch.testing.assert_close(result, torch.where(rows >= cols, x, -x))


def test_def_with_star_parameters_as_callable_argument() -> None:
    x = torch.randn(20, 40, device=DEVICE)

    def causal(score: torch.Tensor, *positions: torch.Tensor, **unused: object) -> torch.Tensor:
        row, col = positions
        return torch.where(row >= col, score, 0.0)

    rows = torch.arange(20, device=DEVICE)[:, None]
    cols = torch.arange(40, device=DEVICE)[None, :]
    torch.testing.assert_close(with_score_mod(x, causal), torch.where(rows >= cols, x, 0.0))


def weighted(
    v: torch.Tensor, *terms: torch.Tensor, scale: float = 1.0, **named: torch.Tensor
) -> torch.Tensor:
    total = v * scale
    for t in terms:
        total = total + t
    return total + named["shift"] * 2


def forward_all(v: torch.Tensor, *args: torch.Tensor, **kwargs: torch.Tensor) -> torch.Tensor:
    return weighted(v, *args, **kwargs)


@helion.kernel(config=helion.Config(block_sizes=[16]))
def star_helpers(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        a = x[tile]
        b = y[tile]
        pick = lambda *vals, k: vals[k]  # noqa: E731
        first = forward_all(a, b, a, shift=b, scale=3.0)
        second = weighted(b, shift=a)
        pair = (a, b)
        out[tile] = first + second + pick(*pair, k=1)
    return out


@pytest.mark.parametrize("n", [5, 16, 37])
def test_helpers_with_star_parameters_and_forwarding(n: int) -> None:
    x = torch.randn(n, device=DEVICE)
    y = torch.randn(n, device=DEVICE)
    first = x * 3.0 + y + x + y * 2
    second = y + x * 2
    torch.testing.assert_close(star_helpers(x, y), first + second + y)


def plain(v: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return v + w


def keyword_only(v: torch.Tensor, *, w: torch.Tensor) -> torch.Tensor:
    return v + w


def reads_missing_key(v: torch.Tensor, **kw: torch.Tensor) -> torch.Tensor:
    return v + kw["bias"]


def _kernel_calling(call: str) -> tuple[str, dict[str, object]]:
    namespace = {"helion": helion, "hl": hl, "torch": torch, "plain": plain,
                 "keyword_only": keyword_only, "reads_missing_key": reads_missing_key}
    source = (
        "def k(x: torch.Tensor) -> torch.Tensor:\n"
        "    out = torch.empty_like(x)\n"
        "    for tile in hl.tile(x.size(0)):\n"
        "        v = x[tile]\n"
        f"        out[tile] = {call}\n"
        "    return out\n"
    )
    return source, namespace


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        ("plain(v, v, v)", exc.CompileError,
         "helper function 'plain' takes 2 positional arguments but was given 3"),
        ("plain(v, u=v)", exc.CompileError, "'plain' has no parameter named 'u'"),
        ("plain(v, v, w=v)", exc.CompileError, "several values for argument 'w'"),
        ("keyword_only(v)", exc.CompileError,
         "'keyword_only' is missing keyword-only argument 'w'"),
        ("keyword_only(v, v)", exc.CompileError, "takes 1 positional arguments but was given 2"),
        ("reads_missing_key(v, shift=v)", exc.InvalidSequenceSubscription,
         "no keyword argument 'bias'"),
        ("plain(*v)", exc.StarredArgsNotSupportedOnDevice, "unpacks a tuple or list"),
        ("plain(v, **v)", exc.StarredArgsNotSupportedOnDevice, "**kwargs parameter only"),
    ],
    ids=["too-many", "unknown-keyword", "twice", "missing-keyword-only", "keyword-only-positional",
         "missing-key", "star-tensor", "star-star-tensor"],
)
def test_bad_calls_are_clear_errors(
    call: str, error: type, words: str, tmp_path: pathlib.Path
) -> None:
    source, namespace = _kernel_calling(call)
    path = tmp_path / "bad_call.py"
    path.write_text(source)
    exec(compile(source, str(path), "exec"), namespace)
    kernel = helion.kernel(config=helion.Config(block_sizes=[16]))(namespace["k"])
    with pytest.raises(error) as raised:
        kernel(torch.randn(16, device=DEVICE))
    message = str(raised.value)
    assert words in message, message
    assert "in kernel 'k'" in message, message


def test_lambda_default_is_refused() -> None:
    x = torch.randn(20, 40, device=DEVICE)
    with pytest.raises(exc.UnsupportedSyntax, match="a default value of a lambda parameter"):
        with_score_mod(x, lambda score, *_, k=2: score * k)
