"""Names in the generated module: whatever the user calls a parameter, a
host variable or a device variable, generated code keeps its own names apart
and the kernel computes what PyTorch computes, writing nothing out of bounds.
User text that reaches the module (file names, kernel names, source lines,
string constants) never becomes code.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch

import helion
import helion.language as hl

# Every name the generated code has used for itself, and builtins it calls.
COLLIDING = [
    "tl",
    "triton",
    "torch",
    "libdevice",
    "builtins",
    "pid",
    "pid_0",
    "offset_0",
    "indices_0",
    "indices_1",
    "mask_0",
    "mask_1",
    "flat_0",
    "load",
    "acc",
    "_BLOCK_SIZE_0",
    "_BLOCK_SIZE_1",
    "_RBLOCK_1",
    "_RBLOCK_0",
    "num_blocks_0",
    "num_pid_in_group",
    "v_0",
    "v_1",
    "x_desc_0",
    "y_desc_1",
    "out_desc_2",
    "x_size_0",
    "_helion_k",
    "float",
    "max",
    "min",
    "int",
    # Names Triton's launch binds beside the kernel's parameters.
    "num_warps",
    "num_stages",
    "debug",
    "instrumentation_mode",
    "options",
    "backend",
    "specialize_impl",
]

_counter = 0


def define(tmp_path: Path, source: str, name: str = "k", **settings: Any) -> helion.Kernel:
    """The kernel `name` from `source`, written to a file so its source can be read."""
    global _counter
    _counter += 1
    header = "import torch\nimport helion\nimport helion.language as hl\n\n"
    path = tmp_path / f"names_{_counter}.py"
    path.write_text(header + textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(f"_names_{_counter}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    fn = getattr(module, name)
    return helion.kernel(config=helion.Config(**settings.pop("config")), **settings)(fn)


def guarded(n: int, device: str, fill: float = -7.0) -> tuple[torch.Tensor, torch.Tensor]:
    """A view of `n` elements at the front of a larger buffer, and the buffer."""
    buffer = torch.full([n + 40], fill, device=device)
    return buffer[:n], buffer


def check_tail(buffer: torch.Tensor, n: int, fill: float = -7.0) -> None:
    assert torch.all(buffer[n:] == fill), "the kernel wrote past the end of its output"


@pytest.mark.parametrize(
    ("static_shapes", "indexing"),
    [(True, "pointer"), (False, "pointer"), (True, "block_ptr"), (True, "tensor_descriptor")],
    ids=["static", "dynamic", "block_ptr", "tensor_descriptor"],
)
@pytest.mark.parametrize("name", COLLIDING)
def test_parameter_named_like_generated_code(
    tmp_path: Path, device: str, name: str, static_shapes: bool, indexing: str
) -> None:
    k = define(
        tmp_path,
        f"""
        def k({name}, y, out):
            for tile in hl.tile(out.size(0)):
                out[tile] = {name}[tile] + y[tile] * 2
        """,
        config={"block_sizes": [16], "indexing": indexing},
        static_shapes=static_shapes,
    )
    x, y = torch.randn(33, device=device), torch.randn(33, device=device)
    out, buffer = guarded(33, device)
    k(x, y, out)
    torch.testing.assert_close(out, x + y * 2)
    check_tail(buffer, 33)


@pytest.mark.parametrize("value", [3.0, 3], ids=["float", "int"])
@pytest.mark.parametrize("name", COLLIDING)
def test_scalar_parameter_named_like_generated_code(
    tmp_path: Path, device: str, name: str, value: float
) -> None:
    k = define(
        tmp_path,
        f"""
        def k(x, {name}, out):
            for tile in hl.tile(out.size(0)):
                out[tile] = x[tile] * {name}
        """,
        config={"block_sizes": [16]},
        static_shapes=False,
    )
    x = torch.randn(33, device=device)
    out, buffer = guarded(33, device)
    k(x, value, out)
    torch.testing.assert_close(out, x * value)
    check_tail(buffer, 33)


@pytest.mark.parametrize("name", COLLIDING)
def test_device_variable_named_like_generated_code(tmp_path: Path, device: str, name: str) -> None:
    # A masked 1-D store, then a masked row reduction.
    k = define(
        tmp_path,
        f"""
        def k(x, out, sums):
            for tile in hl.tile(out.size(0)):
                {name} = x[tile, :] * 2
                out[tile, :] = {name} + 1
                sums[tile] = {name}.sum(-1)
        """,
        config={"block_sizes": [16]},
    )
    x = torch.randn(33, 20, device=device)
    out_buffer = torch.full([40, 20], -7.0, device=device)
    sums, sums_buffer = guarded(33, device)
    k(x, out_buffer[:33], sums)
    torch.testing.assert_close(out_buffer[:33], x * 2 + 1)
    torch.testing.assert_close(sums, (x * 2).sum(-1), rtol=1e-4, atol=1e-4)
    check_tail(out_buffer.flatten(), 33 * 20)
    check_tail(sums_buffer, 33)


@pytest.mark.parametrize("name", COLLIDING)
def test_host_variable_named_like_generated_code(tmp_path: Path, device: str, name: str) -> None:
    k = define(
        tmp_path,
        f"""
        def k(x, out):
            {name} = x.size(0)
            for tile in hl.tile({name}):
                out[tile] = x[tile] + 1
            return {name}
        """,
        config={"block_sizes": [16]},
        static_shapes=False,
    )
    x = torch.randn(33, device=device)
    out, buffer = guarded(33, device)
    assert k(x, out) == 33
    torch.testing.assert_close(out, x + 1)
    check_tail(buffer, 33)


@pytest.mark.parametrize("name", COLLIDING)
def test_host_tensor_named_like_generated_code(tmp_path: Path, device: str, name: str) -> None:
    k = define(
        tmp_path,
        f"""
        def k(x, out):
            {name} = out
            for tile in hl.tile(x.size(0)):
                {name}[tile] = x[tile] * 2
        """,
        config={"block_sizes": [16]},
    )
    x = torch.randn(33, device=device)
    out, buffer = guarded(33, device)
    k(x, out)
    torch.testing.assert_close(out, x * 2)
    check_tail(buffer, 33)


def test_masked_store_is_not_the_users_mask_0(tmp_path: Path, device: str) -> None:
    # The user's `mask_0` once replaced the store's mask: 15 elements were
    # written past a 33-element output.
    k = define(
        tmp_path,
        """
        def k(x):
            out = torch.empty_like(x)
            for tile in hl.tile(out.size(0)):
                mask_0 = x[tile] * 2
                out[tile] = mask_0
            return out
        """,
        config={"block_sizes": [16]},
    )
    x = torch.randn(33, device=device)
    torch.testing.assert_close(k(x), x * 2)
    code = k.bind((x,)).to_triton_code()
    assert "mask_0 = " in code and "mask_0_1 = indices_0 < 33" in code


def test_matmul_with_colliding_names_l2_grouping(tmp_path: Path, device: str) -> None:
    k = define(
        tmp_path,
        """
        def k(x, y, out):
            for pid, num_pid_in_group in hl.tile([x.size(0), y.size(1)]):
                group_id = hl.zeros([pid, num_pid_in_group], dtype=torch.float32)
                for first_pid in hl.tile(x.size(1)):
                    group_id = torch.addmm(
                        group_id, x[pid, first_pid], y[first_pid, num_pid_in_group]
                    )
                out[pid, num_pid_in_group] = group_id
        """,
        config={"block_sizes": [16, 16, 16], "l2_grouping": 4},
    )
    x, y = torch.randn(40, 24, device=device), torch.randn(24, 50, device=device)
    out = torch.full([40, 50], -7.0, device=device)
    k(x, y, out)
    torch.testing.assert_close(out, x @ y, rtol=1e-2, atol=1e-2)


def test_int_parameter_named_like_a_size_symbol(tmp_path: Path, device: str) -> None:
    # `x_size_0` is the name of x.size(0) in the device code of dynamic
    # shapes; an int parameter of that name is another value.
    k = define(
        tmp_path,
        """
        def k(x, x_size_0: int, out):
            for tile in hl.tile(x_size_0):
                out[tile] = x[tile] + 1
        """,
        config={"block_sizes": [16]},
        static_shapes=False,
    )
    x = torch.randn(33, device=device)
    out, buffer = guarded(33, device)
    k(x, 33, out)
    torch.testing.assert_close(out, x + 1)
    wide = torch.full([80], -7.0, device=device)
    with pytest.raises((AssertionError, helion.exc.ShapeMismatch)):
        k(x, 40, wide[:40])  # x has 33 elements: reading 40 would run past it
    check_tail(buffer, 33)


def test_unicode_names_that_python_reads_as_generated_ones(tmp_path: Path, device: str) -> None:
    # Python reads identifiers in NFKC: fullwidth "triton" is `triton`,
    # fullwidth "mask" followed by "_0" is `mask_0`.
    triton = "\uff54\uff52\uff49\uff54\uff4f\uff4e"
    mask_0 = "\uff4d\uff41\uff53\uff4b_0"
    k = define(
        tmp_path,
        f"""
        def k(x, out):
            {triton} = x.size(0)
            for tile in hl.tile({triton}):
                {mask_0} = x[tile] * 2
                out[tile] = {mask_0}
        """,
        config={"block_sizes": [16]},
    )
    x = torch.randn(33, device=device)
    out, buffer = guarded(33, device)
    k(x, out)
    torch.testing.assert_close(out, x * 2)
    check_tail(buffer, 33)


GLOBALS_SOURCE = """
import math as tl
triton = "tri\\nton'\\"\\u2028\\udc80\\U0001f600"
libdevice = float("nan")
float = 2.5
max = 3

