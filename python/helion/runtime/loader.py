"""Turning generated module text into a live Python module.

``@triton.jit`` reads its function's source through ``inspect``, so the text
must come from a real file: it is written once to the cache directory, named
by its hash, and imported from there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import types
from pathlib import Path

_loaded: dict[str, types.ModuleType] = {}


def cache_dir() -> Path:
    """``$HELION_CACHE_DIR``, else ``~/.cache/helion``, else a temporary directory."""
    configured = os.environ.get("HELION_CACHE_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path.home() / ".cache" / "helion")
    candidates.append(Path(tempfile.gettempdir()) / f"helion-{os.getuid()}")
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    raise OSError("no writable cache directory for helion; set HELION_CACHE_DIR")


def _write_atomically(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_module(text: str) -> types.ModuleType:
    """The module whose source is ``text``; the same text loads once per process."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    module = _loaded.get(digest)
    if module is not None:
        return module
    path = cache_dir() / f"{digest}.py"
    if not path.exists() or path.read_text() != text:
        _write_atomically(path, text)
    name = f"helion._generated_{digest[:24]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _loaded[digest] = module
    return module
