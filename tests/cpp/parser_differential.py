#!/usr/bin/env python3
"""The C++ parser against Python's own `ast`.

Usage: parser_differential.py HELION_AST_DUMP REPO_ROOT

Every kernel (a function whose decorators mention `kernel`) found in .py files
under REPO_ROOT/examples, REPO_ROOT/tests/golden and REPO_ROOT/tests/python,
plus a built-in corpus, is parsed by both; the trees are compared in the
canonical text form of `helion::dump` (node kinds, fields, and the four span
numbers of every node), and Python must read the unparsed tree back as the
same tree. Sources that use syntax outside the kernel subset must
be rejected with UnsupportedSyntax instead. Exits non-zero with a diff on any
mismatch.
"""

from __future__ import annotations

import ast
import difflib
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

# ---------------------------------------------------------------------------
# The canonical dump, mirroring Dumper in src/parse/Unparse.cpp
# ---------------------------------------------------------------------------

# (field, how) in the order they are printed; `how` is "node", "list",
# "str" (an attribute), "op", "ops".
FIELDS: dict[str, list[tuple[str, str]]] = {
    "FunctionDef": [("name", "str"), ("args", "node"), ("body", "list"),
                    ("decorator_list", "list"), ("returns", "node")],
    "arguments": [("posonlyargs", "list"), ("args", "list"), ("vararg", "node"),
                  ("kwonlyargs", "list"), ("kw_defaults", "list"), ("kwarg", "node"),
                  ("defaults", "list")],
    "arg": [("arg", "str"), ("annotation", "node")],
    "keyword": [("arg", "str"), ("value", "node")],
    "Expr": [("value", "node")],
    "Assign": [("targets", "list"), ("value", "node")],
    "AugAssign": [("op", "op"), ("target", "node"), ("value", "node")],
    "AnnAssign": [("target", "node"), ("annotation", "node"), ("value", "node")],
    "For": [("target", "node"), ("iter", "node"), ("body", "list"), ("orelse", "list")],
    "While": [("test", "node"), ("body", "list"), ("orelse", "list")],
    "If": [("test", "node"), ("body", "list"), ("orelse", "list")],
    "Return": [("value", "node")],
    "Assert": [("test", "node"), ("msg", "node")],
    "Pass": [],
    "Break": [],
    "Continue": [],
    "Name": [("id", "str")],
    "Attribute": [("attr", "str"), ("value", "node")],
    "Subscript": [("value", "node"), ("slice", "node")],
    "Slice": [("lower", "node"), ("upper", "node"), ("step", "node")],
    "Call": [("func", "node"), ("args", "list"), ("keywords", "list")],
    "BinOp": [("op", "op"), ("left", "node"), ("right", "node")],
    "UnaryOp": [("op", "op"), ("operand", "node")],
    "BoolOp": [("op", "op"), ("values", "list")],
    "Compare": [("ops", "ops"), ("left", "node"), ("comparators", "list")],
    "IfExp": [("test", "node"), ("body", "node"), ("orelse", "node")],
    "Tuple": [("elts", "list")],
    "List": [("elts", "list")],
    "Dict": [("keys", "list"), ("values", "list")],
    "Starred": [("value", "node")],
    "Lambda": [("args", "node"), ("body", "node")],
}

# Nodes of the subset that FIELDS does not describe field by field.
SPECIAL = {"Module", "Constant", "JoinedStr", "FormattedValue"}


def fstring_fields(node: ast.JoinedStr) -> list[ast.expr]:
    """The replacement-field expressions of an f-string in source order, each
    field's value before those nested in its format spec; helion keeps the
    literal parts as written, so they are left out."""
    fields: list[ast.expr] = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            fields.append(part.value)
            if part.format_spec is not None:
                fields.extend(fstring_fields(part.format_spec))
    return fields


def quote(value: str | bytes) -> str:
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    out = []
    for byte in data:
        ch = chr(byte)
        if ch in "\\'":
            out.append("\\" + ch)
        elif byte < 0x20 or byte >= 0x7F:
            out.append("\\x%02x" % byte)
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def constant(value: object) -> str:
    if value is None:
        return "None"
    if value is Ellipsis:
        return "Ellipsis"
    if isinstance(value, bool):
        return "bool:%s" % value
    if isinstance(value, int):
        return "int:%d" % value
    if isinstance(value, float):
        return "float:%.17g" % value
    if isinstance(value, bytes):
        return "bytes:" + quote(value)
    if isinstance(value, str):
        return "str:" + quote(value)
    raise TypeError("constant %r is outside the subset" % (value,))


