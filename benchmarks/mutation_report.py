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
from dataclasses import dataclass, field
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


COLUMNS = ("killed", "timeout", "crashed", "survived", "equivalent", "not run")
HEADER = ("module", "mutants", "killed", "timeout", "crashed", "survived", "equiv.", "not run")


@dataclass
class Summary:
    """One module's mutants by outcome (COLUMNS), and the names of its survivors that are not equivalent."""

    module: str
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def mutants(self) -> int:
        return sum(self.counts.values())

    @property
    def run(self) -> int:
        """Mutants whose tests ran, less the equivalent ones: the denominator of the survival rate."""
        return sum(n for k, n in self.counts.items() if k not in ("not run", "equivalent"))

    @property
    def rate(self) -> float:
        return self.counts["survived"] / self.run if self.run else 0.0


def summarise(folder: Path) -> list[Summary]:
    """A Summary per mutated module of a `mutants/` folder (one `*.py.meta` file each); [] when nothing ran yet."""
    equivalent = equivalent_mutants()
    summaries = []
    for meta in sorted(folder.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        summary = Summary(str(meta.relative_to(folder)).removesuffix(".meta"))
        for name, code in codes.items():
            outcome = kind(code)
            if outcome == "survived" and name in equivalent:
                outcome = "equivalent"
            summary.counts[outcome] += 1
            if outcome == "survived":
                summary.survivors.append(name)
        summaries.append(summary)
    return summaries


def row(summary: Summary, width: int = 42) -> str:
    return f"{summary.module:{width}} " + " ".join(
        f"{n:8}" for n in [summary.mutants, *map(summary.counts.__getitem__, COLUMNS)]
    )


def header(width: int = 42) -> str:
    return f"{HEADER[0]:{width}} " + " ".join(f"{h:>8}" for h in HEADER[1:])


def main(folder: Path = Path("mutants")) -> int:
    summaries = summarise(folder)
    if not summaries:
        print(f"no mutation results under {folder}/: run `mutmut run` (or `make mutate`) first", file=sys.stderr)
        return 2
    print(header())
    total = Summary("total")
    for summary in summaries:
        print(row(summary))
        total.counts.update(summary.counts)
        total.survivors += summary.survivors
    print(
        f"\nsurvival rate: {total.counts['survived']} of {total.run} non-equivalent mutants run ({total.rate:.1%}); "
        f"{total.counts['equivalent']} equivalent; {total.counts['not run']} not run"
    )
    for name in total.survivors:
        print(f"  survived: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("mutants")))
