"""The cached call path: Triton launches that skip ``JITFunction.run`` once they can.

On the CPU the ``Launcher`` runs against a stand-in for a ``JITFunction``
that specializes with Triton's own specializer (kernels there run under
Triton's interpreter, which the fast path leaves alone); the GPU tests run
real kernels.
"""

from __future__ import annotations

import itertools
import types
from typing import Any

import pytest
import torch
from triton._C.libtriton import native_specialize_impl

import helion
import helion.language as hl
from helion.runtime import launcher as launcher_module
from helion.runtime.launcher import Launcher, fast_launches


class CUDABackend:
    """Stands for Triton's CUDA backend (the direct key reads tensors itself for it alone)."""

    supports_native_tensor_specialization = True


class _Param:
    def __init__(self, name: str, constexpr: bool = False) -> None:
        self.name = name
        self.is_constexpr = constexpr
        self.is_const = False
        self.do_not_specialize = False
        self.do_not_specialize_on_alignment = False


class _CLauncher:
    """What ``CompiledKernel.run`` is on CUDA: a ``CudaLauncher`` with its C ``launch``."""

    def __init__(self, kernel: _CompiledKernel, scratch: int = 0) -> None:
        self.kernel = kernel
        self.launch_cooperative_grid = False
        self.launch_pdl = False
        self.global_scratch_size = scratch
        self.profile_scratch_size = 0

    def launch(self, *args: Any) -> None:
        self.kernel.launches.append(("direct", self.kernel.name, *args))

    def __call__(self, *args: Any) -> None:
        self.kernel.launches.append(("run", self.kernel.name, *args))


class _CompiledKernel:
    def __init__(self, name: str, launches: list[tuple[Any, ...]], scratch: int = 0) -> None:
        self.name = name
        self.function = f"function {name}"
        self.packed_metadata = f"metadata {name}"
        self.launches = launches
        self.run = _CLauncher(self, scratch)


class _JitFunction:
    """What ``Launcher`` uses of a ``JITFunction``, specializing as Triton does.

    Each launch goes to the compiled kernel named by Triton's specialization
    of its arguments (and options), compiling a new one when needed.
    """

    def __init__(self, params: list[_Param], scratch: int = 0) -> None:
        self.params = params
        self.launches: list[tuple[Any, ...]] = []
        self.compiled: dict[Any, _CompiledKernel] = {}
        self.device_caches = {0: ({}, {}, None, CUDABackend(), None)}
        self.pre_run_hooks: list[Any] = []
        self.scratch = scratch

    def specialization(self, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        backend = self.device_caches[0][3]
        return tuple(
            ("constexpr", arg) if param.is_constexpr
            else native_specialize_impl(backend, arg, False, True, True)
            for param, arg in zip(self.params, args)
        ), str(options)

    def run(self, *args: Any, grid: Any, warmup: bool, **options: Any) -> _CompiledKernel:
        key = self.specialization(args, options)
        kernel = self.compiled.get(key)
        if kernel is None:
            kernel = _CompiledKernel(f"k{len(self.compiled)}", self.launches, self.scratch)
            self.compiled[key] = kernel
        self.launches.append(("triton", kernel.name, grid, *args))
        return kernel

    def __getitem__(self, grid: Any) -> Any:
        return lambda *args, **options: self.run(*args, grid=grid, warmup=False, **options)


def _params() -> list[_Param]:
    return [_Param("x"), _Param("out"), _Param("n"), _Param("BLOCK", constexpr=True)]


@pytest.fixture
def quiet_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher_module, "_current_device", lambda: 0)
    monkeypatch.setattr(launcher_module, "_current_stream", lambda device: 7)


@pytest.fixture
def jit(quiet_device: None) -> _JitFunction:
    return _JitFunction(_params())


def _kinds(jit: _JitFunction) -> list[str]:
    return [entry[0] for entry in jit.launches]


