"""``helion.Config``: one point of a kernel's config space."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

# The seed's fields in the order they are printed; other keys (later
# spellings, P1 fields, user tunables) follow in the order they were given.
_FIELD_ORDER = (
    "block_sizes",
    "loop_orders",
    "flatten_loops",
    "reduction_loops",
    "l2_grouping",
    "l2_groupings",
    "indexing",
    "use_yz_grid",
    "pid_type",
    "num_warps",
    "num_stages",
)


def _plain(value: Any) -> Any:
    """Tuples become lists so a config equals its own JSON round trip."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise TypeError(f"config values must be JSON-like, got {type(value).__name__}: {value!r}")


class Config(Mapping[str, Any]):
    """A kernel config, e.g.
    ``helion.Config(block_sizes=[[64, 128], [16]], loop_orders=[[1, 0]], num_warps=4)``.

    Immutable, hashable and comparable. Which keys and values are legal
    depends on the kernel; that is checked when the config is used and
    reported as :class:`helion.exc.InvalidConfig`. Keyword arguments that are
    ``None`` are left out, so the kernel's default applies.
    """

    __slots__ = ("_data",)

    def __init__(self, **fields: Any) -> None:
        ordered = [key for key in _FIELD_ORDER if key in fields]
        ordered += [key for key in fields if key not in _FIELD_ORDER]
        data = {key: _plain(fields[key]) for key in ordered if fields[key] is not None}
        object.__setattr__(self, "_data", data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
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
    def from_json(cls, text: str) -> Config:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"a config is a JSON object, got {type(data).__name__}")
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w") as file:
            file.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Config:
        with open(path) as file:
            return cls.from_json(file.read())
