from __future__ import annotations

import os

import torch

from .decorators import aot_kernel, from_cache, jit
from .kernel import BoundKernel, ConfigSpec, Kernel, kernel


def get_num_sm(device: torch.device | str) -> int:
    """How many programs run at once on ``device``: its streaming multiprocessors on a
    GPU, its cores on the CPU (where kernels run under Triton's interpreter)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return os.cpu_count() or 1


__all__ = [
    "BoundKernel",
    "ConfigSpec",
    "Kernel",
    "aot_kernel",
    "from_cache",
    "get_num_sm",
    "jit",
    "kernel",
]
