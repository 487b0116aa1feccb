"""Summarise a `mutmut run` (make mutate): mutants killed, survived, timed out, per module, and the survival rate.

mutmut writes one `mutants/<source>.meta` JSON file per mutated module, mapping each mutant to the exit code of
the tests that ran against it: 1 means some test failed (the bug was caught), 0 means every test passed (the
mutant survived), other codes are timeouts or errors. Run after `mutmut run`; `mutmut show NAME` prints a mutant.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

KILLED, SURVIVED = 1, 0


def main(folder: Path = Path("mutants")) -> int:
    metas = sorted(folder.rglob("*.py.meta"))
    if not metas:
        print(f"no mutation results under {folder}/: run `mutmut run` (or `make mutate`) first", file=sys.stderr)
        return 2
    total: Counter[str] = Counter()
    survivors: list[str] = []
    print(f"{'module':50} {'mutants':>8} {'killed':>8} {'survived':>9} {'other':>6} {'not run':>8}")
    for meta in metas:
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        counts = Counter(
            "not run" if code is None else "killed" if code == KILLED else "survived" if code == SURVIVED else "other"
            for code in codes.values()
        )
        survivors += [name for name, code in codes.items() if code == SURVIVED]
        total.update(counts)
        module = str(meta.relative_to(folder)).removesuffix(".meta")
        print(
            f"{module:50} {len(codes):8} {counts['killed']:8} {counts['survived']:9} {counts['other']:6} "
            f"{counts['not run']:8}"
        )
    run = total["killed"] + total["survived"] + total["other"]
    rate = total["survived"] / run if run else 0.0
    print(f"\nsurvival rate: {total['survived']} of {run} mutants run ({rate:.1%}); {total['not run']} not run")
    for name in survivors:
        print(f"  survived: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("mutants")))
