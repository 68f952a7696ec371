"""The on-disk cache of autotuned configs.

``$HELION_CACHE_DIR/configs/<key>.json`` (default ``~/.cache/helion``), where
the key is a sha256 over the kernel's source, its specialization key, the
device (name and compute capability), the torch/triton/helion versions and
the settings that change what autotuning finds. Files are written to a
temporary file in the same directory and renamed into place, so concurrent
processes never see half a file; the last writer wins. A file that cannot be
read, parsed or used (corrupt, written by something else, an invalid config)
is ignored and rewritten after the next search. Entries are read only from a
directory and files of this user that nobody else can write (see
``helion._cache_dir``); elsewhere there is no cache.

``HELION_SKIP_CACHE=1`` neither reads nor writes entries;
``HELION_ASSERT_CACHE_HIT=1`` turns a miss into
:class:`helion.exc.CacheAssertionError` (after printing how the key differs
from the closest entry of the same kernel), for runs that must not search.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .._config import Config
from .._cache_dir import cache_dir, private_file, private_subdir

if TYPE_CHECKING:
    from ..runtime.kernel import BoundKernel

_FORMAT = "helion-autotune-cache-1"


def config_dir() -> Path:
    return cache_dir() / "configs"


def _device_description(args: Sequence[Any]) -> str:
    for arg in args:
        if isinstance(arg, torch.Tensor) and arg.device.type == "cuda":
            index = (
                arg.device.index if arg.device.index is not None else torch.cuda.current_device()
            )
            major, minor = torch.cuda.get_device_capability(index)
            return f"cuda {torch.cuda.get_device_name(index)} sm_{major}{minor}"
    return f"cpu {platform.machine()}"


def versions() -> dict[str, str]:
    import triton

    from .._version import __version__

    return {"torch": torch.__version__, "triton": triton.__version__, "helion": __version__}


SKIP_ENV = "HELION_SKIP_CACHE"
ASSERT_HIT_ENV = "HELION_ASSERT_CACHE_HIT"


def skipped() -> bool:
    return os.environ.get(SKIP_ENV, "") == "1"


def must_hit() -> bool:
    return os.environ.get(ASSERT_HIT_ENV, "") == "1"


def key_parts(bound: BoundKernel, args: Sequence[Any], strategy: str) -> dict[str, Any]:
    """Everything the key covers, as JSON-able values (``strategy``: the one
    that searches, which HELION_AUTOTUNER may choose)."""
    settings = bound.settings
    kernel = bound.kernel
    parts = {
        "format": _FORMAT,
        "source": kernel.source_info().source,
        "name": kernel.name,
        "specialization": repr(kernel._key(tuple(args))),
        "device": _device_description(args),
        "versions": versions(),
        "effort": settings.autotune_effort,
        "strategy": strategy,
        "overrides": settings.autotune_config_overrides,
        "static_shapes": settings.static_shapes,
        "index_dtype": settings.index_dtype,
        "dot_precision": settings.dot_precision,
        "persistent_reserved_sms": settings.persistent_reserved_sms,
    }
    return json.loads(json.dumps(parts, sort_keys=True, default=repr))


def cache_key(parts: dict[str, Any]) -> str:
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def path_for(key: str) -> Path:
    return config_dir() / f"{key}.json"


def _private_path_for(key: str) -> Path | None:
    """``path_for(key)`` in a directory made private; None when that is unsafe or impossible."""
    directory = private_subdir("configs")
    return directory / f"{key}.json" if directory is not None else None


def lookup(bound: BoundKernel, parts: dict[str, Any]) -> tuple[Config, Path] | None:
    """The cached config for the key ``parts`` and where it came from, if usable."""
    try:
        key = cache_key(parts)
        path = _private_path_for(key)
        if path is None or not private_file(path):
            return None
        entry = json.loads(path.read_text())
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        config = entry.get("config")
        if not isinstance(config, dict):
            return None
        return bound.config_spec.normalize(Config.from_dict(config)), path
    except Exception:  # unreadable, unparsable, foreign or no longer valid: ignore it
        return None


def store(
    bound: BoundKernel, parts: dict[str, Any], config: Config, time_ms: float | None
) -> Path | None:
    """Writes the entry atomically; returns its path (None when it could not be written)."""
    try:
        key = cache_key(parts)
        path = _private_path_for(key)
        if path is None:
            return None
        entry = {
            "key": key,
            "kernel": bound.kernel.name,
            "config": dict(config),
            "time_ms": time_ms,
            "parts": parts,
            "versions": versions(),
        }
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w") as file:
                json.dump(entry, file, indent=1)
                file.write("\n")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path
    except OSError:
        return None


def explain_miss(kernel_name: str, parts: dict[str, Any]) -> str:
    """How ``parts`` differ from those of the closest cached entry of the same kernel."""
    directory = private_subdir("configs")
    closest: tuple[int, list[str]] | None = None
    for path in sorted(directory.glob("*.json")) if directory is not None else ():
        try:
            entry = json.loads(path.read_text()) if private_file(path) else None
        except (OSError, ValueError):
            continue
        if not isinstance(entry, dict) or entry.get("kernel") != kernel_name:
            continue
        cached = entry.get("parts")
        if not isinstance(cached, dict):
            continue
        differences = [
            _difference(name, cached.get(name), parts.get(name))
            for name in sorted(set(cached) | set(parts))
            if cached.get(name) != parts.get(name)
        ]
        if closest is None or len(differences) < closest[0]:
            closest = (len(differences), [f"closest entry {path}:", *differences])
    if closest is None:
        return f"no cached config of kernel '{kernel_name}' in {config_dir()}"
    return "\n".join(closest[1])


def _difference(name: str, cached: Any, now: Any) -> str:
    """One line; long values (the kernel's source) are not printed whole."""
    shown = (repr(cached), repr(now))
    if max(map(len, shown)) > 120:
        return f"  {name}: differs"
    return f"  {name}: cached {shown[0]}, now {shown[1]}"
