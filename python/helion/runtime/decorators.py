"""Helion's other ways to make a kernel: ``aot_kernel``, ``jit`` and ``from_cache``."""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Sequence
from typing import Any

from .. import exc
from .kernel import Kernel, kernel

_AOT_MODE_ENV = "HELION_AOT_MODE"


def _aot_workflow_requested() -> str | None:
    mode = os.environ.get(_AOT_MODE_ENV, "").strip().lower()
    return None if mode in ("", "disabled", "off", "0") else mode


def aot_kernel(
    fn: types.FunctionType | None = None,
    /,
    *,
    batched: Sequence[Any] | None = None,
    collect_fn: Callable[[], Any] | None = None,
    measure_fn: Callable[[], Any] | None = None,
    key: Callable[..., Any] | None = None,
    **settings: Any,
) -> Kernel | Callable[[types.FunctionType], Kernel]:
    """A kernel meant for Helion's ahead-of-time tuning workflow.

    Outside that workflow (``HELION_AOT_MODE`` unset, as here always) it is a
    kernel with ``static_shapes=False`` that is tuned and cached like any
    other. ``batched``, ``collect_fn``, ``measure_fn`` and ``key`` only steer
    the workflow's collection of shapes and its heuristics.
    """
    mode = _aot_workflow_requested()
    if mode is not None:
        raise exc.UnsupportedSetting(
            f"{_AOT_MODE_ENV}={mode!r}: Helion's ahead-of-time tuning workflow (collect, "
            "measure, heuristics) is not supported here; unset it: kernels are tuned on "
            "their first call and the best config is cached on disk"
        )
    for name, value in (("collect_fn", collect_fn), ("measure_fn", measure_fn), ("key", key)):
        if value is not None and not callable(value):
            raise TypeError(f"aot_kernel's {name} must be callable, got {type(value).__name__}")
    if batched is not None and not isinstance(batched, (list, tuple)):
        raise TypeError(
            "aot_kernel's batched is a list with one entry per argument, got "
            f"{type(batched).__name__}"
        )
    settings.setdefault("static_shapes", False)
    return kernel(fn, **settings) if fn is not None else kernel(**settings)


def jit(*args: Any, **kwargs: Any) -> Any:
    raise exc.InvalidAPIUsage(
        "helion.jit is not supported in this implementation; decorate kernels with "
        "@helion.kernel (helper functions called from a kernel need no decorator)"
    )


def from_cache(*args: Any, **kwargs: Any) -> Any:
    raise exc.InvalidAPIUsage(
        "helion.from_cache loads kernels tuned by Helion's ahead-of-time workflow, which is "
        "not supported here; use @helion.kernel: the best config found for each "
        "specialization is cached on disk and reused by later processes"
    )
