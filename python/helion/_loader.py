"""Turning generated module text into a live Python module.

The module is compiled from the text in memory, never imported: no bytecode
is read or written, and nothing placed beside the file can run in its stead.
``@triton.jit`` reads its function's source through ``inspect``, which reads
``linecache``; the text is registered there under the module's file name, so
Triton sees exactly the text that was compiled. The file itself (named by
the text's hash, in the private cache directory) is written for tracebacks
and for people reading the generated code.
"""

from __future__ import annotations

import hashlib
import linecache
import os
import sys
import tempfile
import types
from pathlib import Path

from ._cache_dir import cache_dir, private_file

_loaded: dict[str, types.ModuleType] = {}


def _write_atomically(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _holds(path: Path, text: str) -> bool:
    if not private_file(path):
        return False
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _register_source(filename: str, text: str) -> None:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # No modification time: linecache.checkcache keeps the entry instead of
    # rereading the file.
    linecache.cache[filename] = (len(text), None, lines, filename)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def module_path(text: str) -> Path:
    """The file in the cache directory that holds module text ``text``."""
    return cache_dir() / f"{_digest(text)}.py"


def load_module(text: str) -> types.ModuleType:
    """The module whose source is ``text``; the same text loads once per process."""
    digest = _digest(text)
    module = _loaded.get(digest)
    if module is not None:
        return module
    path = module_path(text)
    if not _holds(path, text):
        _write_atomically(path, text)
    filename = str(path)
    code = compile(text, filename, "exec", dont_inherit=True)
    _register_source(filename, text)
    name = f"helion._generated_{digest[:24]}"
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    _loaded[digest] = module
    return module
