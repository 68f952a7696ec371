"""The cache directory and what is read back from it.

Generated modules run from the text the compiler produced, never from files
or bytecode found beside them; directories and files are used only when
nobody but the user can have written them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import py_compile
import stat
import tempfile
import warnings
from pathlib import Path

import kernels as K  # noqa: N812
import pytest
import torch

import helion
from helion import exc
from helion.autotuner import cache
from helion import _cache_dir as cache_dir_module
from helion import _loader as loader
from helion._cache_dir import cache_dir


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test has its own home and temporary directory, and sees every fallback warning."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(mode=0o700)
    (tmp_path / "tmp").mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(cache_dir_module, "_warned", set())
    monkeypatch.setattr(loader, "_loaded", {})


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _owned_by_someone_else(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Makes ``os.stat`` report ``path`` as another user's."""
    real_stat = os.stat
    target = str(path)

    def fake_stat(p, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_stat(p, *args, **kwargs)
        if os.fspath(p) != target:
            return result
        fields = list(result)
        fields[stat.ST_UID] = os.getuid() + 1
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", fake_stat)


# --- loading generated modules ------------------------------------------------------


def test_planted_bytecode_is_never_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .pyc beside a cached module, valid for any source (unchecked hash), is ignored."""
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "cache"))
    text = "VALUE = 'generated'\n"
    path = cache_dir() / f"{hashlib.sha256(text.encode()).hexdigest()}.py"
    path.write_text(text)
    planted = tmp_path / "planted.py"
    planted.write_text("VALUE = 'planted'\n")
    py_compile.compile(
        str(planted),
        cfile=importlib.util.cache_from_source(str(path)),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    assert loader.load_module(text).VALUE == "generated"


def test_no_bytecode_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("sys.dont_write_bytecode", False)
    loader.load_module("def f(x):\n    return x + 1\n")
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.suffix != ".py"] == []


def test_source_seen_by_inspect_is_the_text_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``@triton.jit`` reads the source through inspect: a file changed on disk does not
    change what it reads, and a stale file is rewritten."""
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "cache"))
    text = "def f(x):\n    return x + 1\n"
    path = cache_dir() / f"{hashlib.sha256(text.encode()).hexdigest()}.py"
    path.write_text("def f(x):\n    return x - 1\n")
    module = loader.load_module(text)
    assert path.read_text() == text
    assert _mode(path) & 0o077 == 0
    path.write_text("def f(x):\n    return 'changed'\n")
    assert inspect.getsource(module.f) == text
    assert module.f(1) == 2


def test_kernels_run_from_a_fresh_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: str
) -> None:
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "cache"))
    add = helion.kernel(autotune_effort="none")(K.add)
    x = torch.randn(16, device=device)
    torch.testing.assert_close(add(x, x), x + x)
    assert not (tmp_path / "cache" / "__pycache__").exists()


# --- choosing the directory ---------------------------------------------------------


def test_new_cache_directory_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "a" / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache_dir() == tmp_path / "a" / "cache"
    assert _mode(tmp_path / "a" / "cache") == 0o700
    monkeypatch.delenv("HELION_CACHE_DIR")
    assert cache_dir() == tmp_path / "home" / ".cache" / "helion"
    assert _mode(cache_dir()) == 0o700


def test_cache_dir_naming_a_file_says_where_the_cache_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "file"))
    default = tmp_path / "home" / ".cache" / "helion"
    with pytest.warns(exc.CacheDirectoryFallback) as record:
        assert cache_dir() == default
        assert cache_dir() == default
    assert len(record) == 1  # once per process
    message = str(record[0].message)
    assert str(default) in message and str(tmp_path / "file") in message
    assert "not a directory" in message and "HELION_CACHE_DIR" in message


def test_unwritable_cache_dir_says_where_the_cache_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("HELION_CACHE_DIR", str(locked))
    real_access = os.access
    # Root may write anyway: the check is what is tested.
    monkeypatch.setattr(os, "access", lambda p, mode: p != locked and real_access(p, mode))
    with pytest.warns(exc.CacheDirectoryFallback, match="not writable"):
        assert cache_dir() == tmp_path / "home" / ".cache" / "helion"


def test_cache_dir_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "theirs"
    chosen.mkdir(mode=0o700)
    monkeypatch.setenv("HELION_CACHE_DIR", str(chosen))
    _owned_by_someone_else(monkeypatch, chosen)
    with pytest.warns(exc.CacheDirectoryFallback, match="owned by another user"):
        assert cache_dir() == tmp_path / "home" / ".cache" / "helion"


def test_chosen_cache_dir_may_be_shared_with_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o770)
    monkeypatch.setenv("HELION_CACHE_DIR", str(shared))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache_dir() == shared


def test_default_cache_dir_writable_by_others_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HELION_CACHE_DIR", raising=False)
    default = tmp_path / "home" / ".cache" / "helion"
    default.mkdir(parents=True)
    default.chmod(0o777)
    fallback = tmp_path / "tmp" / f"helion-{os.getuid()}"
    with pytest.warns(exc.CacheDirectoryFallback, match="group or others can write"):
        assert cache_dir() == fallback
    assert _mode(fallback) == 0o700


def test_temporary_fallback_planted_by_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``<tmp>/helion-<uid>`` can be made by anyone before the user: it must be theirs and
    private, or there is no cache."""
    monkeypatch.delenv("HELION_CACHE_DIR", raising=False)
    (tmp_path / "home" / ".cache").write_text("")  # no ~/.cache/helion
    planted = tmp_path / "tmp" / f"helion-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)
    with pytest.raises(OSError, match="group or others can write") as raised:
        cache_dir()
    assert str(planted) in str(raised.value)
    planted.chmod(0o700)
    _owned_by_someone_else(monkeypatch, planted)
    with pytest.raises(OSError, match="owned by another user"):
        cache_dir()


# --- the config cache ---------------------------------------------------------------


def test_config_cache_reads_only_private_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: str
) -> None:
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path / "cache"))
    kernel = helion.kernel(autotune_effort="none")(K.add)
    args = (torch.randn(16, device=device), torch.randn(16, device=device))
    bound = kernel.bind(args)
    config = bound.config_spec.default_config()
    parts = cache.key_parts(bound, args, strategy="model")
    path = cache.store(bound, parts, config, 1.0)
    assert path is not None and path.parent == tmp_path / "cache" / "configs"
    assert _mode(path.parent) == 0o700
    assert cache.lookup(bound, parts) == (config, path)

    path.chmod(0o666)
    assert cache.lookup(bound, parts) is None
    path.chmod(0o600)
    with monkeypatch.context() as patched:
        _owned_by_someone_else(patched, path)
        assert cache.lookup(bound, parts) is None
    assert cache.lookup(bound, parts) == (config, path)

    path.parent.chmod(0o777)
    assert cache.lookup(bound, parts) is None
    assert cache.store(bound, parts, config, 1.0) is None