def k(x, out, peaks):
    for tile in hl.tile(x.size(0)):
        out[tile, :] = x[tile, :] * float + max
        peaks[tile] = x[tile, :].amax(-1)
    return triton, libdevice, tl.pi
"""


def test_globals_named_like_generated_code(tmp_path: Path, device: str) -> None:
    k = define(tmp_path, GLOBALS_SOURCE, config={"block_sizes": [16]})
    x = torch.randn(33, 20, device=device)
    out = torch.empty(33, 20, device=device)
    peaks, buffer = guarded(33, device)
    text, nan, pi = k(x, out, peaks)
    assert text == "tri\nton'\"\u2028\udc80\U0001f600"
    assert math.isnan(nan) and pi == math.pi
    torch.testing.assert_close(out, x * 2.5 + 3)
    torch.testing.assert_close(peaks, x.amax(-1))
    check_tail(buffer, 33)
    code = k.bind((x, out, peaks)).to_triton_code()
    assert "import builtins" in code and "import math as tl" in code


@pytest.mark.parametrize(
    "spelling",
    [
        "1.0",
        "3",
        "-0.0",
        "1e300",
        "5e-324",
        "float('inf')",
        "float('-inf')",
        "True",
        "None",
        repr("a\rb\x0c\x0b\x1c\x85\u2028\u2029\\'\"#"),
        repr("\udc80\ud800"),
    ],
)
def test_constant_globals_keep_their_value(tmp_path: Path, device: str, spelling: str) -> None:
    value = eval(spelling)
    k = define(
        tmp_path,
        f"""
        VALUE = {spelling}

        def k(x, out):
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile]
            return VALUE
        """,
        config={"block_sizes": [16]},
    )
    x = torch.randn(8, device=device)
    result = k(x, torch.empty(8, device=device))
    assert type(result) is type(value) and repr(result) == repr(value)


LINE_BREAKS = [
    "\n",
    "\r",
    "\r\n",
    "\x0c",
    "\x0b",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
]


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=repr)
def test_file_name_does_not_run(tmp_path: Path, device: str, brk: str) -> None:
    marker = tmp_path / "ran"
    filename = f"kernel{brk}open({str(marker)!r}, 'w').close(){brk}#"
    source = textwrap.dedent(
        """
        def k(x, out):
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] + 1
        """
    )
    namespace: dict[str, Any] = {"torch": torch, "hl": helion.language}
    exec(compile(source, filename, "exec"), namespace)
    # inspect reads a kernel's source through linecache, as for a real file.
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        k = helion.kernel(config=helion.Config(block_sizes=[16]))(namespace["k"])
        x = torch.randn(20, device=device)
        out = torch.empty(20, device=device)
        k(x, out)
        code = k.bind((x, out)).to_triton_code()
    finally:
        del linecache.cache[filename]
    torch.testing.assert_close(out, x + 1)
    assert not marker.exists(), "text from the file name ran"
    header = code.splitlines()[0]
    assert header.startswith("# Generated by helion") and "open(" in header
    assert code.count("\n") == len(code.splitlines())
    assert not any(b in code for b in LINE_BREAKS if b != "\n")


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=repr)
def test_source_lines_stay_comments(tmp_path: Path, device: str, brk: str) -> None:
    marker = tmp_path / "ran"
    # A line break inside a string constant of the kernel's source reaches a
    # `# src[...]` comment; the string keeps its value in the host code.
    source = textwrap.dedent(
        """
        def k(x, out):
            note = \"\"\"aBRKopen(MARKER, 'w').close()\"\"\"
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] + 1
            return note
        """
    )
    source = source.replace("BRK", brk).replace("MARKER", repr(str(marker)))
    k = define(tmp_path, source, config={"block_sizes": [16]})
    x = torch.randn(20, device=device)
    out = torch.empty(20, device=device)
    expected = (
        "a" + ("\n" if brk in ("\r", "\r\n") else brk) + f"open({str(marker)!r}, 'w').close()"
    )
    assert k(x, out) == expected
    torch.testing.assert_close(out, x + 1)
    assert not marker.exists()


def test_kernel_name_that_is_no_identifier(tmp_path: Path, device: str) -> None:
    def k(x, out):
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] + 1

    k.__name__ = "k\nimport os; os._exit(3)"
    kernel = helion.kernel(config=helion.Config(block_sizes=[16]))(k)
    with pytest.raises(helion.exc.UnsupportedSignature, match="not a Python identifier"):
        kernel(torch.randn(4, device=device), torch.empty(4, device=device))


def test_zero_dim_tensors(tmp_path: Path, device: str) -> None:
    # hl.tile over an empty size list is one program; the kernel once crashed
    # the compiler.
    k = define(
        tmp_path,
        """
        def k(x, y):
            out = torch.empty_like(x)
            for tile in hl.tile(out.size()):
                out[tile] = x[tile] + y[tile]
            return out
        """,
        config={"block_sizes": []},
    )
    x, y = torch.tensor(1.5, device=device), torch.tensor(2.0, device=device)
    result = k(x, y)
    assert result.shape == () and result.item() == 3.5


@pytest.mark.parametrize("static_shapes", [True, False], ids=["static", "dynamic"])
def test_zero_dim_tensors_beside_tiles(tmp_path: Path, device: str, static_shapes: bool) -> None:
    k = define(
        tmp_path,
        """
        def k(x, scale):
            out = torch.empty_like(x)
            total = torch.zeros([], dtype=x.dtype, device=x.device)
            for tile in hl.tile(x.size(0)):
                for inner in hl.tile([]):
                    out[tile] = x[tile] * scale[()]
                hl.atomic_add(total, [], x[tile].sum(0))
            return out, total
        """,
        config={"block_sizes": [16]},
        static_shapes=static_shapes,
    )
    x, scale = torch.randn(33, device=device), torch.tensor(3.0, device=device)
    out, total = k(x, scale)
    torch.testing.assert_close(out, x * 3.0)
    torch.testing.assert_close(total, x.sum(), rtol=1e-4, atol=1e-4)


def test_zero_dim_tensor_errors_are_clear(tmp_path: Path, device: str) -> None:
    k = define(
        tmp_path,
        """
        def k(x, scale):
            out = torch.empty_like(x)
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] * scale
            return out
        """,
        config={"block_sizes": [16]},
    )
    with pytest.raises(helion.exc.HostTensorDirectUsage):
        k(torch.randn(8, device=device), torch.tensor(2.0, device=device))


def test_names_outside_ascii(tmp_path: Path, device: str) -> None:
    # A kernel and a global with names Python reads but ASCII does not spell.
    add, pi = "\u52a0\u6cd5", "\u03c0"
    k = define(
        tmp_path,
        f"""
        {pi} = 3.5

        def {add}(x, out):
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] * {pi}
            return {pi}
        """,
        name=add,
        config={"block_sizes": [16]},
    )
    x = torch.randn(20, device=device)
    out = torch.empty(20, device=device)
    assert k(x, out) == 3.5
    torch.testing.assert_close(out, x * 3.5)


def test_file_name_with_surrogates(device: str) -> None:
    # A file name that is not UTF-8 reaches Python as lone surrogates; JSON
    # carries them, and they come back in the module's comment and in messages.
    filename = "/nonexistent/k\udc80\udcff.py"
    source = textwrap.dedent(
        """
        def k(x, out):
            copy = x * 2
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] + 1

        def bad(x, out):
            for tile in hl.tile(x.size(0)):
                out[tile] = x[tile] + undefined
        """
    )
    namespace: dict[str, Any] = {"torch": torch, "hl": hl}
    exec(compile(source, filename, "exec"), namespace)
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        k = helion.kernel(config=helion.Config(block_sizes=[16]))(namespace["k"])
        x = torch.randn(20, device=device)
        out = torch.empty(20, device=device)
        with pytest.warns(
            helion.exc.TensorOperationInWrapper, match=re.escape("k\\udc80\\udcff.py:3")
        ):
            k(x, out)
        torch.testing.assert_close(out, x + 1)
        assert "k\\udc80\\udcff.py" in k.bind((x, out)).to_triton_code().splitlines()[0]
        bad = helion.kernel(config=helion.Config(block_sizes=[16]))(namespace["bad"])
        with pytest.raises(helion.exc.UndefinedVariable, match=re.escape("k\\udc80\\udcff.py:9")):
            bad(x, out)
    finally:
        del linecache.cache[filename]


def test_every_fallback_name_taken_too(tmp_path: Path, device: str) -> None:
    # The user writes the generated names and their first fallbacks at once.
    k = define(
        tmp_path,
        """
        def k(mask_0_1, tl, tl_1, pid_1: int, triton_1):
            _helion_k = triton_1
            _helion_k_1 = mask_0_1.size(0)
            triton = _helion_k_1
            for tile in hl.tile(triton):
                mask_0 = mask_0_1[tile] * tl[tile]
                v_0 = mask_0 + tl_1[tile] * pid_1
                _helion_k[tile] = v_0
            return _helion_k
        """,
        config={"block_sizes": [16]},
        static_shapes=False,
    )
    a, b, c = (torch.randn(33, device=device) for _ in range(3))
    out, buffer = guarded(33, device)
    assert k(a, b, c, 3, out) is out
    torch.testing.assert_close(out, a * b + c * 3)
    check_tail(buffer, 33)
