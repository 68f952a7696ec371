"""Golden tests: each tests/golden/<case>.py kernel, compiled by `helionc`
for the arguments and config in its header, must give exactly the Triton
module in <case>.expected. Set HELION_UPDATE_GOLDEN=1 to rewrite them.

Header lines of a case:
    # golden-args: {"x": "float32[128, 64]", "n": "int"}
    # golden-config: {"block_sizes": [[32, 32]], "num_warps": 4}
    # golden-settings: {"static_shapes": false}        (optional)
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_TENSOR = re.compile(r"^(\w+)\[([\d, ]*)\]$")


def contiguous_strides(shape: list[int]) -> list[int]:
    strides, running = [], 1
    for size in reversed(shape):
        strides.append(running)
        running *= max(size, 1)
    return list(reversed(strides))


def describe_arg(name: str, spec: str) -> dict:
    match = _TENSOR.match(spec)
    if match:
        shape = [int(s) for s in match.group(2).split(",") if s.strip()]
        return {"name": name, "kind": "tensor", "dtype": match.group(1), "shape": shape,
                "stride": contiguous_strides(shape), "device": "cuda:0"}
    return {"name": name, "kind": spec}


def module_globals(tree: ast.Module, source: str) -> dict:
    described = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                described[alias.asname or alias.name.split(".")[0]] = {
                    "kind": "module", "name": alias.name if alias.asname else alias.name.split(".")[0]}
        elif isinstance(node, ast.FunctionDef) and [ast.unparse(d) for d in node.decorator_list] == ["triton.jit"]:
            # A @triton.jit function for hl.triton_kernel, decorator included.
            lines = source.splitlines(keepends=True)
            first = node.decorator_list[0].lineno - 1
            described[node.name] = {"kind": "triton_function", "name": node.name, "reads": {},
                                    "source": "".join(lines[first:node.end_lineno])}
        elif isinstance(node, ast.FunctionDef) and not node.decorator_list:
            # A helper the kernel calls: the compiler inlines it from its source.
            described[node.name] = {"kind": "function", "name": node.name,
                                    "source": ast.get_source_segment(source, node) + "\n"}
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    described[target.id] = {"kind": "constant", "value": node.value.value}
    return described


def build_request(path: Path) -> tuple[dict, dict]:
    text = path.read_text()
    header = dict(re.findall(r"^# golden-(\w+): (.*)$", text, re.MULTILINE))
    tree = ast.parse(text)
    kernel = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
                  and any(ast.unparse(d).startswith("helion.kernel") for d in n.decorator_list))
    first = kernel.decorator_list[0].lineno if kernel.decorator_list else kernel.lineno
    source = "\n".join(text.splitlines()[first - 1:kernel.end_lineno]) + "\n"
    args = json.loads(header["args"])
    request = {
        "kernel_name": kernel.name, "filename": path.name, "first_line": first, "source": source,
        "args": [describe_arg(name, spec) for name, spec in args.items()],
        "globals": module_globals(tree, text),
        "settings": {"static_shapes": True, "index_dtype": None, "dot_precision": "tf32",
                     **json.loads(header.get("settings", "{}"))},
    }
    return request, json.loads(header["config"])


def generate(helionc: str, request: dict, config: dict, *options: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(request, f)
    try:
        done = subprocess.run([helionc, f.name, "--config-json", json.dumps(config), *options],
                              capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return done.stdout if done.returncode == 0 else "error: " + done.stderr


def check_cases(cases: list[Path], produce, what: str) -> int:
    """Compares `produce(case)` with each case's .expected file (rewrites them
    with HELION_UPDATE_GOLDEN=1); prints a diff per mismatch and returns the
    exit status."""
    update = os.environ.get("HELION_UPDATE_GOLDEN") == "1"
    failed = 0
    for case in cases:
        actual = produce(case)
        expected_path = case.with_suffix(".expected")
        if update:
            expected_path.write_text(actual)
            continue
        expected = expected_path.read_text() if expected_path.exists() else "<missing>\n"
        if actual != expected:
            failed += 1
            print(f"FAIL {case}")
            sys.stdout.writelines(difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), str(expected_path), "actual"))
    print(f"{len(cases) - failed} of {len(cases)} {what} match" + (" (rewritten)" if update else ""))
    return 1 if failed or not cases else 0


def main() -> int:
    helionc, folder = sys.argv[1], Path(sys.argv[2])
    cases = sorted(p for p in folder.glob("*.py") if p.name != Path(__file__).name)
    return check_cases(cases, lambda case: generate(helionc, *build_request(case)), "golden modules")


if __name__ == "__main__":
    sys.exit(main())
