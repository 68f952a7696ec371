"""The cached call path: Triton launches that skip ``JITFunction.run`` once they can.

On the CPU the ``Launcher`` runs against a stand-in for a ``JITFunction``
(kernels there run under Triton's interpreter, which the fast path leaves
alone); the GPU tests run real kernels.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

import helion
import helion.language as hl
from helion.runtime import launcher as launcher_module
from helion.runtime.launcher import Launcher, fast_launches


class _CompiledKernel:
    def __init__(self, name: str, launches: list[tuple[Any, ...]]) -> None:
        self.name = name
        self.function = f"function {name}"
        self.packed_metadata = f"metadata {name}"
        self._launches = launches

    def run(self, *args: Any) -> None:
        self._launches.append(("direct", self.name, *args))


class _JitFunction:
    """What ``Launcher`` uses of a ``JITFunction``: ``params``, ``run`` and its binder.

    Specializes like Triton's binder in miniature: an int argument equal to 1
    is a different specialization from any other.
    """

    def __init__(self) -> None:
        self.params = ["x", "n", "BLOCK"]
        self.launches: list[tuple[Any, ...]] = []
        self.device_caches = {0: ({}, {}, None, None, self._binder)}

    @staticmethod
    def _binder(*args: Any, **options: Any) -> tuple[Any, list[Any], Any]:
        return {}, [("i32", "one" if arg == 1 else "") for arg in args], options

    def run(self, *args: Any, grid: Any, warmup: bool, **options: Any) -> _CompiledKernel:
        self.launches.append(("triton", grid, *args))
        return _CompiledKernel("n==1" if args[1] == 1 else "n", self.launches)


@pytest.fixture
def jit(monkeypatch: pytest.MonkeyPatch) -> _JitFunction:
    monkeypatch.setattr(launcher_module, "_current_device", lambda: 0)
    monkeypatch.setattr(launcher_module, "_current_stream", lambda device: 7)
    return _JitFunction()


def test_first_launch_goes_through_triton_then_directly(jit: _JitFunction) -> None:
    launch = Launcher(jit)
    launch[(4,)](10, 20, 32, num_warps=4)
    launch[(4, 2)](11, 20, 32, num_warps=4)
    assert jit.launches[0] == ("triton", (4,), 10, 20, 32)
    hooks = launcher_module._runtime_knobs
    assert jit.launches[1] == (
        "direct", "n", 4, 2, 1, 7, "function n", "metadata n", None,
        hooks.launch_enter_hook, hooks.launch_exit_hook, 11, 20, 32,
    )


def test_a_new_specialization_goes_through_triton(jit: _JitFunction) -> None:
    launch = Launcher(jit)
    launch[(1,)](10, 20, 32, num_warps=4)
    launch[(1,)](10, 1, 32, num_warps=4)
    launch[(1,)](10, 1, 32, num_warps=4)
    launch[(1,)](10, 21, 32, num_warps=4)
    assert [entry[:2] for entry in jit.launches] == [
        ("triton", (1,)),
        ("triton", (1,)),
        ("direct", "n==1"),
        ("direct", "n"),
    ]


def test_other_options_go_through_triton(jit: _JitFunction) -> None:
    launch = Launcher(jit)
    launch[(1,)](10, 20, 32, num_warps=4)
    launch[(1,)](10, 20, 32, num_warps=8)
    launch[(1,)](10, 20, num_warps=4)
    assert [entry[0] for entry in jit.launches] == ["triton", "triton", "triton"]


def test_launch_hooks_go_through_triton(jit: _JitFunction) -> None:
    from triton import knobs

    launch = Launcher(jit)
    launch[(1,)](10, 20, 32)

    def hook(metadata: Any) -> None:
        pass

    knobs.runtime.launch_enter_hook.add(hook)
    try:
        launch[(1,)](10, 20, 32)
    finally:
        knobs.runtime.launch_enter_hook.remove(hook)
    launch[(1,)](10, 20, 32)
    assert [entry[0] for entry in jit.launches] == ["triton", "triton", "direct"]


def test_host_function_gets_launchers_in_its_own_namespace(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triton.runtime

    monkeypatch.setattr(triton.runtime, "JITFunction", _JitFunction)
    namespace = {"_helion_k": jit}
    exec("def host(x):\n    _helion_k[(1,)](x, 5, 32)\n    return x\n", namespace)
    fast = fast_launches(namespace["host"])
    assert fast(3) == 3
    assert namespace["_helion_k"] is jit
    assert isinstance(fast.__globals__["_helion_k"], Launcher)
    assert jit.launches == [("triton", (1,), 3, 5, 32)]


# --- on a GPU ---------------------------------------------------------------


@helion.kernel(autotune_effort="none")
def scale_by(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * n
    return out


def _launchers(kernel: helion.Kernel, args: tuple[Any, ...]) -> list[Launcher]:
    run = kernel.bind(args)._run
    assert run is not None
    return [value for value in run.__globals__.values() if isinstance(value, Launcher)]


@pytest.mark.gpu
def test_calls_on_the_gpu_launch_directly_and_stay_correct() -> None:
    x = torch.randn(1000, device="cuda")
    for n in (3, 1, 16, 1, 3):  # n == 1 and n % 16 == 0 are Triton specializations
        torch.testing.assert_close(scale_by(x, n), x * n)
    (launcher,) = _launchers(scale_by, (x, 3))
    ((binder, compiled),) = launcher._by_device.values()
    assert len(compiled) == 3


@pytest.mark.gpu
def test_unaligned_tensor_of_the_same_shape_gets_its_own_kernel() -> None:
    base = torch.randn(1025, device="cuda")
    aligned, unaligned = base[:1024], base[1:]
    for x in (aligned, unaligned, aligned, unaligned):
        torch.testing.assert_close(scale_by(x, 2), x * 2)
    (launcher,) = _launchers(scale_by, (aligned, 2))
    ((binder, compiled),) = launcher._by_device.values()
    assert len(compiled) == 2


@pytest.mark.gpu
def test_launch_hooks_see_every_launch() -> None:
    from triton import knobs

    x = torch.randn(64, device="cuda")
    scale_by(x, 2)
    seen: list[Any] = []
    knobs.runtime.launch_enter_hook.add(seen.append)
    try:
        scale_by(x, 2)
        scale_by(x, 2)
    finally:
        knobs.runtime.launch_enter_hook.remove(seen.append)
    torch.cuda.synchronize()
    assert len(seen) == 2