def span(node: ast.AST) -> str:
    return " @%d:%d-%d:%d" % (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)


def dump(tree: ast.Module, spans: bool = True) -> str:
    lines: list[str] = ["Module"]

    def visit(node: ast.AST | None, depth: int, label: str) -> None:
        pad = "  " * depth + label
        if node is None:
            lines.append(pad + "None")
            return
        kind = type(node).__name__
        where = span(node) if spans and hasattr(node, "lineno") else ""
        if kind == "Constant":
            lines.append(pad + kind + where + " value=" + constant(node.value))
            return
        if kind == "JoinedStr":
            lines.append(pad + kind + where)
            for i, field in enumerate(fstring_fields(node)):
                visit(field, depth + 1, "values[%d]: " % i)
            return
        fields = FIELDS[kind]
        attrs = ""
        for field, how in fields:
            value = getattr(node, field)
            if how == "str":
                attrs += " %s=%s" % (field, "None" if value is None else quote(value))
            elif how == "op":
                attrs += " op=" + type(value).__name__
            elif how == "ops":
                attrs += " ops=[" + ",".join(type(op).__name__ for op in value) + "]"
        lines.append(pad + kind + where + attrs)
        for field, how in fields:
            value = getattr(node, field)
            if how == "node" and value is not None:
                visit(value, depth + 1, field + ": ")
            elif how == "list":
                for i, item in enumerate(value):
                    visit(item, depth + 1, "%s[%d]: " % (field, i))

    for i, stmt in enumerate(tree.body):
        visit(stmt, 1, "body[%d]: " % i)
    return "\n".join(lines) + "\n"


def outside_subset(tree: ast.Module) -> str | None:
    """What in `tree` the kernel subset rejects, or None."""
    for node in ast.walk(tree):
        kind = type(node).__name__
        if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
            continue
        if kind not in FIELDS and kind not in SPECIAL:
            return kind
        if kind == "Lambda":
            a = node.args
            if a.defaults or any(d is not None for d in a.kw_defaults):
                return "Lambda defaults"
        if kind == "Constant":
            if isinstance(node.value, complex):
                return "complex literal"
            if isinstance(node.value, int) and not -(2**63) <= node.value < 2**63:
                return "big integer"
    return None


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------

