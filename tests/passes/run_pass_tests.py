"""Before/Expected tests of the compiler's passes: each
tests/passes/<pass>/<case>.py kernel (headers as in tests/golden) is compiled
by `helionc --dump-stages`; the IR the pass receives and what the pass
produces must equal <case>.expected. Set HELION_UPDATE_GOLDEN=1 to rewrite.

The IR a pass receives is the output of the last stage before it that
prints IR (lowering, or the config pass before it)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "golden"))
from run_golden import build_request, check_cases, generate  # noqa: E402

_HEADER = re.compile(r"^== (.+?)(?: \([\d.]+ ms\))?$")
# Stages whose text is IR: a pass's input is the last of these before it.
_IR_STAGES = ("lower", "bind_block_sizes", "roll_reductions")


def sections(dump: str) -> list[tuple[str, str]]:
    """The dump's stages in order, as (name, text) with timings removed."""
    out: list[tuple[str, list[str]]] = []
    for line in dump.splitlines(True):
        match = _HEADER.match(line.rstrip("\n"))
        if match:
            out.append((match.group(1), []))
        elif out:
            out[-1][1].append(line)
    return [(name, "".join(lines)) for name, lines in out]


def before_and_after(dump: str, pass_name: str) -> str:
    stages = sections(dump)
    names = [name for name, _ in stages]
    if pass_name not in names:
        return dump if dump.startswith("error:") else f"no stage {pass_name!r} in:\n{dump}"
    index = names.index(pass_name)
    before = next(
        (stages[i] for i in range(index - 1, -1, -1) if stages[i][0] in _IR_STAGES), None
    )
    text = ""
    if before:
        text += f"== before ({before[0]})\n{before[1]}"
    return text + f"== expected ({pass_name})\n{stages[index][1]}"


def main() -> int:
    helionc, folder = sys.argv[1], Path(sys.argv[2])

    def produce(case: Path) -> str:
        request, config = build_request(case)
        dump = generate(helionc, request, config, "--dump-stages")
        return before_and_after(dump, case.parent.name)

    return check_cases(sorted(folder.glob("*/*.py")), produce, "pass cases")


if __name__ == "__main__":
    sys.exit(main())
