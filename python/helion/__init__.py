"""Helion: a Python-embedded DSL for ML kernels, compiled to Triton.

On machines without a CUDA GPU, generated kernels run under Triton's
interpreter, which must be on before Triton decorates any function: importing
helion sets ``TRITON_INTERPRET=1`` there unless the variable is already set.
"""

from __future__ import annotations

import torch as _torch

from . import _settings

_settings.enable_triton_interpreter_without_gpu(_torch.cuda.is_available())

from . import exc, language, runtime  # noqa: E402 - after Triton's interpreter is decided
from ._config import Config  # noqa: E402
from ._settings import RefMode, Settings  # noqa: E402
from ._version import __version__  # noqa: E402
from .runtime import BoundKernel, Kernel, aot_kernel, from_cache, jit, kernel  # noqa: E402


def cdiv(a: int, b: int) -> int:
    """Ceiling division of ints: the number of blocks of ``b`` that cover ``a``."""
    return (a + b - 1) // b


def next_power_of_2(n: int) -> int:
    """The smallest power of two not below ``n`` (1 for ``n <= 1``)."""
    return 1 if n <= 1 else 1 << (n - 1).bit_length()



__all__ = [
    "BoundKernel",
    "Config",
    "Kernel",
    "RefMode",
    "Settings",
    "__version__",
    "aot_kernel",
    "cdiv",
    "exc",
    "from_cache",
    "jit",
    "kernel",
    "language",
    "next_power_of_2",
    "runtime",
]
