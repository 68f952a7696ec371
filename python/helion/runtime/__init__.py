from __future__ import annotations

import functools
import os

import torch

from .decorators import aot_kernel, from_cache, jit
from .kernel import BoundKernel, ConfigSpec, Kernel, kernel


# Under Triton's interpreter the programs of a launch run one after another: a
# persistent kernel there gets this many "SMs", few enough to stay quick and
# fewer than most kernels' tiles, so that its programs loop.
_INTERPRETED_SM_COUNT = 4


@functools.lru_cache(maxsize=None)
def _processor_count(device: torch.device) -> int:
    """A device's streaming multiprocessors (its cores for the CPU); read once per
    device, as persistent kernels ask at every launch."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return os.cpu_count() or 1


def get_num_sm(device: torch.device | str, *, reserved_sms: int = 0) -> int:
    """How many programs run at once on ``device``: its streaming multiprocessors on a
    GPU, its cores on the CPU (where kernels run under Triton's interpreter), less
    ``reserved_sms`` left to other work (at least one stays)."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return max(_processor_count(device) - reserved_sms, 1)


def persistent_programs(
    device: torch.device | str | None, num_sm_multiplier: int, reserved_sms: int = 0
) -> int:
    """The grid of a persistent kernel (pid_type ``persistent_blocked`` or
    ``persistent_interleaved``): ``num_sm_multiplier`` programs per SM of
    ``device`` (the current CUDA device for None) that are not reserved; under
    Triton's interpreter a small fixed count stands for the SMs."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        available = max(_INTERPRETED_SM_COUNT - reserved_sms, 1)
    else:
        if device is None:
            device = torch.device("cuda", torch.cuda.current_device())
        available = get_num_sm(device, reserved_sms=reserved_sms)
    return available * num_sm_multiplier


def barrier_counts(device: torch.device | str | None, barriers: int) -> torch.Tensor:
    """The zeroed int32 counters of a kernel's ``hl.barrier()`` calls, one each:
    every program adds one on arriving and waits until all have."""
    if device is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return torch.zeros([barriers], dtype=torch.int32, device=device)


def barrier_phases(barriers: int) -> range:
    """The launches of a kernel with ``barriers`` ``hl.barrier()`` calls, each
    the phase it runs: one launch of every phase (-1), whose programs wait for
    each other at the barriers; under Triton's interpreter, which runs programs
    one after another (so a program would wait for ones not started yet), one
    launch per phase, in order."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        return range(barriers + 1)
    return range(-1, 0)


__all__ = [
    "BoundKernel",
    "ConfigSpec",
    "Kernel",
    "aot_kernel",
    "barrier_counts",
    "barrier_phases",
    "from_cache",
    "get_num_sm",
    "jit",
    "kernel",
    "persistent_programs",
]
