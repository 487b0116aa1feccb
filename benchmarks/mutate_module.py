"""Mutation testing of ONE core module with the tests that exercise it: `make mutate MODULE=src/embedlab/store/recipe.py`.

mutmut 3 reads its settings only from `pyproject.toml` in the folder it runs in, and with every core module and all
their tests in one run, its first step (the whole selection once, to learn which test covers which function) and the
survivors (each survivor reruns every test that covers it) take one to two hours on 2 cores. So each module runs on its
own: this script copies the project (the files git knows, without ignored ones) into `build/mutate/<module>/`, writes
that copy's `[tool.mutmut]` with `only_mutate` = the module and the test selection of `MODULES` below, runs
`nice -n 19 mutmut run` there and prints `benchmarks/mutation_report.py`'s table (with several modules, one table of
all of them at the end, with the wall-clock and CPU time of each). Every pytest run of mutmut loads
`benchmarks/mutate_plugin.py`, which makes each mutant cheap (docs/testing.md says how and by how much). Results stay in
`build/mutate/<module>/mutants/`, so a rerun only tests mutants of functions that changed (pass --fresh to start
over); `cd build/mutate/<module> && mutmut show NAME` prints one mutant.

`PYTHONPATH` points at the mutated copy, so tests that start `python -m embedlab ...` in a subprocess run the mutant
too (mutmut passes the active mutant to children in `MUTANT_UNDER_TEST`).

Usage: python benchmarks/mutate_module.py MODULE [MODULE ...] | --all   [--tests PATH ...] [--children N] [--fresh]
       [--rerun-survivors]  (after adding tests: mutmut keeps each result until the mutated function changes)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import mutation_report  # benchmarks/, next to this script

ROOT = Path(__file__).resolve().parent.parent

# Each core module and the tests that check what it promises: the fast oracle tests (wordllama, hand-made data). Slow
# suites that only pass through the module (minilm, the demo store, maps, images, fine-tuning, the server, subprocess
# kill loops) are left out, so that a run takes minutes on a shared 2-core machine; each mutant runs only the
# selected tests that call the mutated function (mutmut records which in its first, "stats", run).
MODULES: dict[str, list[str]] = {
    # pure functions: no model, no store (test_ann_oracle.py and test_ann.py, which also pass through them,
    # are the engine's checks)
    "src/embedlab/search/__init__.py": [
        "tests/search/test_search_oracle.py",
        "tests/search/test_search.py::test_rrf_by_hand",
    ],
    # two 120-story collections made once per run and copied per test; what test_ann.py and test_ann_oracle.py
    # check of the engine (the planted index, filtered search, add/upsert/delete, another writer) is in it too
    "src/embedlab/search/engine.py": ["tests/search/test_engine_oracle.py"],
    "src/embedlab/store/recipe.py": ["tests/store/test_recipe_oracle.py", "tests/test_errors.py"],
    # its tests load wordllama, the Lee corpus and LanceDB when the module is imported, once in mutmut's fork server
    # (test_upsert_oracle.py and test_damaged.py's unfinished reembed have equally strong copies there)
    "src/embedlab/store/ingest.py": ["tests/store/test_ingest_oracle.py"],
    "src/embedlab/encoders/base.py": ["tests/encoders/test_base_oracle.py", "tests/test_errors.py"],
    "src/embedlab/encoders/spec.py": [
        "tests/encoders/test_spec_oracle.py",
        "tests/encoders/test_spec.py",
        "tests/encoders/test_registry.py",
    ],
    "src/embedlab/evaluate/core.py": ["tests/evaluate/test_core_oracle.py"],
    "src/embedlab/words/bias.py": [
        "tests/words/test_bias_oracle.py",
        "tests/words/test_bias.py",
        "tests/words/test_weat_oracle.py::test_effect_size_and_exact_p_value_by_the_papers_formulas",
    ],
}


def project_files() -> list[str]:
    """The files git knows of, tracked or new, without the ignored ones (no .venv, no build/, no mutants/)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