def test_first_launch_goes_through_triton_then_directly(jit: _JitFunction) -> None:
    x, out = torch.zeros(16), torch.zeros(16)
    launch = Launcher(jit)
    launch[(4,)](x, out, 20, 32, num_warps=4)
    launch[(4, 2)](x, out, 21, 32, num_warps=4)
    assert jit.launches[0] == ("triton", "k0", (4,), x, out, 20, 32)
    # The C launcher's arguments: grid, stream, function, cooperative, pdl,
    # scratch, metadata, launch metadata and hooks (none), then the
    # kernel's arguments with tensors as their addresses.
    assert jit.launches[1] == (
        "direct", "k0", 4, 2, 1, 7, "function k0", False, False, None, None,
        "metadata k0", None, None, None, x.data_ptr(), out.data_ptr(), 21, 32,
    )
    assert launch.direct_launches == 1


def _variants() -> list[tuple[Any, ...]]:
    """Arguments that Triton specializes differently, and some it does not."""
    base = torch.zeros(64)
    tensors = [base[:16], base[1:17], base[4:20], base.half()[:16], base.double()[8:24]]
    ints = [1, 16, 17, 32, -3, 2**40, 2**63 + 5, True, 2.5, None]
    blocks = [16, 32]
    return list(itertools.product(tensors, [base[:16], base[3:19]], ints, blocks))


def test_every_launch_gets_the_kernel_triton_would_choose(jit: _JitFunction) -> None:
    launch = Launcher(jit)
    variants = _variants()
    for args in variants + variants:
        launch[(1,)](*args, num_warps=4)
    triton_chose = {jit.specialization(args, {"num_warps": 4}) for args in variants}
    assert len(jit.compiled) == len(triton_chose)
    for args, launched in zip(variants + variants, jit.launches):
        expected = jit.compiled[jit.specialization(args, {"num_warps": 4})].name
        assert launched[1] == expected, args
    # Each specialization went through Triton once; every repeat was direct.
    assert _kinds(jit)[len(variants):] == ["direct"] * len(variants)


def test_other_options_go_through_triton(jit: _JitFunction) -> None:
    x = torch.zeros(16)
    launch = Launcher(jit)
    launch[(1,)](x, x, 20, 32, num_warps=4)
    launch[(1,)](x, x, 20, 32, num_warps=8)
    launch[(1,)](x, x, 20, num_warps=4)
    launch[(1,)](x, x, 20, 32, num_warps=4)
    assert _kinds(jit) == ["triton", "triton", "triton", "direct"]


def test_arguments_of_another_kind_go_through_triton(jit: _JitFunction) -> None:
    x = torch.zeros(16)
    launch = Launcher(jit)
    launch[(1,)](x, x, 20, 32)
    launch[(1,)](None, x, 20, 32)  # no tensor where the key reads one
    launch[(1,)](x, x, x, 32)  # a tensor where the key asks Triton's specializer
    launch[(1,)](x, x, 20, 32)
    launch[(1,)](x, x, x, 32)
    assert _kinds(jit) == ["triton", "triton", "triton", "direct", "direct"]
    assert len(jit.compiled) == 3


def test_a_grid_function_goes_through_triton(jit: _JitFunction) -> None:
    x = torch.zeros(16)
    launch = Launcher(jit)
    launch[(1,)](x, x, 20, 32)
    launch[lambda meta: (1,)](x, x, 20, 32)
    assert _kinds(jit) == ["triton", "triton"]


def test_launch_hooks_go_through_triton(jit: _JitFunction) -> None:
    from triton import knobs

    x = torch.zeros(16)
    launch = Launcher(jit)
    launch[(1,)](x, x, 20, 32)

    def hook(metadata: Any) -> None:
        pass

    knobs.runtime.launch_enter_hook.add(hook)
    try:
        launch[(1,)](x, x, 20, 32)
    finally:
        knobs.runtime.launch_enter_hook.remove(hook)
    jit.pre_run_hooks.append(hook)
    launch[(1,)](x, x, 20, 32)
    jit.pre_run_hooks.clear()
    launch[(1,)](x, x, 20, 32)
    assert _kinds(jit) == ["triton", "triton", "triton", "direct"]