BUILTIN = {
    "matmul": '''
@helion.kernel(static_shapes=True)
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Multiplies two matrices."""
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, f"size mismatch {k} != {k2}"
    out = torch.empty([m, n], dtype=torch.promote_types(x.dtype, y.dtype), device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out
''',
    "softmax": '''
@helion.kernel(config=helion.Config(block_sizes=[[64, 128], [16]], num_warps=4))
def softmax(x: torch.Tensor) -> torch.Tensor:
    n, _m = x.size()
    out = torch.empty_like(x)
    for tile_n in hl.tile(n):
        values = x[tile_n, :]
        amax = torch.amax(values, dim=1, keepdim=True)
        exp = torch.exp(values - amax)
        sum_exp = torch.sum(exp, dim=1, keepdim=True)
        out[tile_n, :] = exp / sum_exp
    return out
''',
    "expressions": r'''
@helion.kernel()
def every_expression(x, y=1.5, *args, flag: bool = False, **kwargs) -> None:
    a = lambda: 0
    b = lambda p, q: p + q * 2
    b2 = lambda score, *_: score
    b3 = lambda p, /, q, *rest, k, **extra: p
    b4 = lambda *, k: k
    b5 = lambda **kw: kw
    c = x if flag else y
    d = not a or b and c
    e = 1 < x <= 2 != y is None is not c in d not in e
    f = x | y ^ a & b << 2 >> 1 + 3 - 4 * 5 @ c / 6 // 7 % 8
    g = -x ** 2 + (-x) ** -2 + ~x + +x - 2 ** 3 ** 4
    h = x[:, None], x[a:b:c], x[..., 0], x[::2], x[1:], x[:-1], x[a:b:]
    i = x[0, 1], x[(0, 1)], x[0,], x[()], x[:, :]
    j = f(*args, **kwargs), f(a, b=2), f(a=1, *args), f(**k, b=1)
    k = 0x1F + 0o17 + 0b101 + 1_000_000 + 0 + 00 + 0_0
    l = 1e-5 + .5 + 5. + 1.5e10 + 1_0.0_1 + 1E+3 + 0.0 + 1e308 + 1e999
    m = 'single' "double" """triple""" r'raw\n' if b'bytes' B"\x00\n" else 0
    n = '\n\t\\\x41\u00e9\101\'' + "é" + 'a\
b'
    o = True, False, None, ..., (), [], {}, [1, 2,], {1: 2, **k, 'a': b,}
    p = (a), (a,), ((a), b), ((a)), (a
        + b)
    q = x.y.z(w)[0].v
    r = [*a, *b], (*a, b), f(*a)
    s = ('implicit'
         'concat')
    return
''',
    "statements": '''
@helion.kernel
def every_statement(x, y, /, z, *, w):
    pass; x = 1; y += 2
    a = b = c = x
    a, b = b, a
    [a, b] = c
    (a, b), c = d
    a, *b = c
    x.attr = 1
    x[0] = x[1, 2] = 3
    x.y[z] *= 2
    v: int = 3
    u: torch.Tensor
    w: int = 1, 2
    for i in range(10):
        if i:
            continue
        elif i > 2:
            break
        elif i < 0:
            pass
        else:
            i -= 1
    else:
        pass
    for a, b, in c: pass
    while x:
        x -= 1
    else:
        x = 0
    if x: return 1
    if y:
        return x, y
    assert x
    assert x, "message"
    def helper(a, b=2) -> int:
        return a + b
    @decorator
    @other.decorator(arg)
    def decorated(): return
    x; y
    return x,
''',
    "layout": (
        "@helion.kernel()\r\ndef crlf(x):\r\n    y = x \\\r\n        + 1\r\n\r\n"
        "    # comment\r\n    return y  # trailing\r\n"
    ),
    "tabs": "@hl.kernel\ndef tabs(x):\n\tif x:\n\t\treturn 1\n\treturn (\n  2)\n",
    "no_newline_at_eof": "@kernel\ndef f(x):\n    return x",
    "nested": '''
@helion.kernel(configs=[helion.Config(block_sizes=[32]), helion.Config(block_sizes=[64])])
def nested(x):
    for tile in hl.tile(x.size(0)):
        for inner in hl.tile(x.size(1)):
            if tile.index[0] == 0:
                x[tile, inner] = torch.where(x[tile, inner] > 0, x[tile, inner], 0.0)

    # comment at the end of the body


''',
    "fstrings": '''
@helion.kernel()
def fstrings(x, k, k2, w, p):
    assert k == k2, f"size mismatch {k} != {k2}"
    a = f'{x!r}' F"{x:>10}" rf"\\d{k}" fR'{{}}' Rf"{ x .shape [0] }"
    b = f"{x['key']}" + f'{x["key"]:{w}.{p}f}' + f"{k = }" + f"{k=!r:^{w}}"
    c = (f"prefix {k}"
         "plain"
         f"""{k2
              + 1} and {f'{x}'}""")
    d = f"{x, k}" f"{(x, k)}" f"{k if k else k2}" f"é{x}ü{k}"
    e = f"""multi
line {x:{w}}
  {k!a}""" f'\\\\{k}' rf'\{k}}}' f"{k >= 1}{k != 2}{k <= 3}"
''',
    "comments_between_decorators": '''
@helion.kernel(
    use_default_config=True,  # comment inside brackets
)
# a comment between decorator and def
def f(
    x: torch.Tensor,
    y: int = -1,
) -> torch.Tensor:
    return x.sum(
        dim=y,
    )
''',
}

# Snippets the subset rejects: (source, expected kind).
BUILTIN_REJECTED = {
    "comprehension": ("@kernel\ndef f(x):\n    return [i for i in x]\n", "UnsupportedSyntax"),
    "generator": ("@kernel\ndef f(x):\n    return sum(i for i in x)\n", "UnsupportedSyntax"),
    "walrus": ("@kernel\ndef f(x):\n    if (y := x):\n        pass\n", "UnsupportedSyntax"),
    "with": ("@kernel\ndef f(x):\n    with x:\n        pass\n", "UnsupportedSyntax"),
    "fstring_set_in_field": ("@kernel\ndef f(x):\n    return f'{ {x} }'\n", "UnsupportedSyntax"),
    "fstring_single_brace": ("@kernel\ndef f(x):\n    return f'{x}}'\n", "SyntaxError"),
    "bad_dedent": ("@kernel\ndef f(x):\n    if x:\n        pass\n  return x\n", "SyntaxError"),
}


