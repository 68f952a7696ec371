"""Search spaces of user tunables (``hl.register_tunable(name, fragment)``).

Each fragment knows its legal values and its default. ``hl.register_tunable``
itself is not supported by the compiler yet: it raises at the call, naming
what to use instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Fragment:
    """One tunable's search space."""

    def default(self) -> Any:
        raise NotImplementedError

    def is_valid(self, value: Any) -> bool:
        raise NotImplementedError


def _check_bounds(kind: str, low: int, high: int) -> None:
    for name, value in (("low", low), ("high", high)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{kind}: {name} must be an int, got {type(value).__name__}")
    if low > high:
        raise ValueError(f"{kind}: low={low} is above high={high}")


class IntegerFragment(Fragment):
    """Any int in ``[low, high]``; the default is ``default_val`` (clamped) or ``low``."""

    def __init__(self, low: int, high: int, default_val: int | None = None) -> None:
        _check_bounds(type(self).__name__, low, high)
        self.low, self.high, self.default_val = low, high, default_val

    def default(self) -> int:
        if self.default_val is None:
            return self.low
        return max(self.low, min(self.high, self.default_val))

    def is_valid(self, value: Any) -> bool:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return is_int and self.low <= value <= self.high

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low}, {self.high}, {self.default_val})"


class PowerOfTwoFragment(IntegerFragment):
    """Powers of two in ``[low, high]``; the default is ``default_val`` (clamped) or ``low``."""

    def __init__(self, low: int, high: int, default_val: int | None = None) -> None:
        super().__init__(low, high, default_val)
        if low < 1 or low & (low - 1) or high & (high - 1):
            raise ValueError(f"PowerOfTwoFragment: low={low} and high={high} must be powers of two")

    def is_valid(self, value: Any) -> bool:
        return super().is_valid(value) and value & (value - 1) == 0


class EnumFragment(Fragment):
    """One of ``choices`` (the default is the first); the search draws only from
    ``search_choices`` when given, a non-empty subset of ``choices``."""

    def __init__(self, choices: Sequence[Any], search_choices: Sequence[Any] | None = None) -> None:
        self.choices = tuple(choices)
        if not self.choices:
            raise ValueError("EnumFragment needs at least one choice")
        if search_choices is not None:
            search_choices = tuple(search_choices)
            if not search_choices or any(c not in self.choices for c in search_choices):
                raise ValueError(
                    f"EnumFragment: search_choices {search_choices!r} must be a non-empty "
                    f"subset of choices {self.choices!r}"
                )
        self.search_choices = search_choices

    def default(self) -> Any:
        return self.choices[0]

    def is_valid(self, value: Any) -> bool:
        return value in self.choices

    def __repr__(self) -> str:
        return f"EnumFragment({self.choices!r}, {self.search_choices!r})"


class BooleanFragment(Fragment):
    """True or False; the default is False."""

    def default(self) -> bool:
        return False

    def is_valid(self, value: Any) -> bool:
        return isinstance(value, bool)

    def __repr__(self) -> str:
        return "BooleanFragment()"


class ListOf(Fragment):
    """``length`` independent values of ``inner``."""

    def __init__(self, inner: Fragment, length: int) -> None:
        if not isinstance(length, int) or length < 1:
            raise ValueError(f"ListOf: length must be a positive int, got {length!r}")
        self.inner, self.length = inner, length

    def default(self) -> list[Any]:
        return [self.inner.default() for _ in range(self.length)]

    def is_valid(self, value: Any) -> bool:
        return (
            isinstance(value, list)
            and len(value) == self.length
            and all(self.inner.is_valid(v) for v in value)
        )

    def __repr__(self) -> str:
        return f"ListOf({self.inner!r}, {self.length})"
