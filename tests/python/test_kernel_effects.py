"""What a kernel writes and returns, as read from its source for torch.compile."""

from __future__ import annotations

import textwrap

import torch

import helion.language as hl
from helion.runtime.effects import Effects, analyze

_GLOBALS = {"torch": torch, "hl": hl}


def _effects(body: str, params: str = "x, y, out") -> Effects:
    source = f"def kernel({params}):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return analyze(source, _GLOBALS)


def test_reads_only() -> None:
    effects = _effects(
        """
        result = torch.empty_like(x)
        for tile in hl.tile(x.size()):
            a = x[tile]
            a += y[tile]
            result[tile] = hl.load(out, [tile]) + a * x.shape[0]
        return result
        """
    )
    assert effects.written == frozenset()
    assert effects.returns == (None,)
    assert not effects.returns_tuple


def test_stores_into_a_parameter() -> None:
    assert _effects("for tile in hl.tile(x.size()):\n    out[tile] = x[tile]\n").written == {"out"}


def test_augmented_store_into_a_parameter() -> None:
    assert _effects("for tile in hl.tile(x.size()):\n    out[tile] += x[tile]\n").written == {"out"}


def test_explicit_stores_and_atomics() -> None:
    effects = _effects(
        """
        for tile in hl.tile(x.size(0)):
            hl.store(out, [tile], x[tile])
            hl.atomic_add(y, [tile], 1)
        """
    )
    assert effects.written == {"out", "y"}


def test_store_through_a_host_view() -> None:
    effects = _effects(
        """
        flat = out.view(-1)
        for tile in hl.tile(flat.size(0)):
            flat[tile] = x.view(-1)[tile]
        """
    )
    assert effects.written == {"out"}


def test_in_place_methods_and_out_arguments_on_the_host() -> None:
    assert _effects("x.zero_()\n").written == {"x"}
    assert _effects("torch.add(x, y, out=out)\n").written == {"out"}
    assert _effects("torch.nn.functional.relu(y, inplace=True)\n").written == {"y"}


def test_a_helper_of_the_user_may_write_what_it_gets() -> None:
    assert _effects("helper(x)\n").written == {"x"}


def test_alias_bound_after_its_use_in_a_loop() -> None:
    effects = _effects(
        """
        alias = torch.empty_like(x)
        for i in range(2):
            alias[0] = 1
            alias = y
        """
    )
    assert effects.written == {"y"}


def test_returned_parameters_are_named() -> None:
    effects = _effects(
        "for tile in hl.tile(x.size()):\n    out[tile] = x[tile]\nreturn x, out, y + 1\n"
    )
    assert effects.returns == ("x", "out", None)
    assert effects.returns_tuple


def test_a_rebound_parameter_is_a_new_value() -> None:
    assert _effects("x = x.contiguous()\nreturn x\n").returns == (None,)


def test_no_return() -> None:
    effects = _effects("out.zero_()\n")
    assert effects.returns is None
    assert effects.consistent_returns


def test_returns_of_different_shapes() -> None:
    effects = _effects("if y:\n    return x, out\nreturn x\n")
    assert not effects.consistent_returns