def test_a_replaced_hook_goes_through_triton(jit: _JitFunction, monkeypatch: pytest.MonkeyPatch) -> None:
    from triton import knobs

    x = torch.zeros(16)
    launch = Launcher(jit)
    launch[(1,)](x, x, 20, 32)
    monkeypatch.setattr(knobs.runtime, "launch_exit_hook", print)
    launch[(1,)](x, x, 20, 32)
    monkeypatch.undo()
    launch[(1,)](x, x, 20, 32)
    assert _kinds(jit) == ["triton", "triton", "direct"]


def test_an_unknown_triton_version_always_goes_through_triton(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launcher_module, "DIRECT_TRITON_VERSIONS", ("9.9.",))
    x = torch.zeros(16)
    launch = Launcher(jit)
    for _ in range(3):
        launch[(1,)](x, x, 20, 32)
    assert _kinds(jit) == ["triton"] * 3


def test_a_failed_direct_launch_goes_through_triton(jit: _JitFunction) -> None:
    x = torch.zeros(16)
    launch = Launcher(jit)
    launch[(1,)](x, x, 20, 32)
    ((key, entry),) = launch._kernels.items()

    def fails(*args: Any) -> None:
        raise RuntimeError("launch failed")

    launch._kernels[key] = (fails, *entry[1:])
    launch[(1,)](x, x, 20, 32)  # Triton launches it, and the kernel is recorded again
    launch[(1,)](x, x, 20, 32)
    assert _kinds(jit) == ["triton", "triton", "direct"]


def test_a_kernel_with_scratch_memory_launches_through_its_run(quiet_device: None) -> None:
    jit = _JitFunction(_params(), scratch=128)
    x = torch.zeros(16)
    launch = Launcher(jit)
    launch[(2,)](x, x, 20, 32)
    launch[(2,)](x, x, 20, 32)
    assert jit.launches[1] == (
        "run", "k0", 2, 1, 1, 7, "function k0", "metadata k0", None, None, None,
        x.data_ptr(), x.data_ptr(), 20, 32,
    )


