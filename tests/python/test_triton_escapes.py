"""hl.triton_kernel and hl.inline_triton: the user's Triton code inside a
kernel, run under Triton's interpreter here and on a GPU where there is one."""

from __future__ import annotations

import pytest
import torch
import triton
import triton.language as tl

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@triton.jit
def scaled_sum(a, b, scale):
    return a * scale + b


@triton.jit
def sum_and_difference(a, b):
    return a + b, a - b


@triton.jit
def store_doubled(out_ptr, offsets, values, mask):
    tl.store(out_ptr + offsets, values * 2, mask=mask)


@triton.jit
def calls_another(a):
    return scaled_sum(a, a, 2.0)


NOT_JIT = 3

CLAMP_SOURCE = """
@triton.jit
def clamp_low(x, low):
    return tl.where(x < low, low, x)
"""


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_function(x: torch.Tensor, y: torch.Tensor, scale: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a = x[tile]
        out[tile] = hl.triton_kernel(scaled_sum, (a, y[tile], scale), output_like=a)
    return out


def test_triton_kernel_with_a_jit_function() -> None:
    x = torch.randn(37, device=DEVICE)
    y = torch.randn(37, device=DEVICE)
    torch.testing.assert_close(kernel_with_function(x, y, 0.5), x * 0.5 + y)


def test_the_function_is_defined_once_under_a_name_of_its_own() -> None:
    x = torch.randn(37, device=DEVICE)
    code = kernel_with_function.bind((x, x, 0.5)).to_triton_code()
    assert code.count("def _helion_kernel_with_function_triton_0(a, b, scale):") == 1, code
    assert "_helion_kernel_with_function_triton_0(a, load, scale)" in code, code
    assert "def scaled_sum" not in code


@helion.kernel(config=helion.Config(block_sizes=[8]))
def kernel_with_source(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a = x[tile]
        out[tile] = hl.triton_kernel(CLAMP_SOURCE, {"x": a, "low": 0.25}, output_like=a)
    return out


def test_triton_kernel_with_a_source_string_and_named_arguments() -> None:
    x = torch.randn(21, device=DEVICE)
    torch.testing.assert_close(kernel_with_source(x), x.clamp(min=0.25))


@helion.kernel(config=helion.Config(block_sizes=[4, 8]))
def kernel_with_two_results(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    total = torch.empty_like(x)
    difference = torch.empty_like(x)
    for i, j in hl.tile(x.size()):
        a = x[i, j]
        s, d = hl.triton_kernel(sum_and_difference, [a, y[i, j]], output_like=(a, a))
        total[i, j] = s
        difference[i, j] = d
    return total, difference


def test_triton_kernel_returning_a_tuple() -> None:
    x = torch.randn(7, 19, device=DEVICE)
    y = torch.randn(7, 19, device=DEVICE)
    total, difference = kernel_with_two_results(x, y)
    torch.testing.assert_close(total, x + y)
    torch.testing.assert_close(difference, x - y)


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_storing_in_the_function(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        index = tile.index
        hl.triton_kernel(
            store_doubled, (out, index, x[tile], index < x.size(0)), output_like=None
        )
    return out


def test_triton_kernel_without_result_storing_through_a_pointer() -> None:
    x = torch.randn(43, device=DEVICE)
    torch.testing.assert_close(kernel_storing_in_the_function(x), x * 2)


@helion.kernel(config=helion.Config(block_sizes=[8, 16]))
def kernel_with_snippets(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for i, j in hl.tile(x.size()):
        a = x[i, j]
        b = y[i, j]
        product = hl.inline_triton("{0} * {1}", [a, b], output_like=a)
        out[i, j] = hl.inline_triton(
            """
            t = {p} + {q}
            tl.maximum(t, 0.0)
            """,
            {"p": product, "q": b},
            output_like=a,
        )
    return out


def test_inline_triton_with_sequence_and_mapping_arguments() -> None:
    x = torch.randn(13, 29, device=DEVICE)
    y = torch.randn(13, 29, device=DEVICE)
    torch.testing.assert_close(kernel_with_snippets(x, y), torch.relu(x * y + y))


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_colliding_snippet(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        a = x[tile] + 1
        out[tile] = hl.inline_triton(
            """
            offset_0 = {0} * 3
            indices_0 = offset_0 - 1
            load = indices_0 * 0
            v_0 = load + indices_0
            mask_0 = v_0
            mask_0
            """,
            [a],
            output_like=a,
        )
    return out


def test_inline_triton_locals_cannot_clobber_generated_names() -> None:
    x = torch.randn(37, device=DEVICE)
    torch.testing.assert_close(kernel_with_colliding_snippet(x), (x + 1) * 3 - 1)
    code = kernel_with_colliding_snippet.bind((x,)).to_triton_code()
    # The generated code names its own values apart from the snippet's.
    assert "offset_0 = pid_0" not in code, code
    assert "offset_0_1" in code or "offset_1" in code, code


def _error(kernel: object, *args: object) -> exc.Base:
    with pytest.raises(exc.Base) as raised:
        kernel(*args)  # type: ignore[operator]
    return raised.value


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_a_non_function(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.triton_kernel(NOT_JIT, (x[tile],), output_like=x[tile])
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_bad_source(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.triton_kernel("def f(x):\n    return x +\n", (x[tile],), output_like=x[tile])
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_undecorated_source(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.triton_kernel("def f(x):\n    return x\n", (x[tile],), output_like=x[tile])
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_missing_key(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.inline_triton("{a} + {b}", {"a": x[tile]}, output_like=x[tile])
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_bad_snippet(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.inline_triton("{0} +* 1", [x[tile]], output_like=x[tile])
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_with_host_output_like(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.inline_triton("{0} + 1", [x[tile]], output_like=x)
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def kernel_calling_a_caller(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.triton_kernel(calls_another, (x[tile],), output_like=x[tile])
    return out


@pytest.mark.parametrize(
    ("kernel", "kind", "says", "line"),
    [
        (kernel_with_a_non_function, "InvalidAPIUsage", "must be a @triton.jit function", "NOT_JIT"),
        (kernel_with_bad_source, "UnsupportedSyntax", "not valid Python", "return x +"),
        (kernel_with_undecorated_source, "InvalidAPIUsage", "decorated", "def f(x)"),
        (kernel_with_missing_key, "InvalidAPIUsage", "{b}, which args does not give", "{a} + {b}"),
        (kernel_with_bad_snippet, "UnsupportedSyntax", "not valid Python statements", "+* 1"),
        (kernel_with_host_output_like, "InvalidAPIUsage", "output_like must be", "output_like=x"),
        (kernel_calling_a_caller, "UnsupportedOp", "calls the @triton.jit function 'scaled_sum'", "calls_another"),
    ],
)
def test_errors_name_the_kernel_and_the_line(kernel: object, kind: str, says: str, line: str) -> None:
    error = _error(kernel, torch.randn(16, device=DEVICE))
    assert type(error).__name__ == kind, (type(error), str(error))
    message = str(error)
    assert says in message, message
    assert kernel.name in message, message  # type: ignore[attr-defined]
    assert line in message, message


@pytest.mark.gpu
def test_triton_escapes_on_the_gpu() -> None:
    x = torch.randn(1000, 37, device="cuda")
    y = torch.randn(1000, 37, device="cuda")
    torch.testing.assert_close(kernel_with_snippets(x, y), torch.relu(x * y + y))
    total, difference = kernel_with_two_results(x, y)
    torch.testing.assert_close(total, x + y)
    torch.testing.assert_close(difference, x - y)
    flat = torch.randn(1001, device="cuda")
    torch.testing.assert_close(kernel_storing_in_the_function(flat), flat * 2)
    torch.testing.assert_close(kernel_with_source(flat), flat.clamp(min=0.25))


def test_triton_code_over_an_empty_dimension() -> None:
    empty = torch.zeros(0, device=DEVICE)
    assert kernel_with_function(empty, empty, 0.5).shape == (0,)
    assert kernel_storing_in_the_function(empty).shape == (0,)
    rows = torch.zeros(0, 5, device=DEVICE)
    assert kernel_with_snippets(rows, rows).shape == (0, 5)
