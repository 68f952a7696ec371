"""Where Helion keeps generated modules and autotuned configs.

``$HELION_CACHE_DIR`` when set, else ``~/.cache/helion``, else
``<tempdir>/helion-<uid>``. What is read back from the cache steers what
runs, so a directory is used only when nobody else can have put files there:
it must be owned by this user, and (the default and the temporary one, which
others can create first) not writable by group or others. New directories
are made private (0o700). A directory that is refused or not writable is
skipped for the next one, and a :class:`helion.exc.CacheDirectoryFallback`
warning says once why and where the cache went.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import warnings
from pathlib import Path

from . import exc

# Each fallback is reported once per process.
_warned: set[tuple[str, str]] = set()


def _problem(path: Path, *, shared_ok: bool) -> str | None:
    """Why ``path`` (an existing file or directory) is not safe to use; None when it is."""
    info = path.stat()
    if info.st_uid != os.getuid():
        return f"it is owned by another user (uid {info.st_uid})"
    if not shared_ok and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = stat.S_IMODE(info.st_mode)
        return f"group or others can write to it (mode {mode:o}; `chmod go-w {path}` fixes that)"
    return None


def _usable_dir(path: Path, *, shared_ok: bool = False) -> str | None:
    """Creates ``path`` (0o700) when missing; why it cannot be used, or None when it can."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        return "it is not a directory"
    except OSError as error:
        return f"it cannot be created ({error.strerror or error})"
    try:
        if not path.is_dir():
            return "it is not a directory"
        problem = _problem(path, shared_ok=shared_ok)
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    if problem is not None:
        return problem
    if not os.access(path, os.W_OK | os.X_OK):
        return "it is not writable"
    return None


def private_file(path: Path) -> bool:
    """True when ``path`` is a regular file of this user that nobody else can write."""
    try:
        return path.is_file() and _problem(path, shared_ok=False) is None
    except OSError:
        return False


def private_subdir(name: str) -> Path | None:
    """``cache_dir() / name``, made private; None when it cannot be made or is unsafe."""
    path = cache_dir() / name
    return path if _usable_dir(path) is None else None


def _warn_once(refused: list[tuple[Path, str]], chosen: Path) -> None:
    key = (repr(refused), str(chosen))
    if key in _warned:
        return
    _warned.add(key)
    reasons = "; ".join(f"not {path}: {reason}" for path, reason in refused)
    warnings.warn(
        exc.CacheDirectoryFallback(
            f"helion caches generated modules and autotuned configs in {chosen} ({reasons}); "
            "set HELION_CACHE_DIR to a directory of your own to choose another"
        ),
        stacklevel=4,
    )


def cache_dir() -> Path:
    """The first usable of ``$HELION_CACHE_DIR``, ``~/.cache/helion``, ``<tmp>/helion-<uid>``."""
    configured = os.environ.get("HELION_CACHE_DIR")
    # (directory, whether group members may share it: only one the user chose)
    candidates = [(Path(configured).expanduser(), True)] if configured else []
    with contextlib.suppress(RuntimeError, KeyError):  # no home directory
        candidates.append((Path.home() / ".cache" / "helion", False))
    candidates.append((Path(tempfile.gettempdir()) / f"helion-{os.getuid()}", False))
    refused: list[tuple[Path, str]] = []
    for candidate, shared_ok in candidates:
        reason = _usable_dir(candidate, shared_ok=shared_ok)
        if reason is None:
            if refused:
                _warn_once(refused, candidate)
            return candidate
        refused.append((candidate, reason))
    reasons = "; ".join(f"{path}: {reason}" for path, reason in refused)
    raise OSError(f"helion has no usable cache directory ({reasons}); set HELION_CACHE_DIR")
