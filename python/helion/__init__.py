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
from ._settings import Settings
from .runtime import BoundKernel, Kernel, kernel

__version__ = "0.1.0"

__all__ = [
    "BoundKernel",
    "Config",
    "Kernel",
    "Settings",
    "__version__",
    "exc",
    "kernel",
    "language",
]
