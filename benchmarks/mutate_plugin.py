"""A pytest plugin that `benchmarks/mutate_module.py` loads (`-p mutate_plugin`) into every pytest run of mutmut.

mutmut 3 tests each mutant in a process forked from its fork server, and each such process runs `pytest.main` from
the start. Measured on `store/recipe.py`, 80% of a mutant's time went to things no mutant changes:

- importing the libraries that the tests import lazily: a test that builds a minilm `ModelSpec` imports torch (2.2 s
  of a 2.8 s mutant), others import lancedb, pandas, pyarrow, transformers. The fork server has imported only what
  collecting the tests imports. So the stats run (the whole selection once, before the fork server starts) writes
  the third-party modules the tests imported into `mutants/mutate-preload.txt`, and the fork server imports them
  once in its warm-up, so every forked mutant has them already. embedlab's own modules are never preloaded: a module
  imported before the mutant is set would run its import-time calls (e.g. `register(...)`) unmutated.
- pytest's garbage collections at the end of a session (0.4 s with torch in memory): the objects the process
  inherited are frozen (`gc.freeze()`), so a collection looks only at what the test made.

Two more things for mutant runs only (MUTANT_UNDER_TEST names a mutant): the tests run fastest first, as mutmut's
plain fork runner orders them (its fork server keeps set order) and `-x` stops at the first failure; and the process
gets a CPU-time limit of (its tests' CPU time in the stats run + the CPU time of all fixture set-ups and tear-downs
of the stats run + 5 s) x 3, so a mutant that loops for ever is stopped after seconds of CPU time instead of
mutmut's wall-clock limit of minutes (that limit stays as the backstop for a mutant that hangs without using CPU).
mutmut's stats only time the tests' calls, in wall-clock time; the set-up of a session fixture (a model, a store)
falls to whichever test needs it first, so the whole run's set-up time is allowed to every mutant. A CPU limit
measured against CPU times, unlike a wall-clock one, does not grow or shrink with the load of the machine.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import pytest

PRELOAD_FILE = "mutate-preload.txt"
# packages that start a thread when imported: a fork of a process with threads copies only the forking thread, and
# lancedb itself warns that its fork support may deadlock; they are imported in each mutant's process (lancedb's own
# modules take 0.15 s once its dependencies, pyarrow, pandas and lance_namespace, are preloaded)
NOT_PRELOADED = ("lancedb", "ray")
# the stats run's CPU time: {"calls": {test id: seconds of its call}, "fixtures": seconds of all set-ups and tear-downs}
CPU_FILE = "mutate-cpu.json"
CPU_CONSTANT_S = float(os.environ.get("MUTATE_PLUGIN_CPU_S", "5"))  # the variable is for tests/test_mutate.py
FIXTURES_UNKNOWN_S = 20.0  # allowed for fixtures when no stats run of this plugin recorded their time
CPU_MULTIPLIER = 3.0

_preloaded = False
_before: set[str] = set()
_calls: dict[str, float] = {}
_fixtures = 0.0


def _mutant() -> str:
    return os.environ.get("MUTANT_UNDER_TEST", "")


def _ours(name: str, root: Path | None = None) -> bool:
    """Modules of the project itself (mutated, or the tests): never preloaded."""
    if name.split(".")[0] in (
        "embedlab",
        "tests",
        "conftest",
        "__main__",
        "__mp_main__",
        "mutate_plugin",
        *NOT_PRELOADED,
    ):
        return True
    origin = getattr(sys.modules.get(name), "__file__", None) or ""
    return root is not None and origin.startswith(str(root.parent) + os.sep)


def _preload(path: Path) -> None:
    global _preloaded
    _preloaded = True
    if not path.is_file():
        return
    start = time.process_time()
    failed = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in path.read_text(encoding="utf-8").split():
            if name in sys.modules or _ours(name):
                continue
            try:
                importlib.import_module(name)
            except Exception:  # best effort: a module that only imports in some context is simply left out
                failed += 1
    if os.environ.get("MUTATE_PLUGIN_DEBUG"):
        threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else -1
        print(
            f"mutate_plugin: preloaded in {time.process_time() - start:.1f} s CPU ({failed} failed), {threads} threads",
            file=sys.stderr,
        )


def pytest_configure(config) -> None:
    global _before
    if not _preloaded:
        _preload(Path(str(config.rootpath)) / PRELOAD_FILE)
    _before = set(sys.modules)
    # everything this process holds so far (the fork server's imports) is left out of garbage collections
    gc.freeze()


def _read_cpu(root: Path) -> tuple[dict[str, float], float | None]:
    try:
        recorded = json.loads((root / CPU_FILE).read_text(encoding="utf-8"))
        return {k: float(v) for k, v in recorded["calls"].items()}, float(recorded["fixtures"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, None


@pytest.hookimpl(trylast=True)  # after any plugin that deselects or reorders
def pytest_collection_modifyitems(config, items) -> None:
    mutant = _mutant()
    if "__mutmut_" not in mutant:
        return
    root = Path(str(config.rootpath))
    try:  # mutmut's own record: wall-clock seconds of each test's call
        durations = json.loads((root / "mutmut-stats.json").read_text(encoding="utf-8"))["duration_by_test"]
    except (OSError, ValueError, KeyError):
        durations = {}
    calls, fixtures = _read_cpu(root)

    def cost(item) -> float:
        return calls.get(item.nodeid, durations.get(item.nodeid, 0.0))

    items.sort(key=cost)  # stable: ties keep pytest's order
    fixtures = FIXTURES_UNKNOWN_S if fixtures is None else fixtures
    allowance = (sum(map(cost, items)) + fixtures + CPU_CONSTANT_S) * CPU_MULTIPLIER
    limit = int(time.process_time() + allowance) + 1
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if soft == resource.RLIM_INFINITY or limit < soft:
        resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


def _fixture_time():
    """A hook wrapper's body: adds the CPU time of the wrapped set-up or tear-down to the fixtures' total."""
    global _fixtures
    start = time.process_time()
    try:
        return (yield)
    finally:
        _fixtures += time.process_time() - start


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _fixture_time())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    start = time.process_time()
    try:
        return (yield)
    finally:
        _calls[item.nodeid] = time.process_time() - start


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    return (yield from _fixture_time())


def pytest_unconfigure(config) -> None:
    # the stats run and the clean run record what their tests imported, for the fork server to preload
    if _mutant() not in ("stats", "") or config.getoption("collectonly", False):
        return
    root = Path(str(config.rootpath))
    if _mutant() == "stats":  # mutmut's later stats runs, of new tests only, add to what is recorded
        calls, fixtures = _read_cpu(root)
        calls.update({k: round(v, 4) for k, v in _calls.items()})
        total = round(max(fixtures or 0.0, _fixtures), 3)
        (root / CPU_FILE).write_text(json.dumps({"calls": calls, "fixtures": total}), encoding="utf-8")
    new = [name for name in sys.modules if name not in _before and not _ours(name, root)]
    if not new:
        return
    path = root / PRELOAD_FILE
    known = path.read_text(encoding="utf-8").split() if path.is_file() else []
    names = known + [name for name in new if name not in set(known)]
    if names != known:
        path.write_text("\n".join(names) + "\n", encoding="utf-8")