def find_kernels(root: Path) -> list[tuple[str, str]]:
    """(name, source) for each kernel under the usual folders of `root`."""
    found = []
    for folder in ("examples", "tests/golden", "tests/python"):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if "def " not in text:
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            lines = text.splitlines(keepends=True)
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
                    continue
                if not any("kernel" in ast.unparse(d) for d in node.decorator_list):
                    continue
                first = node.decorator_list[0].lineno
                snippet = textwrap.dedent("".join(lines[first - 1 : node.end_lineno]))
                found.append(("%s:%d" % (path.relative_to(root), first), snippet))
    return found


def run_exe(exe: str, source: str | None, workdir: str, *flags: str) -> tuple[int, str, str]:
    """Runs `exe` on `source`, or on the last source again when None."""
    path = os.path.join(workdir, "snippet.py")
    if source is not None:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(source)
    result = subprocess.run([exe, *flags, path], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def drop_decorators_outside_subset(tree: ast.Module) -> None:
    """The parser skips a decorator it cannot read (Python has run it already)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.decorator_list = [
                d
                for d in node.decorator_list
                if outside_subset(ast.Module(body=[ast.Expr(d)], type_ignores=[])) is None
            ]


def compare(exe: str, name: str, source: str, workdir: str) -> str | None:
    """None when the parsers agree, else a readable report."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return "%s: Python cannot parse it: %s" % (name, error)
    drop_decorators_outside_subset(tree)
    code, out, err = run_exe(exe, source, workdir)
    reason = outside_subset(tree)
    if reason is not None:
        if code == 1 and err.startswith("UnsupportedSyntax"):
            return None
        return "%s: uses %s, expected UnsupportedSyntax, got exit %d: %s" % (
            name, reason, code, err)
    if code != 0:
        return "%s: helion_ast_dump failed: %s" % (name, err.strip())
    expected = dump(tree)
    if out != expected:
        return "%s: trees differ\n%s" % (name, diff(expected, out, "python ast", "helion"))
    return check_unparse(exe, name, tree, workdir)


def check_unparse(exe: str, name: str, tree: ast.Module, workdir: str) -> str | None:
    """Python reads the unparsed tree back as the same tree."""
    code, printed, err = run_exe(exe, None, workdir, "--unparse")
    if code != 0:
        return "%s: unparse failed: %s" % (name, err.strip())
    try:
        reread = ast.parse(printed)
    except SyntaxError as error:
        return "%s: unparsed source is not valid Python: %s\n%s" % (name, error, printed)
    expected, actual = dump(tree, spans=False), dump(reread, spans=False)
    if actual == expected:
        return None
    return "%s: unparsed source means something else\n%s\n%s" % (
        name, printed, diff(expected, actual, "original", "unparsed"))


def diff(expected: str, actual: str, expected_name: str, actual_name: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(), actual.splitlines(), expected_name,
                                 actual_name, lineterm="")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    exe, root = sys.argv[1], Path(sys.argv[2])
    failures = []
    with tempfile.TemporaryDirectory() as workdir:
        for name, source in BUILTIN.items():
            failure = compare(exe, "builtin:" + name, source, workdir)
            if failure:
                failures.append(failure)
        for name, (source, kind) in BUILTIN_REJECTED.items():
            code, _, err = run_exe(exe, source, workdir)
            if code != 1 or not err.startswith(kind + ":"):
                failures.append(
                    "builtin:%s: expected %s, got exit %d: %s" % (name, kind, code, err))
        kernels = find_kernels(root)
        for name, source in kernels:
            failure = compare(exe, name, source, workdir)
            if failure:
                failures.append(failure)
    for failure in failures:
        print(failure, end="\n\n")
    total = len(BUILTIN) + len(BUILTIN_REJECTED)
    print("compared %d built-in snippets and %d kernels from the repository; %d mismatches"
          % (total, len(kernels), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
