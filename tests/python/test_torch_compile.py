"""Kernels called inside ``torch.compile``d programs, on the CPU under Triton's interpreter.

Most cases compile with the ``aot_eager`` backend, which runs Dynamo, fake
tensors and functionalization (everything that concerns a kernel) without
generating C++; a few run Inductor end to end.
"""

from __future__ import annotations

from typing import Any

import kernels as K  # noqa: N812
import pytest
import torch
from torch._dynamo.testing import CompileCounterWithBackend

import helion
import helion.language as hl
from helion import exc


@pytest.fixture(autouse=True)
def _tensors_where_kernels_run():
    """Tensors these tests make live where kernels run: the GPU when there is one."""
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        yield



add = helion.kernel(autotune_effort="none")(K.add)


@helion.kernel(autotune_effort="none")
def add_into(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(out.size()):
        out[tile] += x[tile]
    return out


@helion.kernel(autotune_effort="none")
def count_values(values: torch.Tensor, counts: torch.Tensor) -> None:
    for tile in hl.tile(values.size(0)):
        hl.atomic_add(counts, [values[tile]], 1)


@helion.kernel(autotune_effort="none")
def sum_and_diff(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    total = torch.empty_like(x)
    diff = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        total[tile] = x[tile] + y[tile]
        diff[tile] = x[tile] - y[tile]
    return total, diff


@helion.kernel(autotune_effort="none")
def scale(x: torch.Tensor, factor: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size()):
        out[tile] = x[tile] * factor
    return out


@helion.kernel(autotune_effort="none", static_shapes=False)
def row_sum(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile, :].sum(-1)
    return out


@helion.kernel(autotune_effort="none")
def returns_a_view(x: torch.Tensor) -> torch.Tensor:
    for tile in hl.tile(x.size()):
        x[tile] = x[tile] * 2
    return x[1:]


class Scale(torch.autograd.Function):
    """y = x * factor, forward and backward each one kernel, as Helion's examples pair them."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, factor: float) -> torch.Tensor:
        ctx.factor = factor
        return scale(x, factor)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return scale(grad, ctx.factor), None


@pytest.fixture(autouse=True)
def _fresh_dynamo() -> None:
    torch._dynamo.reset()


def _fresh(kernel: helion.Kernel) -> helion.Kernel:
    """The kernel with nothing compiled, so that its first call is in the compiled program."""
    kernel.reset()
    return kernel


@pytest.mark.parametrize("fullgraph", [True, False])
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_kernel_in_compiled_function(fullgraph: bool, warm: bool) -> None:
    x, y = torch.randn(8, 16), torch.randn(8, 16)
    kernel = _fresh(add)
    if warm:
        kernel(x, y)
    counter = CompileCounterWithBackend("aot_eager")
    compiled = torch.compile(lambda a, b: kernel(a, b) * 2, backend=counter, fullgraph=fullgraph)
    torch.testing.assert_close(compiled(x, y), (x + y) * 2)
    torch.testing.assert_close(compiled(x, y), (x + y) * 2)
    assert counter.frame_count == 1


def test_kernel_under_inductor_with_keyword_arguments() -> None:
    x, y = torch.randn(8, 16), torch.randn(8, 16)
    compiled = torch.compile(lambda a, b: torch.relu(add(a, y=b)) + 1, fullgraph=True)
    torch.testing.assert_close(compiled(x, y), torch.relu(x + y) + 1)


def test_tuple_results() -> None:
    x, y = torch.randn(4, 32), torch.randn(4, 32)
    compiled = torch.compile(lambda a, b: sum_and_diff(a, b), backend="aot_eager", fullgraph=True)
    total, diff = compiled(x, y)
    torch.testing.assert_close(total, x + y)
    torch.testing.assert_close(diff, x - y)


def test_dynamic_shapes_compile_once() -> None:
    counter = CompileCounterWithBackend("aot_eager")
    compiled = torch.compile(
        lambda a, b: add(a, b) - a, backend=counter, dynamic=True, fullgraph=True
    )
    for rows, cols in [(8, 16), (5, 7), (33, 3)]:
        x, y = torch.randn(rows, cols), torch.randn(rows, cols)
        torch.testing.assert_close(compiled(x, y), y)
    assert counter.frame_count == 1


def test_dynamic_shapes_under_inductor() -> None:
    compiled = torch.compile(lambda a: row_sum(a * 2), dynamic=True, fullgraph=True)
    for rows in (6, 11):
        x = torch.randn(rows, 16)
        torch.testing.assert_close(compiled(x), (x * 2).sum(-1))


def test_mark_dynamic() -> None:
    counter = CompileCounterWithBackend("aot_eager")
    compiled = torch.compile(lambda a: add(a, a), backend=counter, fullgraph=True)
    for rows in (9, 13, 21):
        x = torch.randn(rows, 5)
        torch._dynamo.mark_dynamic(x, 0)
        torch.testing.assert_close(compiled(x), x * 2)
    assert counter.frame_count == 1


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_written_argument_is_updated_in_the_caller(backend: str) -> None:
    x = torch.randn(8, 16)
    out = torch.ones(8, 16)
    compiled = torch.compile(lambda a, o: add_into(a, o) * 3, backend=backend, fullgraph=True)
    result = compiled(x, out)
    torch.testing.assert_close(out, x + 1)
    torch.testing.assert_close(result, (x + 1) * 3)
    compiled(x, out)
    torch.testing.assert_close(out, 2 * x + 1)


def test_written_argument_read_after_the_kernel() -> None:
    # The write must be ordered before the read of `o` that follows it.
    x = torch.randn(4, 8)
    out = torch.zeros(4, 8)

    def program(a: torch.Tensor, o: torch.Tensor) -> torch.Tensor:
        before = o.clone()
        add_into(a, o)
        return o - before

    compiled = torch.compile(program, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(x, out), x)
    torch.testing.assert_close(out, x)


def test_atomics_write_an_argument() -> None:
    values = torch.tensor([0, 1, 1, 3, 3, 3])
    counts = torch.zeros(4, dtype=torch.int32)
    compiled = torch.compile(lambda v, c: count_values(v, c), backend="aot_eager", fullgraph=True)
    assert compiled(values, counts) is None
    assert counts.tolist() == [1, 2, 0, 3]


@pytest.mark.parametrize("fullgraph", [True, False])
def test_autograd_function_forward_and_backward(fullgraph: bool) -> None:
    _fresh(scale)
    x = torch.randn(6, 10, requires_grad=True)
    compiled = torch.compile(
        lambda a: (Scale.apply(a, 3.0) ** 2).sum(), backend="aot_eager", fullgraph=fullgraph
    )
    compiled(x).backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, 18.0 * x.detach())


def test_autograd_function_under_inductor() -> None:
    x = torch.randn(6, 10, requires_grad=True)
    compiled = torch.compile(lambda a: Scale.apply(a, 0.5).sum(), fullgraph=True)
    compiled(x).backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, torch.full_like(x, 0.5))


def test_returning_a_view_of_an_argument_is_an_error() -> None:
    compiled = torch.compile(lambda a: returns_a_view(a), backend="aot_eager", fullgraph=True)
    with pytest.raises(Exception, match="returned a view of argument 'x'") as info:
        compiled(torch.randn(4, 8))
    assert _is_or_wraps(info.value, exc.InvalidArgument)


def _is_or_wraps(error: BaseException | None, kind: type[BaseException]) -> bool:
    while error is not None:
        if isinstance(error, kind):
            return True
        error = error.__cause__
    return False


@pytest.mark.gpu
def test_cuda_graph_capture_and_replay() -> None:
    x = torch.randn(64, 128, device="cuda")
    y = torch.randn(64, 128, device="cuda")
    add(x, y)  # compiles (and, with autotuning off, picks the default config) before capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = add(x, y)
    x.copy_(torch.randn_like(x))
    graph.replay()
    torch.cuda.synchronize()
    torch.testing.assert_close(captured, x + y)


@pytest.mark.gpu
def test_reduce_overhead_mode_uses_cuda_graphs() -> None:
    compiled = torch.compile(lambda a, b: add(a, b) * 2, mode="reduce-overhead", fullgraph=True)
    for _ in range(3):  # warm-up runs, then recorded, then replayed
        x = torch.randn(32, 64, device="cuda")
        y = torch.randn(32, 64, device="cuda")
        torch.testing.assert_close(compiled(x, y), (x + y) * 2)


@pytest.mark.gpu
def test_written_argument_under_inductor_on_gpu() -> None:
    x = torch.randn(32, 64, device="cuda")
    out = torch.zeros(32, 64, device="cuda")
    compiled = torch.compile(lambda a, o: add_into(a, o) + 1, fullgraph=True)
    torch.testing.assert_close(compiled(x, out), x + 1)
    torch.testing.assert_close(out, x)