def mutmut_section(module: str, tests: list[str]) -> str:
    return "\n".join(
        [
            "[tool.mutmut]",
            "# written by benchmarks/mutate_module.py for this one module",
            'source_paths = ["src"]',
            f"only_mutate = [{module!r}]".replace("'", '"'),
            # benchmarks/mutate_plugin.py: the fork server preloads what the tests import, tests run fastest first,
            # and a mutant that loops for ever is stopped by a CPU-time limit
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "mutate_plugin", "-q"]',
            "pytest_add_cli_args_test_selection = [" + ", ".join(f'"{t}"' for t in tests) + "]",
            # torch and LanceDB hold threads: fork each mutant from a clean server process, not from the pytest one
            'process_isolation = "forkserver"',
            # mutmut stops a mutant's tests after (their time + constant) x multiplier seconds of wall-clock time
            # (twice that of CPU time); each forked test process loads its models again, which the measured test
            # time leaves out, and on a shared machine at nice 19 that takes long: a tight limit marks mutants
            # that a test would kill as timeouts. (time + 60 s) x 3 leaves room; an endless loop costs 3 minutes.
            "timeout_multiplier = 3.0",
            "timeout_constant = 60.0",
            "",
        ]
    )


def prepare(module: str, tests: list[str], fresh: bool) -> Path:
    slug = module.removeprefix("src/").removesuffix(".py").replace("/", ".")
    work = ROOT / "build" / "mutate" / slug
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in project_files():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
        mutated_copy = work / "mutants" / name
        if name.startswith(("src/", "tests/")) and mutated_copy.exists() and name.endswith(".py"):
            # mutmut copies each file into mutants/ once; a changed source or test must replace the stale copy
            if mutated_copy.stat().st_mtime < (ROOT / name).stat().st_mtime:
                mutated_copy.unlink()
    pyproject = (work / "pyproject.toml").read_text(encoding="utf-8")
    section = re.compile(r"^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", re.S | re.M)
    pyproject = section.sub(lambda _: mutmut_section(module, tests) + "\n", pyproject)
    if "[tool.mutmut]" not in pyproject:
        pyproject += "\n" + mutmut_section(module, tests)
    (work / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return work


def survivors(work: Path) -> list[str]:
    """Mutants that survived, that no test ran, or that timed out or crashed in the module's earlier run."""
    names = []
    for meta in (work / "mutants").rglob("*.py.meta"):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        names += [name for name, code in codes.items() if code not in (None, 1, 3)]  # survived, timed out, crashed
    return sorted(names)


@dataclass
class Outcome:
    module: str
    code: int  # mutmut's exit status
    wall_s: float
    cpu_s: float  # user + system time of mutmut and every process under it (forked mutants, test subprocesses)


def children_cpu() -> float:
    """CPU seconds of the waited-for descendants so far: mutmut waits for its fork server, which waits for each forked
    mutant, so getrusage(RUSAGE_CHILDREN) counts every process of the run."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(module: str, tests: list[str], children: int, fresh: bool, rerun_survivors: bool = False) -> Outcome:
    work = prepare(module, tests, fresh)
    # mutmut keeps a result until the mutated function changes; after adding tests, rerun the survivors by name
    names = survivors(work) if rerun_survivors else []
    env = dict(os.environ)
    env.update(
        # the mutated copy first; benchmarks/ holds the pytest plugin mutate_plugin.py
        PYTHONPATH=os.pathsep.join([str(work / "mutants" / "src"), str(work / "benchmarks")]),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    # made before Python starts: a PYTHONPATH folder missing at start-up is cached as "nothing here" for the whole
    # process, and the tests would then import the unmutated package of the virtual environment instead
    (work / "mutants" / "src").mkdir(parents=True, exist_ok=True)
    mutmut = Path(sys.executable).with_name("mutmut")
    command = ["nice", "-n", "19", str(mutmut), "run", "--max-children", str(children), *names]
    print(f"== {module}: {' '.join(command)} in {work.relative_to(ROOT)}; tests: {' '.join(tests)}", flush=True)
    start, cpu = time.monotonic(), children_cpu()
    code = subprocess.run(command, cwd=work, env=env).returncode
    outcome = Outcome(module, code, time.monotonic() - start, children_cpu() - cpu)
    print(
        f"== {module}: mutmut exited {code} after {outcome.wall_s / 60:.1f} min "
        f"({outcome.cpu_s / 60:.1f} min of CPU time)",
        flush=True,
    )
    mutation_report.main(work / "mutants")
    return outcome


def summary_table(outcomes: list[Outcome], children: int) -> None:
    """One table of every module run, with the time each took and the total."""
    print("\n== make mutate: every module")
    print(f"{mutation_report.header()} {'survival':>9} {'wall min':>9} {'CPU min':>8}")
    total = mutation_report.Summary("total")
    for outcome in outcomes:
        slug = outcome.module.removeprefix("src/").removesuffix(".py").replace("/", ".")
        found = mutation_report.summarise(ROOT / "build" / "mutate" / slug / "mutants")
        summary = found[0] if found else mutation_report.Summary(outcome.module)
        summary.module = outcome.module
        total.counts.update(summary.counts)
        total.survivors += summary.survivors
        print(
            f"{mutation_report.row(summary)} {summary.rate:9.1%} {outcome.wall_s / 60:9.1f} {outcome.cpu_s / 60:8.1f}"
            + ("" if outcome.code == 0 else f"   (mutmut exited {outcome.code})")
        )
    wall, cpu = sum(o.wall_s for o in outcomes), sum(o.cpu_s for o in outcomes)
    print(f"{mutation_report.row(total)} {total.rate:9.1%} {wall / 60:9.1f} {cpu / 60:8.1f}")
    # the mutants take nearly all the time, `children` at once: on a machine with nothing else to do, the CPU time
    # divided among them is the wall-clock time to expect
    parallel = min(children, os.cpu_count() or 1)
    print(
        f"\ntotal: {wall / 60:.1f} min wall-clock, {cpu / 60:.1f} min of CPU time "
        f"(about {cpu / 60 / parallel:.1f} min with {parallel} at once on a machine with nothing else to do); "
        f"survival {total.counts['survived']} of {total.run} ({total.rate:.1%}), "
        f"{total.counts['equivalent']} equivalent, {total.counts['not run']} not run"
    )
    for name in total.survivors:
        print(f"  survived: {name}")


def refuse(message: str) -> NoReturn:
    print(f"mutate_module.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def resolve(module: str) -> str:
    """MODULES' key for a path given on the command line (./src/..., an absolute path); refuses an unknown one."""
    path = Path(module)
    if path.is_absolute() and path.resolve().is_relative_to(ROOT):
        path = path.resolve().relative_to(ROOT)
    name = path.as_posix().removeprefix("./")
    if name in MODULES:
        return name
    for candidate in (f"src/{name}", f"src/embedlab/{name}", f"src/{name.replace('.', '/')}.py"):
        if candidate in MODULES:
            return candidate
    refuse(
        f"no test selection for {module!r}. The core modules are:\n  "
        + "\n  ".join(MODULES)
        + "\nname one of them (make mutate MODULE=src/embedlab/store/recipe.py), run them all (make mutate), or "
        "give another module its tests: python benchmarks/mutate_module.py src/embedlab/OTHER.py --tests tests/PATH"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths such as src/embedlab/store/recipe.py")
    parser.add_argument("--all", action="store_true", help="every core module of MODULES, one after another")
    parser.add_argument("--tests", nargs="+", help="test paths instead of the module's selection in MODULES")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results of the module")
    parser.add_argument(
        "--rerun-survivors",
        action="store_true",
        help="test the earlier run's survivors (and timeouts) again, e.g. after adding tests",
    )
    args = parser.parse_args()
    if args.children < 1:
        refuse(f"--children {args.children}: give at least 1")
    if args.all and args.tests:
        refuse("--tests goes with one module, not with --all (each core module has its own selection in MODULES)")
    if not args.modules and not args.all:
        refuse("name a module (one of: " + ", ".join(MODULES) + ") or pass --all")
    # every module is checked before the first one runs: a typo in the third must not cost the first two's hour
    jobs: list[tuple[str, list[str]]] = []
    for module in list(MODULES) if args.all else args.modules:
        if args.tests:
            if not (ROOT / module).is_file() or not module.endswith(".py"):
                refuse(f"{module!r} is not a Python file of this project (give its path, e.g. src/embedlab/OTHER.py)")
            tests = args.tests
        else:
            module = resolve(module)
            tests = MODULES[module]
        missing = [t for t in tests if not (ROOT / t.split("::")[0]).exists()]
        if missing:
            refuse(f"the tests {', '.join(missing)} of {module} do not exist: fix MODULES or --tests")
        jobs.append((module, tests))
    outcomes = [run(module, tests, args.children, args.fresh, args.rerun_survivors) for module, tests in jobs]
    if len(outcomes) > 1:
        summary_table(outcomes, args.children)
    return max(outcome.code for outcome in outcomes)


if __name__ == "__main__":
    sys.exit(main())
