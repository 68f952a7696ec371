"""Helion: a Python-embedded DSL for ML kernels, compiled to Triton.

On machines without a CUDA GPU, generated kernels run under Triton's
interpreter, which must be on before Triton decorates any function: importing
helion sets ``TRITON_INTERPRET=1`` there unless the variable is already set.
"""

from __future__ import annotations

import os as _os

import torch as _torch

if "TRITON_INTERPRET" not in _os.environ and not _torch.cuda.is_available():
    _os.environ["TRITON_INTERPRET"] = "1"

from . import exc, language
from ._config import Config
from ._settings import RefMode, Settings
from .runtime import BoundKernel, Kernel, kernel


def cdiv(a: int, b: int) -> int:
    """Ceiling division of ints: the number of blocks of ``b`` that cover ``a``."""
    return (a + b - 1) // b


def next_power_of_2(n: int) -> int:
    """The smallest power of two not below ``n`` (1 for ``n <= 1``)."""
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


__version__ = "0.1.0"

__all__ = [
    "BoundKernel",
    "Config",
    "Kernel",
    "RefMode",
    "Settings",
    "__version__",
    "cdiv",
    "exc",
    "kernel",
    "language",
    "next_power_of_2",
    "runtime",
]
