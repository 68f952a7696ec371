"""Bad inputs: each raises the right ``helion.exc`` class with a useful message.

A compiler diagnostic names the kernel, shows the offending source line with a
caret line under the offending code, says what to do, and carries no trace of
the compiler's insides. After a failure the kernel object stays usable.
"""

from __future__ import annotations

import linecache
import re
import warnings

import numpy as np
import pytest
import torch

import helion
import helion.language as hl
from helion import _core, exc

# Kernels that get past compilation are launched: on CUDA when there is one,
# otherwise on the CPU under Triton's interpreter.
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, device=DEVICE)


# --- checking a diagnostic ----------------------------------------------------------

_HEADER = re.compile(r"in kernel '(?P<name>\w+)' at (?P<file>.+?):(?P<line>\d+):?$")
_CARET = re.compile(r"^(?P<indent> *)(?P<carets>\^+) *$")
# Words that introduce a suggestion ("use ...", "put ...", "index it ...").
_ADVICE = re.compile(
    r"\b(use|put|move|index|store|define|pass|write|rewrite|replace|instead|declare|"
    r"must|should|tile each|iterate over|supported (are|is))\b",
    re.IGNORECASE,
)


def _assert_no_internal_leak(error: BaseException, *, internal_ok: bool = False) -> None:
    """No compiler-internal error is chained to, or printed in, a user error."""
    cause, context = error.__cause__, error.__context__
    assert cause is None or not isinstance(cause, _core.InternalError), repr(cause)
    if context is not None:
        if not internal_ok:
            assert not isinstance(context, _core.InternalError), repr(context)
        # A chained core error would print a second traceback under the user's one.
        assert error.__suppress_context__, f"context is shown: {context!r}"
    if not internal_ok:
        assert "internal compiler error" not in str(error).lower(), str(error)
    assert "Traceback (most recent call last)" not in str(error)


def _caret_span(message: str) -> tuple[str, int, int, str, int, str]:
    """(source line, caret start, caret end, file, line number, explanation) of a diagnostic."""
    lines = message.splitlines()
    header = next((i for i, line in enumerate(lines) if _HEADER.search(line)), None)
    assert header is not None, f"no `in kernel '...' at file:line` header:\n{message}"
    match = _HEADER.search(lines[header])
    assert match is not None
    for i in range(header + 1, len(lines) - 1):
        caret = _CARET.match(lines[i + 1])
        if caret and lines[i].strip():
            start = len(caret["indent"])
            end = start + len(caret["carets"])
            explanation = "\n".join(lines[i + 2 :])
            return lines[i], start, end, match["file"], int(match["line"]), explanation
    raise AssertionError(f"no source line with a caret line under it:\n{message}")


def check_diagnostic(
    error: BaseException,
    cls: type[exc.Base],
    kernel: str,
    region: str,
    *,
    mentions: tuple[str, ...] = (),
    advice: str | re.Pattern[str] | None = _ADVICE,
) -> str:
    """Checks class, kernel name, source line + caret under ``region``, advice; returns str."""
    assert isinstance(error, cls), f"expected {cls.__name__}, got {type(error).__name__}: {error}"
    assert isinstance(error, exc.Base)
    message = str(error)
    assert f"in kernel '{kernel}'" in message, message
    source, start, end, filename, lineno, explanation = _caret_span(message)
    # The shown line is the real source line the header points to.
    assert filename == __file__, message
    assert linecache.getline(filename, lineno).rstrip("\n").strip() == source.strip(), message
    assert region in source, f"{region!r} not on the shown line:\n{message}"
    region_start = source.index(region)
    region_end = region_start + len(region)
    assert region_start <= start < end <= region_end, (
        f"caret columns {start}..{end} are not under {region!r} "
        f"(columns {region_start}..{region_end}):\n{message}"
    )
    for word in mentions:
        assert word in explanation, f"{word!r} not in the explanation:\n{message}"
    if advice is not None:
        # Judged on the text under the caret line, not on the quoted source.
        assert re.search(advice, explanation), f"no advice on what to do:\n{message}"
    _assert_no_internal_leak(error)
    return message


