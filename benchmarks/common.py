"""What the benchmarks share: the description of one case, the timer, byte counting and the
device-to-device copy that memory-bound kernels are measured against."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import triton

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@dataclass(frozen=True)
class Case:
    """One kernel at one size and what its Helion version is compared with.

    ``eager`` is the PyTorch code that defines the right answer for every
    implementation; it is also what torch.compile compiles. ``vendor`` names a
    library kernel for the same job ("cuBLAS", "SDPA flash"), ``triton`` is a
    plain Triton kernel written by hand. ``flops`` is given for kernels bound
    by tensor cores; a case without it is bound by memory bandwidth.
    """

    name: str
    helion_fn: Callable[..., Any]  # undecorated: each run decides how to autotune it
    args: tuple[Any, ...]
    eager: Callable[..., Any]
    vendor: tuple[str, Callable[..., Any]] | None = None
    triton: Callable[..., Any] | None = None
    flops: int | None = None


def load_example(name: str) -> Any:
    """The module of ``examples/<name>.py``."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench(fn: Callable[[], Any]) -> float:
    """Median milliseconds of ``fn()`` on the GPU; do_bench flushes the L2 cache before each
    run, so every kernel reads its inputs from memory."""
    return float(triton.testing.do_bench(fn, warmup=50, rep=300, return_mode="median"))


def tensor_bytes(value: Any) -> int:
    """Bytes of the tensors in ``value`` (nested tuples and lists), each element counted once."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(tensor_bytes(item) for item in value)
    return 0


def copy_source_bytes(moved_bytes: int) -> int:
    """The size of a copy's source that makes it move ``moved_bytes``: it reads and writes it."""
    return moved_bytes // 2


def copy_gbs(moved_bytes: int) -> float:
    """GB/s of a device-to-device copy (``dst.copy_(src)``) that moves ``moved_bytes``."""
    src = torch.empty(copy_source_bytes(moved_bytes), device="cuda", dtype=torch.uint8)
    dst = torch.empty_like(src)
    return 2 * tensor_bytes(src) / bench(lambda: dst.copy_(src)) / 1e6