def test_host_function_gets_launchers_in_its_own_namespace(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triton.runtime

    monkeypatch.setattr(triton.runtime, "JITFunction", _JitFunction)
    namespace = {"_helion_k": jit}
    exec("def host(x):\n    _helion_k[(1,)](x, x, 5, 32)\n    return x\n", namespace)
    fast = fast_launches(namespace["host"])
    x = torch.zeros(4)
    assert fast(x) is x
    assert namespace["_helion_k"] is jit
    assert isinstance(fast.__globals__["_helion_k"], Launcher)
    assert jit.launches == [("triton", "k0", (1,), x, x, 5, 32)]


def _sited_host(
    monkeypatch: pytest.MonkeyPatch, jit: Any, source: str
) -> tuple[Any, dict[str, Any]]:
    """The host function ``source`` defines, made fast from its source, and its namespace."""
    import triton.runtime

    monkeypatch.setattr(triton.runtime, "JITFunction", _JitFunction)
    namespace = {"_helion_k": jit}
    exec(compile(source, "<host>", "exec"), namespace)
    fast = fast_launches(namespace["host"], source)
    return fast, fast.__globals__


_SITED = (
    "def host(x, out, n):\n"
    "    _helion_k[(4,)](x, out, n, 32, num_warps=4, num_stages=2)\n"
    "    return out\n"
)


def test_a_launch_statement_calls_its_site(jit: _JitFunction, monkeypatch: pytest.MonkeyPatch) -> None:
    host, namespace = _sited_host(monkeypatch, jit, _SITED)
    x, out = torch.zeros(16), torch.zeros(16)
    assert host(x, out, 20) is out
    host(x, out, 21)
    site = namespace["_helion_k_site"]
    assert isinstance(site, Launcher) and site.jit is jit
    assert jit.launches[0] == ("triton", "k0", (4, 1, 1), x, out, 20, 32)
    # The site's options went to Triton; the direct launch is the kernel Triton chose.
    assert jit.compiled.popitem()[0][1] == str({"num_warps": 4, "num_stages": 2})
    assert jit.launches[1] == (
        "direct", "k0", 4, 1, 1, 7, "function k0", False, False, None, None,
        "metadata k0", None, None, None, x.data_ptr(), out.data_ptr(), 21, 32,
    )
    assert site.direct_launches == 1
    # The literal block size is the same at every launch: the key leaves it out.
    ((key, _),) = site._kernels.items()
    assert 32 not in key[1:] and len(key) == 1 + 3 + 3 + 1


def test_a_site_launches_every_kind_of_argument_as_triton_would(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "def host(x, out, n, block):\n"
        "    _helion_k[(1, 2)](x, out, n, block, num_warps=4)\n"
    )
    host, namespace = _sited_host(monkeypatch, jit, source)
    variants = _variants()
    for args in variants + variants:
        host(*args)
    triton_chose = {jit.specialization(args, {"num_warps": 4}) for args in variants}
    assert len(jit.compiled) == len(triton_chose)
    for args, launched in zip(variants + variants, jit.launches):
        expected = jit.compiled[jit.specialization(args, {"num_warps": 4})].name
        assert launched[1] == expected, args
    assert _kinds(jit)[len(variants):] == ["direct"] * len(variants)
    assert namespace["_helion_k_site"].direct_launches == _kinds(jit).count("direct")


def test_a_keyed_site_reads_only_the_alignment_of_parameters_it_passes_on(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triton.runtime

    monkeypatch.setattr(triton.runtime, "JITFunction", _JitFunction)
    source = (
        "def host(x, y, n):\n"
        "    out = torch.empty_like(x)\n"
        "    y = y[1:]\n"
        "    _helion_k[(1,)](x, out, n, 32, num_warps=4)\n"
        "    _helion_k[(1,)](y, out, n, 32, num_warps=4)\n"
        "    return out\n"
    )
    namespace = {"_helion_k": jit, "torch": torch}
    exec(compile(source, "<host>", "exec"), namespace)
    host = fast_launches(namespace["host"], source, keyed=True)
    x, y = torch.zeros(16), torch.zeros(17)
    host(x, y, 20)
    host(x, y, 20)
    keyed, rebound = (host.__globals__[name] for name in ("_helion_k_site", "_helion_k_site_1"))
    # x: alignment only; out (made by the host function): dtype, device, alignment.
    ((key, _),) = keyed._kernels.items()
    assert key == (0, True, torch.float32, -1, True, jit.specialization((20,), {})[0][0])
    # y is rebound before its launch: read in full.
    ((key, _),) = rebound._kernels.items()
    assert key[1:4] == (torch.float32, -1, False)
    assert keyed.direct_launches == rebound.direct_launches == 1
    # Unkeyed, the same host function reads every tensor in full.
    unkeyed = fast_launches(namespace["host"], source)
    unkeyed(x, y, 20)
    ((key, _),) = unkeyed.__globals__["_helion_k_site"]._kernels.items()
    assert key[1:4] == (torch.float32, -1, True)


def test_a_site_name_avoids_the_names_host_code_uses(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "def host(x, out, n):\n"
        "    _helion_k_site = n + 1\n"
        "    _helion_k[(4,)](x, out, _helion_k_site, 32, num_warps=4)\n"
        "    return _helion_k_site\n"
    )
    host, namespace = _sited_host(monkeypatch, jit, source)
    x = torch.zeros(16)
    assert host(x, x, 2) == 3
    assert host(x, x, 2) == 3
    assert isinstance(namespace["_helion_k_site_1"], Launcher)
    assert _kinds(jit) == ["triton", "direct"]
    assert jit.launches[1][-2] == 3


def test_a_launch_with_a_computed_option_keeps_the_generic_path(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "def host(x, warps):\n"
        "    _helion_k[(4,)](x, x, 5, 32, num_warps=warps)\n"
    )
    host, namespace = _sited_host(monkeypatch, jit, source)
    x = torch.zeros(16)
    for warps in (4, 4, 8, 4):
        host(x, warps)
    assert not any(name.endswith("_site") for name in namespace)
    assert _kinds(jit) == ["triton", "direct", "triton", "direct"]


def test_a_sited_host_keeps_its_defaults_lines_and_namespace(
    jit: _JitFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "\n"
        "def host(x, n=5):\n"
        "    _helion_k[(4,)](x, x, n, 32, num_warps=4)\n"
        "    raise ValueError(n)\n"
    )
    host, namespace = _sited_host(monkeypatch, jit, source)
    with pytest.raises(ValueError) as raised:
        host(torch.zeros(16))
    assert raised.value.args == (5,)
    assert raised.traceback[-1].lineno + 1 == 4  # the source's own line
    assert namespace["host"] is not host  # the module's own function keeps its name


@helion.kernel(autotune_effort="none", static_shapes=False)
def add_any_shape(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="stands in for the interpreter's kernels of a CPU run"
)
def test_generated_host_code_launches_through_its_sites(
    quiet_device: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiler's own host code: the kernel and its int64 twin each launch through a site."""
    import triton.runtime

    from helion import _loader

    x = torch.randn(8, 16)
    code = add_any_shape.bind((x, x)).to_triton_code()
    host = getattr(_loader.load_module(code), "add_any_shape")
    namespace = dict(host.__globals__)
    stand_ins = {}
    for name, value in host.__globals__.items():
        if type(value).__name__ == "InterpretedFunction":
            params = [_Param(p.name, p.is_constexpr) for p in triton.runtime.JITFunction(value.fn).params]
            namespace[name] = stand_ins[name] = _JitFunction(params)
    assert sorted(stand_ins) == ["_helion_add_any_shape", "_helion_add_any_shape_int64"]
    host = types.FunctionType(host.__code__, namespace, host.__name__)
    monkeypatch.setattr(triton.runtime, "JITFunction", _JitFunction)
    fast = fast_launches(host, code)
    sites = {name: value for name, value in fast.__globals__.items() if name.endswith("_site")}
    assert {site.jit for site in sites.values()} == set(stand_ins.values())
    jit = stand_ins["_helion_add_any_shape"]
    y = torch.randn(8, 16)
    outs = [fast(x, y), fast(x, y), fast(x[:, 1:], y[:, 1:])]
    assert _kinds(jit) == ["triton", "direct", "triton"]
    direct = jit.launches[1]
    assert direct[2:5] == (1, 1, 1)  # the grid, padded to three
    assert direct[15:18] == (x.data_ptr(), y.data_ptr(), outs[1].data_ptr())
    assert not stand_ins["_helion_add_any_shape_int64"].launches


# --- on a GPU ---------------------------------------------------------------


@helion.kernel(autotune_effort="none")
def scale_by(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * n
    return out


def _launchers(kernel: helion.Kernel, args: tuple[Any, ...]) -> list[Launcher]:
    run = kernel.bind(args).keyed_run()  # what cached calls run
    assert run is not None
    return [value for value in run.__globals__.values() if isinstance(value, Launcher)]


@helion.kernel(autotune_effort="none", static_shapes=False)
def scale_rows(x: torch.Tensor, n: int) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] * n
    return out


@helion.kernel(config=helion.Config(block_sizes=[16, 32], indexing="tensor_descriptor"))
def copy_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + 1
    return out


def _direct_launches(kernel: helion.Kernel, args: tuple[Any, ...]) -> int:
    return sum(launcher.direct_launches for launcher in _launchers(kernel, args))


def _recorded(kernel: helion.Kernel, args: tuple[Any, ...]) -> int:
    return sum(len(launcher._kernels) for launcher in _launchers(kernel, args))


@pytest.mark.gpu
def test_calls_on_the_gpu_launch_directly_and_stay_correct() -> None:
    x = torch.randn(1000, device="cuda")
    for n in (3, 1, 16, 1, 3, 16):  # n == 1 and n % 16 == 0 are Triton specializations
        torch.testing.assert_close(scale_by(x, n), x * n)
    assert _recorded(scale_by, (x, 3)) == 3
    assert _direct_launches(scale_by, (x, 3)) == 3


@pytest.mark.gpu
def test_unaligned_tensor_of_the_same_shape_gets_its_own_kernel() -> None:
    base = torch.randn(1028, device="cuda")
    aligned, unaligned = base[:1024], base[1:1025]
    # base[4:] starts 16 bytes in: aligned too, so it shares aligned's kernel.
    for x in (aligned, unaligned, aligned, unaligned, base[4:1028]):
        torch.testing.assert_close(scale_by(x, 2), x * 2)
    assert _recorded(scale_by, (aligned, 2)) == 2
    assert _direct_launches(scale_by, (aligned, 2)) == 3


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_sizes_and_strides_that_change_triton_specialization(dtype: torch.dtype) -> None:
    """Without static shapes sizes and strides are kernel arguments, each
    specialized by Triton (a multiple of 16 or not); every call is checked
    after a first call of its kind has made the path direct."""
    base = torch.randn(80, 97, device="cuda", dtype=dtype)
    inputs = [
        base[:64, :64],  # sizes and strides multiples of 16... except the row stride 97
        base[:33, :17],
        base[1:34, 1:18],  # an unaligned start
        base[:64, :64].t(),  # transposed strides
        torch.randn(48, 32, device="cuda", dtype=dtype),  # every stride a multiple of 16
        torch.randn(48, 32, device="cuda", dtype=dtype)[:, 1:],
    ]
    for _ in range(3):
        for x in inputs:
            for n in (1, 2, 16):
                torch.testing.assert_close(scale_rows(x, n), x * n)
    launched = sum(_direct_launches(scale_rows, (x, 2)) for x in inputs[:1])
    assert launched > 0


@pytest.mark.gpu
def test_direct_launches_are_captured_by_cuda_graphs() -> None:
    x = torch.randn(4096, device="cuda")
    scale_by(x, 5)  # compiles and records before capture
    scale_by(x, 5)
    before = _direct_launches(scale_by, (x, 5))
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        captured = scale_by(x, 5)
    assert _direct_launches(scale_by, (x, 5)) == before + 1
    for _ in range(2):
        x.copy_(torch.randn_like(x))
        graph.replay()
        torch.cuda.synchronize()
        torch.testing.assert_close(captured, x * 5)


@pytest.mark.gpu
def test_direct_launches_run_on_the_current_stream() -> None:
    x = torch.randn(1 << 20, device="cuda")
    scale_by(x, 3)
    torch.cuda.synchronize()
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        torch.cuda._sleep(10_000_000)  # the side stream is busy: the launch must queue behind it
        y = scale_by(x, 3)
    stream.synchronize()
    torch.testing.assert_close(y, x * 3)


@pytest.mark.gpu
def test_a_kernel_with_tensor_descriptors_launches_repeatedly() -> None:
    for shape in ((64, 128), (64, 128), (96, 64), (96, 64)):
        x = torch.randn(*shape, device="cuda")
        torch.testing.assert_close(copy_2d(x), x + 1)


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


@pytest.mark.gpu
def test_cached_calls_launch_through_the_host_codes_site() -> None:
    x = torch.randn(1000, device="cuda")
    for _ in range(3):
        torch.testing.assert_close(scale_by(x, 3), x * 3)
    run = scale_by.bind((x, 3)).keyed_run()  # what cached calls run
    assert run is not None
    sites = [value for name, value in run.__globals__.items()
             if name.endswith("_site") and isinstance(value, Launcher)]
    assert len(sites) == 1 and sites[0].direct_launches >= 2


@pytest.mark.gpu
def test_the_int64_twin_takes_over_on_a_cached_call() -> None:
    """One specialization (sizes symbolic), launched with sizes on both sides of int32."""
    small = torch.ones(64, 32, dtype=torch.int8, device="cuda")
    big = torch.ones(2**16 + 1, 2**15, dtype=torch.int8, device="cuda")  # past 2**31 elements
    assert add_any_shape.specialization_key((small, small)) == (
        add_any_shape.specialization_key((big, big))
    )
    for x in (small, small, big, small, big):
        out = add_any_shape(x, x)
        assert out.shape == x.shape and bool((out == 2).all())
        del out
    torch.cuda.synchronize()

