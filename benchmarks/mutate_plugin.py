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
gets a CPU-time limit of (its tests' time in the stats run + the fixture set-up time of the whole stats run + 5 s)
x 3, so a mutant that loops for ever is stopped after seconds of CPU time instead of mutmut's wall-clock limit of
minutes (that limit stays as the backstop for a mutant that hangs without using CPU). mutmut's stats only time the
tests' calls; the set-up of a session fixture (a model, a store) falls to whichever test needs it first, so the
whole run's set-up time is allowed to every mutant. A CPU limit, unlike a wall-clock one, does not grow when the
machine is busy.
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
FIXTURES_FILE = "mutate-fixtures.json"  # {"setup_s": seconds of fixture set-up and tear-down in the stats run}
CPU_CONSTANT_S = float(os.environ.get("MUTATE_PLUGIN_CPU_S", "5"))  # the variable is for tests/test_mutate.py
SETUP_UNKNOWN_S = 20.0  # allowed for fixtures when no stats run of this plugin recorded their time
CPU_MULTIPLIER = 3.0

_preloaded = False
_before: set[str] = set()
_setup_s = 0.0


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


@pytest.hookimpl(trylast=True)  # after any plugin that deselects or reorders
def pytest_collection_modifyitems(config, items) -> None:
    mutant = _mutant()
    if "__mutmut_" not in mutant:
        return
    stats = Path(str(config.rootpath)) / "mutmut-stats.json"
    try:
        durations = json.loads(stats.read_text(encoding="utf-8"))["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))  # stable: ties keep pytest's order
    try:
        setup = float(json.loads((stats.parent / FIXTURES_FILE).read_text(encoding="utf-8"))["setup_s"])
    except (OSError, ValueError, KeyError, TypeError):
        setup = SETUP_UNKNOWN_S
    allowance = (sum(durations.get(item.nodeid, 0.0) for item in items) + setup + CPU_CONSTANT_S) * CPU_MULTIPLIER
    limit = int(time.process_time() + allowance) + 1
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if soft == resource.RLIM_INFINITY or limit < soft:
        resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


def pytest_runtest_logreport(report) -> None:
    global _setup_s
    if report.when in ("setup", "teardown"):
        _setup_s += report.duration


def pytest_unconfigure(config) -> None:
    # the stats run and the clean run record what their tests imported, for the fork server to preload
    if _mutant() not in ("stats", "") or config.getoption("collectonly", False):
        return
    root = Path(str(config.rootpath))
    if _mutant() == "stats":  # (a later stats run of only the new tests keeps the larger figure)
        fixtures = root / FIXTURES_FILE
        try:
            recorded = float(json.loads(fixtures.read_text(encoding="utf-8"))["setup_s"])
        except (OSError, ValueError, KeyError, TypeError):
            recorded = 0.0
        fixtures.write_text(json.dumps({"setup_s": round(max(recorded, _setup_s), 3)}), encoding="utf-8")
    new = [name for name in sys.modules if name not in _before and not _ours(name, root)]
    if not new:
        return
    path = root / PRELOAD_FILE
    known = path.read_text(encoding="utf-8").split() if path.is_file() else []
    names = known + [name for name in new if name not in set(known)]
    if names != known:
        path.write_text("\n".join(names) + "\n", encoding="utf-8")
