"""Search spaces of user tunables (``hl.register_tunable(name, fragment)``).

A fragment is its class and constructor arguments; the compiler core owns
what they mean (legal values, default, what a search draws) and checks the
arguments when the fragment is made, raising ``ValueError`` for bad ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .. import _core


class Fragment:
    """One tunable's search space."""

    def __init__(self, **arguments: Any) -> None:
        text = _core.fragment(type(self).__name__, json.dumps(arguments))
        self._description: dict[str, Any] = json.loads(text)

    def describe(self) -> dict[str, Any]:
        """The class, the constructor's arguments and the default, as the compiler reads them."""
        return dict(self._description)

    def default(self) -> Any:
        return self._description["default"]

    def is_valid(self, value: Any) -> bool:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            return False
        return _core.fragment_accepts(json.dumps(self._description), text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fragment):
            return NotImplemented
        return self._description == other._description

    def __hash__(self) -> int:
        return hash(json.dumps(self._description, sort_keys=True))

    def __repr__(self) -> str:
        arguments = {k: v for k, v in self._description.items() if k not in ("class", "default")}
        if "inner" in arguments:
            arguments["inner"] = self.inner  # type: ignore[attr-defined]
        shown = ", ".join(repr(tuple(v) if isinstance(v, list) else v) for v in arguments.values())
        return f"{type(self).__name__}({shown})"


class IntegerFragment(Fragment):
    """Any int in ``[low, high]``; the default is ``default_val`` (clamped) or ``low``."""

    def __init__(self, low: int, high: int, default_val: int | None = None) -> None:
        super().__init__(low=low, high=high, default_val=default_val)
        self.low, self.high, self.default_val = low, high, default_val


class PowerOfTwoFragment(IntegerFragment):
    """Powers of two in ``[low, high]``; the default is ``default_val`` (clamped) or ``low``."""


class EnumFragment(Fragment):
    """One of ``choices`` (the default is the first); the search draws only from
    ``search_choices`` when given, a non-empty subset of ``choices``."""

    def __init__(self, choices: Sequence[Any], search_choices: Sequence[Any] | None = None) -> None:
        self.choices = tuple(choices)
        self.search_choices = None if search_choices is None else tuple(search_choices)
        super().__init__(
            choices=list(self.choices),
            search_choices=None if self.search_choices is None else list(self.search_choices),
        )


class BooleanFragment(Fragment):
    """True or False; the default is False."""

    def __init__(self) -> None:
        super().__init__()


class ListOf(Fragment):
    """``length`` independent values of ``inner`` (not a tunable of its own:
    ``hl.register_tunable`` takes ints, floats and bools)."""

    def __init__(self, inner: Fragment, length: int) -> None:
        if not isinstance(inner, Fragment):
            raise ValueError(f"ListOf: inner must be a fragment, got {inner!r}")
        self.inner, self.length = inner, length
        super().__init__(inner=inner.describe(), length=length)