def raises_twice(cls: type[BaseException], kernel: helion.Kernel, *args: object) -> BaseException:
    """Calls twice: the same error both times, not a half-built kernel the second time."""
    with pytest.raises(cls) as first:
        kernel(*args)
    with pytest.raises(cls) as second:
        kernel(*args)
    assert str(first.value) == str(second.value)
    return first.value


# --- kernels (module level: the compiler reads their source) ----------------------------


@helion.kernel(autotune_effort="none")
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


@helion.kernel(autotune_effort="none", static_shapes=False)
def matmul_dynamic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


@helion.kernel(autotune_effort="none")
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


@helion.kernel(autotune_effort="none")
def row_sum(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out


@helion.kernel(autotune_effort="none")
def comprehension_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        values = [x[tile] for _ in range(2)]
        out[tile] = values[0]
    return out


@helion.kernel(autotune_effort="none")
def generator_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = sum(x[tile] for _ in range(2))
    return out


@helion.kernel(autotune_effort="none")
def while_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        while False:
            v = v + 1
        out[tile] = v
    return out


@helion.kernel(autotune_effort="none")
def with_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        with torch.no_grad():
            out[tile] = x[tile]
    return out


@helion.kernel(autotune_effort="none")
def try_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        try:  # noqa: SIM105
            out[tile] = x[tile]
        except RuntimeError:
            pass
    return out


@helion.kernel(autotune_effort="none")
def def_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):

        def plus_one(v):
            return v + 1

        out[tile] = plus_one(x[tile])
    return out


@helion.kernel(autotune_effort="none")
def cummax_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.cummax(x[tile, :], dim=1).values
    return out


@helion.kernel(autotune_effort="none")
def sort_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile, :] = torch.sort(x[tile, :], dim=1).values
    return out


