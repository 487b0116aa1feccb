"""Summarise a `mutmut run` (make mutate): mutants killed, survived, timed out, per module, and the survival rate.

mutmut writes one `mutants/<source>.meta` JSON file per mutated module, mapping each mutant to the exit code of
the tests that ran against it: 1 means some test failed (the bug was caught), 0 means every test passed (the
mutant survived), 33 means no test runs that code, -24 (SIGXCPU) that the tests ran out of their CPU-time limit
(usually an infinite loop the mutant made), other negative codes that the test process crashed. Run after `mutmut run`; `mutmut show NAME` prints a mutant.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

KILLED, SURVIVED, NO_TESTS, CPU_LIMIT = 1, 0, 33, -24


def kind(code: int | None) -> str:
    if code is None:
        return "not run"
    if code == KILLED:
        return "killed"
    if code in (SURVIVED, NO_TESTS):
        return "survived"  # a mutant no test even runs is a surviving bug too
    return "timeout" if code == CPU_LIMIT else "crashed"


def main(folder: Path = Path("mutants")) -> int:
    metas = sorted(folder.rglob("*.py.meta"))
    if not metas:
        print(f"no mutation results under {folder}/: run `mutmut run` (or `make mutate`) first", file=sys.stderr)
        return 2
    total: Counter[str] = Counter()
    survivors: list[str] = []
    print(f"{'module':42} {'mutants':>8} {'killed':>7} {'timeout':>8} {'crashed':>8} {'survived':>9} {'not run':>8}")
    for meta in metas:
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        counts = Counter(kind(code) for code in codes.values())
        survivors += [name for name, code in codes.items() if code in (SURVIVED, NO_TESTS)]
        total.update(counts)
        module = str(meta.relative_to(folder)).removesuffix(".meta")
        print(
            f"{module:42} {len(codes):8} {counts['killed']:7} {counts['timeout']:8} {counts['crashed']:8} "
            f"{counts['survived']:9} {counts['not run']:8}"
        )
    run = sum(n for k, n in total.items() if k != "not run")
    rate = total["survived"] / run if run else 0.0
    print(f"\nsurvival rate: {total['survived']} of {run} mutants run ({rate:.1%}); {total['not run']} not run")
    for name in survivors:
        print(f"  survived: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("mutants")))
