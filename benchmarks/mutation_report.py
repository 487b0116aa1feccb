"""Summarise a `mutmut run` (make mutate): mutants killed, survived, timed out, per module, and the survival rate.

mutmut writes one `mutants/<source>.meta` JSON file per mutated module, mapping each mutant to the exit code of
the tests that ran against it; mutmut's own `status_by_exit_code` names them (1 or 3: some test failed, the bug
was caught; 0: every test passed, the mutant survived; 33: no test runs that code; -24/24/36/152/255: the tests
ran out of their CPU-time limit, usually an endless loop the mutant made; -9/-11: the test process died).

A survivor listed in docs/testing.md's table of equivalent mutants (a row "| `NAME` | reason |") cannot change
behaviour; it is counted apart and left out of the survival rate. Run after `mutmut run`; `mutmut show NAME`
prints a mutant. Usage: python benchmarks/mutation_report.py [MUTANTS_FOLDER]
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

DOCS = Path(__file__).resolve().parent.parent / "docs" / "testing.md"


def kind(code: int | None) -> str:
    status = status_by_exit_code[code]
    if status == "not checked":
        return "not run"
    if status in ("survived", "no tests"):
        return "survived"  # a mutant no test even runs is a surviving bug too
    if status == "timeout":
        return "timeout"
    return "killed" if status == "killed" else "crashed"


def equivalent_mutants(docs: Path = DOCS) -> set[str]:
    """Mutant names listed as equivalent in docs/testing.md (first cell of a table row, in backquotes)."""
    if not docs.is_file():
        return set()
    return set(re.findall(r"^\| `([\w.ǁ]+__mutmut_\d+)` \|", docs.read_text(encoding="utf-8"), re.M))


def main(folder: Path = Path("mutants")) -> int:
    metas = sorted(folder.rglob("*.py.meta"))
    if not metas:
        print(f"no mutation results under {folder}/: run `mutmut run` (or `make mutate`) first", file=sys.stderr)
        return 2
    equivalent = equivalent_mutants()
    total: Counter[str] = Counter()
    survivors: list[str] = []
    header = ("module", "mutants", "killed", "timeout", "crashed", "survived", "equiv.", "not run")
    print(f"{header[0]:42} " + " ".join(f"{h:>8}" for h in header[1:]))
    for meta in metas:
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        counts = Counter(
            "equivalent" if kind(code) == "survived" and name in equivalent else kind(code)
            for name, code in codes.items()
        )
        survivors += [name for name, code in codes.items() if kind(code) == "survived" and name not in equivalent]
        total.update(counts)
        module = str(meta.relative_to(folder)).removesuffix(".meta")
        row = [len(codes)] + [counts[k] for k in ("killed", "timeout", "crashed", "survived", "equivalent", "not run")]
        print(f"{module:42} " + " ".join(f"{n:8}" for n in row))
    run = sum(n for k, n in total.items() if k not in ("not run", "equivalent"))
    rate = total["survived"] / run if run else 0.0
    print(
        f"\nsurvival rate: {total['survived']} of {run} non-equivalent mutants run ({rate:.1%}); "
        f"{total['equivalent']} equivalent; {total['not run']} not run"
    )
    for name in survivors:
        print(f"  survived: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("mutants")))