@helion.kernel(autotune_effort="none")
def hl_zeros_on_host(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    scratch = hl.zeros([4], dtype=torch.float32)  # noqa: F841
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out


@helion.kernel(autotune_effort="none")
def tensor_loop_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        acc = x[tile]
        for _ in x:
            acc = acc + 1
        out[tile] = acc
    return out


@helion.kernel(autotune_effort="none")
def tiles_do_not_broadcast(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m = x.size(0)
    n = y.size(0)
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m] = x[tile_m] + y[tile_n]
    return out


@helion.kernel(autotune_effort="none")
def two_tiles_on_1d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_a, tile_b in hl.tile([x.size(0), x.size(0)]):
        out[tile_a] = x[tile_a, tile_b]
    return out


@helion.kernel(autotune_effort="none")
def host_tensor_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x
    return out


@helion.kernel(autotune_effort="none")
def assigns_host_variable(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    count = 0
    for tile in hl.tile(x.size(0)):
        count = 1  # noqa: F841
        out[tile] = x[tile]
    return out


@helion.kernel(autotune_effort="none")
def no_device_loop(x: torch.Tensor) -> torch.Tensor:
    return x + 1


@helion.kernel(autotune_effort="none")
def return_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
        return out
    return out


@helion.kernel(autotune_effort="none")
def undefined_name_on_device(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + not_defined_anywhere  # noqa: F821
    return out


# --- unsupported syntax on the device ------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "region", "mentions"),
    [
        (comprehension_on_device, "[x[tile] for _ in range(2)]", ("comprehension",)),
        (generator_on_device, "x[tile] for _ in range(2)", ("comprehension",)),
        (with_on_device, "with torch.no_grad():", ("with",)),
        (try_on_device, "try:", ("try",)),
        (def_on_device, "def plus_one(v):", ("def",)),
    ],
    ids=["list-comprehension", "generator", "with", "try", "nested-def"],
)
def test_unsupported_syntax(kernel: helion.Kernel, region: str, mentions: tuple[str, ...]) -> None:
    error = raises_twice(exc.UnsupportedSyntax, kernel, randn(16))
    check_diagnostic(error, exc.UnsupportedSyntax, kernel.name, region, mentions=mentions)


def test_while_on_device() -> None:
    """``while`` on the device is P1: it runs correctly or is refused with a diagnostic."""
    x = randn(16)
    try:
        result = while_on_device(x)
    except exc.UnsupportedSyntax as error:
        check_diagnostic(
            error, exc.UnsupportedSyntax, "while_on_device", "while False:", mentions=("while",)
        )
        raises_twice(exc.UnsupportedSyntax, while_on_device, x)
    else:
        torch.testing.assert_close(result, x)


# --- unsupported ops -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "op", "region"),
    [
        (cummax_on_device, "torch.cummax", "torch.cummax(x[tile, :], dim=1)"),
        (sort_on_device, "torch.sort", "torch.sort(x[tile, :], dim=1)"),
    ],
    ids=["cummax", "sort"],
)
def test_unsupported_op(kernel: helion.Kernel, op: str, region: str) -> None:
    error = raises_twice(exc.UnsupportedOp, kernel, randn(8, 16))
    # SPEC: names the op and what is supported.
    check_diagnostic(
        error,
        exc.UnsupportedOp,
        kernel.name,
        region,
        mentions=(op,),
        advice=r"\bsupported\b.*:|supported (are|is|ops)",
    )


# --- hl outside a kernel ------------------------------------------------------------------------


def test_hl_called_from_plain_python() -> None:
    with pytest.raises(exc.NotInsideKernel) as info:
        hl.zeros([4], dtype=torch.float32)
    message = str(info.value)
    assert "hl.zeros" in message and "inside" in message and "hl.tile" in message
    _assert_no_internal_leak(info.value)
    with pytest.raises(exc.NotInsideKernel, match=r"hl\.tile"):
        for _ in hl.tile(4):
            pass


def test_hl_called_from_host_code() -> None:
    x = randn(16)
    error = raises_twice(exc.NotInsideKernel, hl_zeros_on_host, x)
    check_diagnostic(
        error,
        exc.NotInsideKernel,
        "hl_zeros_on_host",
        "hl.zeros([4], dtype=torch.float32)",
        mentions=("hl.zeros", "hl.tile"),
        advice=r"only be called inside",
    )


# --- loops -------------------------------------------------------------------------------------


def test_for_loop_on_device_not_over_hl_tile() -> None:
    error = raises_twice(exc.InvalidDeviceForLoop, tensor_loop_on_device, randn(16))
    check_diagnostic(
        error,
        exc.InvalidDeviceForLoop,
        "tensor_loop_on_device",
        "for _ in x:",
        mentions=("hl.tile",),
    )


def test_no_device_loop() -> None:
    error = raises_twice(exc.NoDeviceLoopsInKernel, no_device_loop, randn(16))
    check_diagnostic(
        error,
        exc.NoDeviceLoopsInKernel,
        "no_device_loop",
        "def no_device_loop(x: torch.Tensor) -> torch.Tensor:",
        mentions=("hl.tile",),
    )


def test_return_inside_device_loop() -> None:
    error = raises_twice(exc.NotAllowedOnDevice, return_on_device, randn(16))
    check_diagnostic(
        error,
        exc.NotAllowedOnDevice,
        "return_on_device",
        "return out",
        mentions=("return",),
    )


# --- shapes ------------------------------------------------------------------------------------


def _matmul_ok(kernel: helion.Kernel) -> None:
    x = randn(32, 48)
    y = randn(48, 40)
    # On a GPU the kernel's float32 dot runs in tf32 (the default dot_precision).
    tolerance = 5e-2 if x.is_cuda else 1e-3
    torch.testing.assert_close(kernel(x, y), x @ y, rtol=tolerance, atol=tolerance)


def test_matmul_k_mismatch_static_shapes() -> None:
    # k of x is 60, k of y is 64: tiling k by y's size would read past x's rows.
    x = randn(64, 60)
    y = randn(64, 60)
    # A compile-time error: binding alone already raises, nothing is launched.
    with pytest.raises(exc.ShapeMismatch) as info:
        matmul.bind((x, y))
    error = raises_twice(exc.ShapeMismatch, matmul, x, y)
    assert str(error) == str(info.value)
    check_diagnostic(
        error,
        exc.ShapeMismatch,
        "matmul",
        "torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])",
        mentions=("60", "64"),
    )
    _matmul_ok(matmul)


def _dynamic_mismatch(x: torch.Tensor, y: torch.Tensor) -> BaseException:
    """The mismatched call raises (host assert or ShapeMismatch) and returns nothing."""
    result = "not set"
    with pytest.raises((AssertionError, exc.ShapeMismatch)) as info:
        result = matmul_dynamic(x, y)
    assert result == "not set"
    error = info.value
    if isinstance(error, exc.ShapeMismatch):
        check_diagnostic(
            error,
            exc.ShapeMismatch,
            "matmul_dynamic",
            "torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])",
            mentions=(str(x.size(1)), str(y.size(0))),
        )
    else:
        _assert_no_internal_leak(error)
    return error


def test_matmul_k_mismatch_dynamic_shapes_first_call() -> None:
    matmul_dynamic.reset()
    error = _dynamic_mismatch(randn(64, 60), randn(64, 60))
    # Today this is a compile-time ShapeMismatch (sizes equal at the first call are
    # treated as equal symbols); a host guard raising AssertionError is also fine.
    assert isinstance(error, (exc.ShapeMismatch, AssertionError))
    _matmul_ok(matmul_dynamic)


def test_matmul_k_mismatch_dynamic_shapes_after_a_good_call() -> None:
    """A kernel compiled for matching k must not be reused for mismatched k."""
    matmul_dynamic.reset()
    _matmul_ok(matmul_dynamic)
    # Same size buckets (all >= 2) as the good call.
    _dynamic_mismatch(randn(64, 60), randn(64, 60))
    _dynamic_mismatch(randn(32, 40), randn(48, 40))
    _matmul_ok(matmul_dynamic)


def test_elementwise_shape_mismatch() -> None:
    x = randn(16, 8)
    with pytest.raises(exc.ShapeMismatch) as info:
        add(x, randn(8, 8))
    check_diagnostic(info.value, exc.ShapeMismatch, "add", "x[tile] + y[tile]", mentions=("y",))
    torch.testing.assert_close(add(x, x), x + x)


def test_tiles_that_do_not_broadcast() -> None:
    x = randn(16)
    y = randn(32)
    error = raises_twice(exc.ShapeMismatch, tiles_do_not_broadcast, x, y)
    check_diagnostic(
        error,
        exc.ShapeMismatch,
        "tiles_do_not_broadcast",
        "x[tile_m] + y[tile_n]",
        mentions=("tile_m", "tile_n"),
    )


def test_two_tiles_index_a_1d_tensor() -> None:
    error = raises_twice(exc.RankMismatch, two_tiles_on_1d, randn(16))
    check_diagnostic(
        error,
        exc.RankMismatch,
        "two_tiles_on_1d",
        "x[tile_a, tile_b]",
        mentions=("rank 1", "2"),
        advice=r"rank 1 but is indexed with 2|index it with|one index per dimension",
    )


# --- host and device variables ------------------------------------------------------------------


def test_host_tensor_used_directly_on_device() -> None:
    x = randn(16)
    error = raises_twice(exc.HostTensorDirectUsage, host_tensor_on_device, x)
    check_diagnostic(
        error,
        exc.HostTensorDirectUsage,
        "host_tensor_on_device",
        "out[tile] = x",
        mentions=("'x'", "x[tile]"),
    )


def test_assign_host_variable_on_device() -> None:
    error = raises_twice(exc.CannotModifyHostVariableOnDevice, assigns_host_variable, randn(16))
    check_diagnostic(
        error,
        exc.CannotModifyHostVariableOnDevice,
        "assigns_host_variable",
        "count = 1",
        mentions=("'count'",),
    )


def test_undefined_name_on_device() -> None:
    error = raises_twice(exc.Base, undefined_name_on_device, randn(16))
    check_diagnostic(
        error,
        exc.UndefinedVariable,
        "undefined_name_on_device",
        "not_defined_anywhere",
        mentions=("not_defined_anywhere",),
    )


@pytest.mark.gpu
def test_tensors_on_different_devices() -> None:
    x = torch.randn(16, device="cuda")
    y = torch.randn(16, device="cpu")
    with pytest.raises(exc.Base) as info:
        add(x, y)
    message = str(info.value)
    assert "add" in message and "device" in message, message
    _assert_no_internal_leak(info.value)
    torch.testing.assert_close(add(x, x), x + x)


# --- arguments that are not what the kernel uses them as -------------------------------------


_NOT_TENSORS = [
    pytest.param(None, "NoneType", id="None"),
    pytest.param(3, "int", id="int"),
    pytest.param(2.5, "float", id="float"),
    pytest.param("text", "str", id="str"),
    pytest.param(np.ones(16, dtype=np.float32), "numpy.ndarray", id="ndarray"),
]


@pytest.mark.parametrize(("value", "type_name"), _NOT_TENSORS)
def test_non_tensor_argument_used_as_tensor_on_host(value: object, type_name: str) -> None:
    error = raises_twice(exc.InvalidArgument, add, value, randn(16))
    assert isinstance(error, TypeError)
    check_diagnostic(
        error,
        exc.InvalidArgument,
        "add",
        "torch.empty_like(x)",
        mentions=("argument 'x'", "torch.Tensor", f"got {type_name}"),
    )


@pytest.mark.parametrize(("value", "type_name"), _NOT_TENSORS)
def test_non_tensor_argument_used_as_tensor_on_device(value: object, type_name: str) -> None:
    error = raises_twice(exc.InvalidArgument, add, randn(16), value)
    check_diagnostic(
        error,
        exc.InvalidArgument,
        "add",
        "y[tile]",
        mentions=("argument 'y'", "torch.Tensor", f"got {type_name}"),
    )


def test_non_tensor_argument_whose_size_is_read() -> None:
    error = raises_twice(exc.InvalidArgument, row_sum, None)
    check_diagnostic(
        error, exc.InvalidArgument, "row_sum", "x.size()", mentions=("argument 'x'", "NoneType")
    )


@helion.kernel(autotune_effort="none")
def optional_check(x: torch.Tensor, other: torch.Tensor | None) -> torch.Tensor:
    if other is not None:
        assert other.size(0) == x.size(0), "other must be as long as x"
    out = torch.empty_like(x)
    for tile in hl.tile(out.size(0)):
        out[tile] = x[tile] * 2
    return out


def test_none_argument_that_host_code_does_not_use_as_tensor() -> None:
    """Also: the names pytest's assert rewriting adds ("@py_builtins") are not globals."""
    x = randn(16)
    torch.testing.assert_close(optional_check(x, None), x * 2)


def test_tensors_on_different_devices_on_cpu() -> None:
    """A meta tensor beside a CPU one: the compiler names both devices."""
    error = raises_twice(exc.DeviceMismatch, add, randn(16), torch.randn(16, device="meta"))
    check_diagnostic(error, exc.DeviceMismatch, "add", "y[tile]", mentions=("meta", DEVICE))


# --- the kernel's signature and decorator --------------------------------------------------------


def test_star_args_kernel() -> None:
    with pytest.raises(exc.UnsupportedSignature) as info:

        @helion.kernel(autotune_effort="none")
        def star_args(*tensors: torch.Tensor) -> torch.Tensor:
            out = torch.empty_like(tensors[0])
            for tile in hl.tile(out.size(0)):
                out[tile] = tensors[0][tile]
            return out

    message = str(info.value)
    assert "*tensors" in message and "positional" in message, message
    check_diagnostic(
        info.value,
        exc.UnsupportedSignature,
        "star_args",
        "*tensors: torch.Tensor",
    )


def test_config_and_configs_together() -> None:
    with pytest.raises(exc.Base) as info:
        helion.kernel(
            config=helion.Config(block_sizes=[16]), configs=[helion.Config(block_sizes=[32])]
        )
    message = str(info.value)
    assert "config=" in message and "configs=" in message, message
    _assert_no_internal_leak(info.value)


# --- invalid configs -------------------------------------------------------------------------


_MATMUL_ARGS = (randn(64, 32), randn(32, 48))


def _nested(depth: int) -> list:
    value: list = [16]
    for _ in range(depth):
        value = [value]
    return value
_ROW_SUM_ARGS = (randn(8, 32),)


@pytest.mark.parametrize(
    ("kernel", "config", "field", "value", "allowed"),
    [
        (matmul, {"block_sizes": [[32, 32]]}, "block_sizes", "1", "2"),
        (matmul, {"block_sizes": [32, 32, 16, 16]}, "block_sizes", "", ""),
        (matmul, {"block_sizes": [[32, 24], [16]]}, "block_sizes", "24", "power of two"),
        (matmul, {"block_sizes": [[32, 32], [8]]}, "block_sizes", "8", "16"),
        (matmul, {"block_sizes": [[8, 32], [16]]}, "block_sizes", "8", "16"),
        (matmul, {"loop_orders": [[0, 0]]}, "loop_orders", "[0, 0]", "permutation"),
        (matmul, {"loop_orders": [[0, 1], [1, 0]]}, "loop_orders", "2", "1"),
        (row_sum, {"reduction_loops": [None, 16]}, "reduction_loops", "2", "1"),
        (matmul, {"indexing": "bogus_ptr"}, "indexing", "bogus_ptr", "block_ptr"),
        (matmul, {"num_warps": 3}, "num_warps", "3", "power of two"),
        (matmul, {"num_stages": 0}, "num_stages", "0", "1"),
        (matmul, {"l2_grouping": 3}, "l2_grouping", "3", "power of two"),
        (matmul, {"block_sizez": [[32, 32], [16]]}, "block_sizez", "block_sizez", "block_sizes"),
        (matmul, {"use_yz_grid": "yes"}, "use_yz_grid", "yes", "true"),
        (matmul, {"l2_grouping": 2**40}, "l2_grouping", str(2**40), "64"),
        (matmul, {"l2_groupings": [128]}, "l2_groupings[0]", "128", "64"),
        (matmul, {"block_sizes": [[2048, 1024], [16]]}, "block_sizes[0]", "2097152", "smaller"),
        (matmul, {"block_sizes": [[32, 2**63], [16]]}, "block_sizes[0][1]", "64 bits", "64 bits"),
        (matmul, {"num_warps": -(2**63) - 1}, "num_warps", "64 bits", "64 bits"),
        (matmul, {"num_warps": 2**62}, "num_warps", str(2**62), "32"),
        (matmul, {"num_warps": 4.0}, "num_warps", "4.0", "expected an int"),
        (matmul, {"num_warps": True}, "num_warps", "true", "expected an int"),
        (matmul, {"num_stages": float("nan")}, "num_stages", "nan", "finite"),
        (matmul, {"num_stages": float("inf")}, "num_stages", "inf", "finite"),
        (matmul, {"block_sizes": [[32, -32], [16]]}, "block_sizes[0][1]", "-32", "power of two"),
        (matmul, {"block_sizes": [[32, [32]], [16]]}, "block_sizes[0][1]", "[32]", "int"),
        (matmul, {"loop_orders": [[1, -1]]}, "loop_orders[0]", "[1, -1]", "permutation"),
        (matmul, {"indexing": "\ud800"}, "indexing", "ud800", "surrogate"),
        (matmul, {"range_unroll_factors": [9]}, "range_unroll_factors[0]", "9", "4"),
        (matmul, {"num_sm_multiplier": 2**40}, "num_sm_multiplier", str(2**40), "128"),
        (matmul, {"pid_type": object()}, "pid_type", "object", "JSON-like"),
        (matmul, {"block_sizes": _nested(40)}, "block_sizes", "nested", "32"),

    ],
    ids=[
        "block_sizes-length",
        "block_sizes-flat-length",
        "block_sizes-not-power-of-two",
        "block_sizes-k-below-16",
        "block_sizes-m-below-16",
        "loop_orders-not-permutation",
        "loop_orders-length",
        "reduction_loops-length",
        "indexing-unknown",
        "num_warps-3",
        "num_stages-0",
        "l2_grouping-3",
        "unknown-key",
        "use_yz_grid-not-bool",
        "l2_grouping-2**40",
        "l2_groupings-128",
        "block_sizes-above-tritons-largest-block",
        "block_sizes-2**63",
        "num_warps-below-int64",
        "num_warps-2**62",
        "num_warps-float",
        "num_warps-bool",
        "num_stages-nan",
        "num_stages-inf",
        "block_sizes-negative",
        "block_sizes-too-nested",
        "loop_orders-negative",
        "indexing-lone-surrogate",
        "range_unroll_factors-9",
        "num_sm_multiplier-2**40",
        "pid_type-object",
        "block_sizes-deeply-nested",
    ],
)
def test_invalid_config_field(
    kernel: helion.Kernel, config: dict, field: str, value: str, allowed: str
) -> None:
    args = _MATMUL_ARGS if kernel is matmul else _ROW_SUM_ARGS
    bound = kernel.bind(args)
    with pytest.raises(exc.InvalidConfig) as info:
        bound.to_triton_code(helion.Config(**config))
    message = str(info.value)
    assert field in message, message
    assert value in message, message
    assert allowed in message.lower() or allowed in message, message
    assert re.search(r"\b(use|expected|list each|one of|allowed)\b", message), message
    _assert_no_internal_leak(info.value)
    # set_config rejects it the same way and leaves the bound kernel as it was.
    before = bound.config
    with pytest.raises(exc.InvalidConfig):
        bound.set_config(helion.Config(**config))
    assert bound.config == before
    # The bound kernel still works.
    assert "@triton.jit" in bound.to_triton_code()
    if kernel is matmul:
        x, y = args
        # On a GPU the kernel's float32 dot runs in tf32 (the default dot_precision).
        tolerance = 5e-2 if x.is_cuda else 1e-3
        torch.testing.assert_close(kernel(x, y), x @ y, rtol=tolerance, atol=tolerance)
    else:
        (x,) = args
        torch.testing.assert_close(kernel(x), x.sum(-1), rtol=1e-4, atol=1e-4)


def test_invalid_config_names_the_kernel() -> None:
    bound = matmul.bind(_MATMUL_ARGS)
    with pytest.raises(exc.InvalidConfig) as info:
        bound.to_triton_code(helion.Config(num_warps=3))
    assert "kernel 'matmul'" in str(info.value), str(info.value)


def test_invalid_config_in_decorator() -> None:
    bad = helion.kernel(config=helion.Config(num_warps=3))(add.fn)
    x = randn(16)
    error = raises_twice(exc.InvalidConfig, bad, x, x)
    assert "num_warps" in str(error) and "3" in str(error)
    assert "kernel 'add'" in str(error), str(error)
    _assert_no_internal_leak(error)
    # The same function with a good config is unaffected.
    good = helion.kernel(config=helion.Config(num_warps=2))(add.fn)
    torch.testing.assert_close(good(x, x), x + x)


# --- internal errors ---------------------------------------------------------------------------


def test_internal_error_is_reported_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request_json: str) -> None:
        raise _core.InternalError("boom")

    fresh = helion.kernel(autotune_effort="none")(add.fn)
    x = randn(16)
    with monkeypatch.context() as patch:
        patch.setattr(_core, "Kernel", broken)
        with pytest.raises(exc.InternalError) as info:
            fresh(x, x)
    message = str(info.value)
    assert "internal compiler error" in message and "boom" in message
    _assert_no_internal_leak(info.value, internal_ok=True)
    assert info.value.__cause__ is None
    # Nothing half-built was kept: the next call compiles and runs.
    torch.testing.assert_close(fresh(x, x), x + x)


def _host_tensor_op(x: torch.Tensor) -> torch.Tensor:
    total = x.sum()
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 2
    return out, total


def test_tensor_operation_in_host_code_warns_once_per_specialization() -> None:
    x = randn(16)
    kernel = helion.kernel(config=helion.Config(block_sizes=[16]))(_host_tensor_op)
    with pytest.warns(exc.TensorOperationInWrapper) as caught:
        out, total = kernel(x)
    torch.testing.assert_close(out, x * 2)
    torch.testing.assert_close(total, x.sum())
    message = str(caught[0].message)
    assert "in kernel '_host_tensor_op'" in message and "total = x.sum()" in message, message
    assert "^^^" in message and "fuse" in message, message
    quiet = helion.kernel(
        config=helion.Config(block_sizes=[16]), ignore_warnings=[exc.TensorOperationInWrapper]
    )(_host_tensor_op)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet(x)
