"""``helion.Config``: one point of a kernel's config space."""

from __future__ import annotations

import json
import math
import numbers
import operator
import os
from collections.abc import Iterator, Mapping
from typing import Any

# The fields in the order they are printed (the seed's, with the later
# per-loop fields in the autotuner's key order among them); the other built-in
# keys (P1 fields) follow in the order they were given, and the user's
# tunables after them.
_FIELD_ORDER = (
    "block_sizes",
    "loop_orders",
    "flatten_loops",
    "reduction_loops",
    "l2_grouping",
    "l2_groupings",
    "range_unroll_factors",
    "range_warp_specializes",
    "range_num_stages",
    "range_multi_buffers",
    "range_flattens",
    "static_ranges",
    "indexing",
    "atomic_indexing",
    "use_yz_grid",
    "pid_type",
    "num_sm_multiplier",
    "num_warps",
    "num_stages",
    "load_eviction_policies",
    "maxnreg",
)


# Configs travel to the compiler core as JSON, which reads 64-bit ints and
# finite floats only; no config needs more than a few levels of lists.
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_MAX_DEPTH = 32


class _BadNumber:
    """A number in config JSON text that no config can hold (NaN, Infinity,
    1e999, a 5000-digit int): kept as written so the error can name its field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"


def _is_user_key(key: str) -> bool:
    """A key no built-in field reads as: a tunable of the kernel's (the compiler
    knows the fields)."""
    from . import _core

    return not _core.tunable_name_conflict(key)


def _invalid(message: str) -> Exception:
    from . import exc

    return exc.InvalidConfig(message)


def _plain(value: Any, field: str, depth: int = 0) -> Any:
    """The value as JSON-like data (tuples become lists, so a config equals its
    own JSON round trip); raises InvalidConfig naming ``field`` for anything
    the compiler core could not read."""
    if depth > _MAX_DEPTH:
        raise _invalid(f"{field}: nested deeper than {_MAX_DEPTH} levels; expected a few at most")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) or isinstance(value, numbers.Integral):
        number = operator.index(value)
        if not _INT64_MIN <= number <= _INT64_MAX:
            bits = number.bit_length()
            shown = str(number) if bits <= 128 else f"an int of {bits} bits"
            raise _invalid(
                f"{field}: {shown} does not fit in 64 bits; use a value the field allows "
                "(every field's limit is far smaller)"
            )
        return number
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _invalid(
                f"{field}: {value!r} is not a finite number; use an int or a finite float"
            )
        return value
    if isinstance(value, _BadNumber):
        raise _invalid(
            f"{field}: {value.text} is not a number a config can hold; "
            "use an int that fits in 64 bits or a finite float"
        )
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid(
                f"{field}: {value!r} is not valid text (it holds a lone surrogate); "
                "use valid Unicode"
            ) from None
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{field}[{index}]", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _invalid(f"{field}: expected string keys, got {key!r}")
            plain[_plain(key, field, depth + 1)] = _plain(item, f"{field}[{key!r}]", depth + 1)
        return plain
    raise _invalid(
        f"{field}: expected a JSON-like value (an int, float, bool, string, None or a list of "
        f"them), got {type(value).__name__}: {value!r}"
    )


def _reject_constant(name: str) -> _BadNumber:
    return _BadNumber(name)


def _parse_float(text: str) -> float | _BadNumber:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber(text)


def _parse_int(text: str) -> int | _BadNumber:
    # Python refuses to convert very long digit strings; none fits 64 bits.
    return int(text) if len(text) <= 24 else _BadNumber(text)


class Config(Mapping[str, Any]):
    """A kernel config, e.g.
    ``helion.Config(block_sizes=[[64, 128], [16]], loop_orders=[[1, 0]], num_warps=4)``.

    Immutable, hashable and comparable. Values must be JSON-like (ints that
    fit in 64 bits, finite floats, bools, strings, None, lists), else
    :class:`helion.exc.InvalidConfig` is raised at once. Which keys and values
    are legal depends on the kernel; that is checked when the config is used
    and reported as :class:`helion.exc.InvalidConfig` too. Keyword arguments that are
    ``None`` are left out, so the kernel's default applies.
    """

    __slots__ = ("_data",)

    def __init__(self, **fields: Any) -> None:
        ordered = [key for key in _FIELD_ORDER if key in fields]
        rest = [key for key in fields if key not in _FIELD_ORDER]
        user = [key for key in rest if _is_user_key(key)]
        ordered += [key for key in rest if key not in user] + user
        data = {key: _plain(fields[key], key) for key in ordered if fields[key] is not None}
        object.__setattr__(self, "_data", data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        if not isinstance(data, Mapping):
            raise _invalid(f"a config is a mapping of fields, got {type(data).__name__}")
        for key in data:
            if not isinstance(key, str):
                raise _invalid(f"config field names are strings, got {key!r}")
        return cls(**dict(data))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_data")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("helion.Config is immutable")

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in self._data.items())
        return f"helion.Config({fields})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(json.dumps(self._data, sort_keys=True))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Config.from_dict, (self._data,))

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._data))

    def to_json(self) -> str:
        return json.dumps(self._data, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> Config:
        """Reads :meth:`to_json`'s text; raises InvalidConfig saying what is wrong
        with text that is not a JSON object of config fields."""
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as error:
                raise _invalid(
                    f"config JSON: not UTF-8 text ({error.reason} at byte {error.start})"
                ) from None
        if not isinstance(text, str):
            raise _invalid(f"config JSON: expected text, got {type(text).__name__}")
        try:
            data = json.loads(
                text,
                parse_constant=_reject_constant,
                parse_float=_parse_float,
                parse_int=_parse_int,
            )
        except json.JSONDecodeError as error:
            raise _invalid(
                f"config JSON: {error.msg} at line {error.lineno} column {error.colno}"
            ) from None
        except RecursionError:
            raise _invalid("config JSON: nested too deeply") from None
        if not isinstance(data, dict):
            raise _invalid(
                f"config JSON: expected an object of config fields, got {type(data).__name__}"
            )
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w") as file:
            file.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Config:
        with open(path, "rb") as file:
            return cls.from_json(file.read())
