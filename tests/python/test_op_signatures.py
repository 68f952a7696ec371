"""Torch ops in kernels take exactly torch's parameters.

Every valid spelling (positional, keyword, torch's ``axis``/``keepdims``
aliases, method or function) gives torch eager's result; an unknown, doubled
or unsupported argument raises a ``helion.exc`` error naming the op and the
parameter. Calls that once crashed the process run in a subprocess, so a
crash fails the test instead of ending pytest.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(autotune_effort="none")
def sum_axis(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(axis=1)
    return out


@helion.kernel(autotune_effort="none")
def sum_positional(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        row = x[tile_m, :]
        out[tile_m, :] = row - torch.sum(row, 1, True)
    return out


@helion.kernel(autotune_effort="none")
def amax_keywords(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        row = x[tile_m, :]
        out[tile_m, :] = row - row.amax(dim=-1, keepdim=True)
    return out


@helion.kernel(autotune_effort="none")
def mean_keepdims(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        row = x[tile_m, :]
        out[tile_m, :] = row - torch.mean(row, axis=-1, keepdims=True)
    return out


@helion.kernel(autotune_effort="none")
def var_positional(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        # var(input, dim, unbiased, keepdim): the third argument is unbiased.
        out[tile_m, :] = x[tile_m, :] * 0 + torch.var(x[tile_m, :], 1, False, True)
    return out


@helion.kernel(autotune_effort="none")
def sum_dtype(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(dim=1, dtype=torch.float32)
    return out


@helion.kernel(autotune_effort="none")
def functional_keywords(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        row = x[tile_m, :]
        out[tile_m, :] = F.gelu(row, approximate="tanh") + F.softmax(row, dim=-1)
    return out


@helion.kernel(autotune_effort="none")
def hl_keywords(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros(shape=[tile_m], dtype=torch.float32)
        row = x[tile_m, :]
        acc = acc + torch.where(condition=row > 0, input=row, other=0.0).sum(axis=1)
        acc = acc + hl.load(tensor=x, index=[tile_m, 0], extra_mask=None)
        hl.store(out, [tile_m], value=acc, extra_mask=None)
    return out


@pytest.mark.parametrize(
    ("kernel", "reference"),
    [
        (sum_axis, lambda x: x.sum(axis=1)),
        (sum_positional, lambda x: x - torch.sum(x, 1, True)),
        (amax_keywords, lambda x: x - x.amax(dim=-1, keepdim=True)),
        (mean_keepdims, lambda x: x - torch.mean(x, axis=-1, keepdims=True)),
        (var_positional, lambda x: x * 0 + torch.var(x, 1, False, True)),
        (functional_keywords, lambda x: F.gelu(x, approximate="tanh") + F.softmax(x, dim=-1)),
        (hl_keywords, lambda x: torch.where(x > 0, x, 0.0).sum(1) + x[:, 0]),
    ],
    ids=[
        "sum_axis",
        "sum_positional",
        "amax_keywords",
        "mean_keepdims",
        "var_positional",
        "functional_keywords",
        "hl_keywords",
    ],
)
def test_spellings_match_eager(kernel: helion.Kernel, reference) -> None:
    x = torch.randn(8, 16, device=DEVICE)
    torch.testing.assert_close(kernel(x), reference(x), rtol=1e-4, atol=1e-4)


def test_sum_dtype_is_honored() -> None:
    x = torch.randn(8, 16, device=DEVICE).to(torch.float16)
    result = sum_dtype(x)
    assert result.dtype == torch.float32
    torch.testing.assert_close(result, x.sum(dim=1, dtype=torch.float32), rtol=1e-3, atol=1e-3)


@helion.kernel(autotune_effort="none")
def sum_dimension(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(dimension=1)
    return out


@helion.kernel(autotune_effort="none")
def amax_dimension(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m, :] = torch.amax(x[tile_m, :], dimension=1, keepdim=True)
    return out


@helion.kernel(autotune_effort="none")
def exp_foo(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m, :] = torch.exp(x[tile_m, :], foo=1)
    return out


@helion.kernel(autotune_effort="none")
def exp_out(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m, :] = torch.exp(x[tile_m, :], out=x[tile_m, :])
    return out


@helion.kernel(autotune_effort="none")
def empty_dtyp(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty(x.size(0), x.size(1), dtyp=torch.float32, device=x.device)
    for tile_m in hl.tile(x.size(0)):
        out[tile_m, :] = x[tile_m, :]
    return out


@pytest.mark.parametrize(
    ("kernel", "cls", "message"),
    [
        (
            sum_dimension,
            exc.TorchOpTracingError,
            "Tensor.sum() got an unexpected keyword argument 'dimension'",
        ),
        (
            amax_dimension,
            exc.TorchOpTracingError,
            "torch.amax() got an unexpected keyword argument 'dimension'; its parameters are "
            "(input, dim, keepdim",
        ),
        (exp_foo, exc.TorchOpTracingError, "torch.exp() got an unexpected keyword argument 'foo'"),
        (exp_out, exc.UnsupportedOp, "torch.exp() does not support the argument 'out'"),
        (
            empty_dtyp,
            exc.TorchOpTracingError,
            "torch.empty() got an unexpected keyword argument 'dtyp'",
        ),
    ],
    ids=["sum_dimension", "amax_dimension", "exp_foo", "exp_out", "empty_dtyp"],
)
def test_bad_arguments_name_the_parameter(kernel: helion.Kernel, cls, message: str) -> None:
    with pytest.raises(cls) as info:
        kernel(torch.randn(8, 16, device=DEVICE))
    assert message in str(info.value), str(info.value)
    assert "^" in str(info.value), str(info.value)
    # As torch raises it: code that catches TypeError around a call keeps working.
    assert isinstance(info.value, TypeError) or cls is exc.UnsupportedOp


_CRASHED = textwrap.dedent(
    """
    import torch
    import helion
    import helion.language as hl
    from helion import exc

    @helion.kernel(autotune_effort="none")
    def k(x):
        out = torch.empty_like(x)
        for tile_m in hl.tile(x.size(0)):
            row = x[tile_m, :]
            out[tile_m, :] = row - {expr}
        return out

    x = torch.randn(8, 16, device={device!r})
    try:
        k(x)
    except exc.Base as e:
        print("ERROR", str(e).splitlines()[-1])
    else:
        print("OK")
    """
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "row.mean(dimdim=1, keepdim=True)",
            "ERROR Tensor.mean() got an unexpected keyword argument 'dimdim'",
        ),
        ("row.mean((0, 1), keepdim=True)", "OK"),
        ("torch.var(row, keepdim=True)", "OK"),
    ],
    ids=["misspelled_dim", "mean_two_dims", "var_all_dims"],
)
def test_former_crashes_in_a_subprocess(tmp_path, expr: str, expected: str) -> None:
    script = tmp_path / "kernel.py"
    script.write_text(_CRASHED.format(expr=expr, device=DEVICE))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-2000:]}"
    assert done.stdout.strip().splitlines()[-1].startswith(expected), done.stdout


@helion.kernel(autotune_effort="none")
def bmm_to_float32(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    batch, m, _ = a.size()
    n = b.size(2)
    out = torch.empty([batch, m, n], dtype=torch.float32, device=a.device)
    for tile_b, tile_m, tile_n in hl.tile([batch, m, n]):
        out[tile_b, tile_m, tile_n] = torch.bmm(
            a[tile_b, tile_m, :], b[tile_b, :, tile_n], torch.float32
        )
    return out


def test_mm_and_bmm_take_the_result_dtype_third() -> None:
    # torch's mm/bmm overload with out_dtype (aten::bmm.dtype), as attention kernels use it.
    a = torch.randn(2, 16, 16, device=DEVICE, dtype=torch.float16)
    b = torch.randn(2, 16, 16, device=DEVICE, dtype=torch.float16)
    result = bmm_to_float32(a, b)
    assert result.dtype == torch.float32
    torch.testing.assert_close(result, torch.bmm(a.float(), b.float()), atol=1e-2, rtol=1e-2)
