"""hl.device_print (on a GPU and under Triton's interpreter) and
hl.inline_asm_elementwise (GPU only)."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
INTERPRETED = not torch.cuda.is_available()


@helion.kernel(config=helion.Config(block_sizes=[4]))
def doubled_with_print(x: torch.Tensor, scale: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile] * 2
        hl.device_print("doubled:", v, scale)
        hl.device_print("tile done")
        out[tile] = v
    return out


@pytest.mark.skipif(not INTERPRETED, reason="reads the interpreter's output on stdout")
def test_device_print_under_the_interpreter(capfd: pytest.CaptureFixture[str]) -> None:
    x = torch.arange(8, dtype=torch.float32)
    torch.testing.assert_close(doubled_with_print(x, 0.5), x * 2)
    printed = capfd.readouterr().out
    assert "doubled:" in printed
    assert printed.count("tile done") == 2, printed
    for value in ("0.", "2.", "4.", "6.", "8.", "10.", "12.", "14.", "0.5"):
        assert value in printed, printed


def test_device_print_is_emitted() -> None:
    x = torch.arange(8, dtype=torch.float32, device=DEVICE)
    code = doubled_with_print.bind((x, 0.5)).to_triton_code()
    assert 'tl.device_print("doubled:", v, scale)' in code, code


@helion.kernel(config=helion.Config(block_sizes=[16]))
def bits_through_asm(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.inline_asm_elementwise(
            "shl.b32 $0, $1, 1;", "=r,r", [x[tile]], dtype=torch.int32, is_pure=True, pack=1
        )
    return out


def test_inline_asm_code() -> None:
    x = torch.arange(32, dtype=torch.int32, device=DEVICE)
    code = bits_through_asm.bind((x,)).to_triton_code()
    assert (
        'tl.inline_asm_elementwise("shl.b32 $0, $1, 1;", "=r,r", [load], dtype=tl.int32, '
        "is_pure=True, pack=1)" in code
    ), code


@pytest.mark.skipif(not INTERPRETED, reason="the interpreter's refusal")
def test_inline_asm_needs_a_gpu() -> None:
    with pytest.raises(exc.GPURequired, match=r"hl.inline_asm_elementwise at line \d+"):
        bits_through_asm(torch.arange(32, dtype=torch.int32))


@pytest.mark.gpu
def test_inline_asm_on_gpu() -> None:
    x = torch.arange(40, dtype=torch.int32, device="cuda")
    torch.testing.assert_close(bits_through_asm(x), x * 2)


@helion.kernel(config=helion.Config(block_sizes=[16]))
def asm_with_two_results(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = hl.inline_asm_elementwise(
            "mov.b32 $0, $2; mov.b32 $1, $2;", "=r,=r,r", [x[tile]],
            dtype=(torch.int32, torch.int32), is_pure=True, pack=1,
        )[0]
    return out


@helion.kernel(config=helion.Config(block_sizes=[16]))
def print_without_prefix(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        hl.device_print(x[tile])
        out[tile] = x[tile]
    return out


@pytest.mark.parametrize(
    ("kernel", "error", "words"),
    [
        (asm_with_two_results, exc.UnsupportedOp, "a tuple of dtypes"),
        (print_without_prefix, exc.CompileError, "prefix must be a string"),
    ],
    ids=["asm-tuple-dtype", "print-prefix"],
)
def test_clear_errors(kernel: helion.Kernel, error: type, words: str) -> None:
    with pytest.raises(error) as raised:
        kernel(torch.arange(16, dtype=torch.int32, device=DEVICE))
    message = str(raised.value)
    assert words in message, message
    assert f"in kernel '{kernel.name}'" in message, message
