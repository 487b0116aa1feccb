"""`make mutate`'s own parts (benchmarks/): the harness refuses what it cannot run, the report counts mutmut's
results as mutmut names them, and the pytest plugin that makes each mutant cheap does what it promises: the fast
tests first, a CPU-time limit that stops an endless loop, and a preload list of third-party modules only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / "mutate_module.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["src/embedlab/store/nothing.py"], "no test selection for 'src/embedlab/store/nothing.py'"),
        (["store/recipe.py", "--children", "0"], "--children 0: give at least 1"),
        ([], "name a module"),
        (["--all", "--tests", "tests/test_errors.py"], "--tests goes with one module"),
        (["src/embedlab/nothing.py", "--tests", "tests/test_errors.py"], "is not a Python file of this project"),
    ],
)
def test_the_harness_refuses_with_exit_2_and_says_what_to_do(args, says):
    done = harness(*args)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert not done.stdout  # refused before anything was copied or run
    if "no test selection" in says:
        # it names every core module and the commands that work
        for module in ("src/embedlab/store/recipe.py", "src/embedlab/words/bias.py", "src/embedlab/search/engine.py"):
            assert f"\n  {module}\n" in done.stderr + "\n"
        assert "make mutate MODULE=src/embedlab/store/recipe.py" in done.stderr and "--tests" in done.stderr


def test_the_harness_checks_every_module_before_running_the_first():
    done = harness("src/embedlab/store/recipe.py", "src/embedlab/typo.py")
    assert done.returncode == 2 and "no test selection for 'src/embedlab/typo.py'" in done.stderr
    assert not done.stdout and "mutmut" not in done.stderr


def test_the_report_counts_mutmuts_exit_codes(tmp_path, monkeypatch):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import mutation_report
    finally:
        sys.path.remove(str(BENCHMARKS))
    equivalent = next(iter(sorted(mutation_report.equivalent_mutants())))
    codes = {
        "m.x_f__mutmut_1": 1,  # a test failed: killed
        "m.x_f__mutmut_2": 3,  # pytest's "interrupted" after a failure under -x: killed too
        "m.x_f__mutmut_3": 0,  # every test passed: survived
        "m.x_f__mutmut_4": 33,  # no test calls the function: a survivor as well
        "m.x_f__mutmut_5": -24,  # SIGXCPU: timed out
        "m.x_f__mutmut_6": None,  # not run yet
        "m.x_f__mutmut_7": -11,  # the test process died
        equivalent: 0,  # survived, but listed in docs/testing.md as equivalent
    }
    meta = tmp_path / "src" / "m.py.meta"
    meta.parent.mkdir()
    meta.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")
    [summary] = mutation_report.summarise(tmp_path)
    assert summary.module == "src/m.py" and summary.mutants == 8
    assert dict(summary.counts) == {
        "killed": 2,
        "survived": 2,
        "timeout": 1,
        "not run": 1,
        "crashed": 1,
        "equivalent": 1,
    }
    assert sorted(summary.survivors) == ["m.x_f__mutmut_3", "m.x_f__mutmut_4"]
    assert summary.run == 6 and summary.rate == pytest.approx(2 / 6)
    assert mutation_report.main(tmp_path) == 0
    assert mutation_report.main(tmp_path / "empty") == 2


def run_plugin(project: Path, mutant: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MUTANT_UNDER_TEST=mutant, PYTHONPATH=str(BENCHMARKS), MUTATE_PLUGIN_DEBUG="1")
    command = [sys.executable, "-m", "pytest", "-p", "mutate_plugin", "-p", "no:cacheprovider", "--rootdir=.", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120)


def test_a_mutants_tests_run_fastest_first_by_the_stats_runs_times(tmp_path):
    (tmp_path / "test_order.py").write_text(
        "def test_slow():\n    print('ran slow')\n\ndef test_medium():\n    print('ran medium')\n\n"
        "def test_fast():\n    print('ran fast')\n",
        encoding="utf-8",
    )
    durations = {"test_order.py::test_slow": 9.0, "test_order.py::test_medium": 2.0, "test_order.py::test_fast": 0.1}
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": durations}), encoding="utf-8")
    done = run_plugin(tmp_path, "m.x_f__mutmut_1", "-s", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [line.split()[-1] for line in done.stdout.splitlines() if "ran " in line]
    assert ran == ["fast", "medium", "slow"]
    # outside a mutant's run (the stats and clean runs), pytest's own order
    done = run_plugin(tmp_path, "", "-s", "-q")
    assert [line.split()[-1] for line in done.stdout.splitlines() if "ran " in line] == ["slow", "medium", "fast"]


def test_a_mutant_that_loops_for_ever_is_stopped_by_cpu_time(tmp_path):
    (tmp_path / "test_loop.py").write_text("def test_loop():\n    while True:\n        pass\n", encoding="utf-8")
    (tmp_path / "mutmut-stats.json").write_text(
        json.dumps({"duration_by_test": {"test_loop.py::test_loop": 0.0}}), encoding="utf-8"
    )
    (tmp_path / "mutate-cpu.json").write_text(json.dumps({"calls": {}, "fixtures": 0.0}), encoding="utf-8")
    env = dict(os.environ, MUTANT_UNDER_TEST="m.x_f__mutmut_1", PYTHONPATH=str(BENCHMARKS), MUTATE_PLUGIN_CPU_S="0.3")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "mutate_plugin", "-p", "no:cacheprovider", "--rootdir=.", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=600,  # a few seconds of CPU time, but minutes of wall-clock time on a busy machine at nice 19
    )
    # (0 s of tests + 0 s of fixtures + 0.3 s) x 3 of CPU time, rounded up to whole seconds, then SIGXCPU: mutmut
    # reads -24 as "timeout"
    assert done.returncode == -24


def test_the_clean_run_lists_third_party_modules_to_preload_and_never_the_projects(tmp_path):
    (tmp_path / "helper_of_the_project.py").write_text("VALUE = 1\n", encoding="utf-8")
    (tmp_path / "test_imports.py").write_text(
        "def test_imports():\n"
        "    import helper_of_the_project, wave, xml.dom.minidom\n"
        "    import embedlab.store.recipe\n"
        "    assert helper_of_the_project.VALUE == 1\n",
        encoding="utf-8",
    )
    env_path = os.pathsep.join([str(tmp_path), str(BENCHMARKS), str(ROOT / "src")])
    env = dict(os.environ, MUTANT_UNDER_TEST="", PYTHONPATH=env_path, MUTATE_PLUGIN_DEBUG="1")
    command = [sys.executable, "-m", "pytest", "-p", "mutate_plugin", "-p", "no:cacheprovider", "--rootdir=.", "-q"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = (tmp_path / "mutate-preload.txt").read_text(encoding="utf-8").split()
    assert "wave" in listed and "xml.dom.minidom" in listed
    assert not [name for name in listed if name.startswith(("embedlab", "test_", "helper_of_the_project"))]
    # the fork server's warm-up (pytest --collect-only) imports them; a collect-only run writes nothing
    done = subprocess.run([*command, "--collect-only"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "mutate_plugin: preloaded" in done.stderr
    assert (tmp_path / "mutate-preload.txt").read_text(encoding="utf-8").split() == listed


def test_the_stats_run_records_cpu_time_of_calls_and_fixtures_for_the_cpu_limit(tmp_path):
    burn = "import time\n\ndef burn(seconds):\n    end = time.process_time() + seconds\n    while time.process_time() < end:\n        pass\n"
    (tmp_path / "test_fixture.py").write_text(
        burn + "\nimport pytest\n\n@pytest.fixture(scope='session')\ndef heavy():\n    burn(0.4)\n\n"
        "def test_one(heavy):\n    burn(0.2)\n\ndef test_two(heavy):\n    time.sleep(0.3)\n",
        encoding="utf-8",
    )
    done = run_plugin(tmp_path, "stats", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    recorded = json.loads((tmp_path / "mutate-cpu.json").read_text(encoding="utf-8"))
    calls = recorded["calls"]
    assert 0.2 <= calls["test_fixture.py::test_one"] < 10
    assert calls["test_fixture.py::test_two"] < 0.2  # sleeping costs no CPU time
    assert 0.4 <= recorded["fixtures"] < 10  # the session fixture, once
    # a later stats run of a new test (mutmut's incremental run) adds its call and keeps the larger fixture figure
    (tmp_path / "test_fixture.py").write_text("def test_three():\n    pass\n", encoding="utf-8")
    assert run_plugin(tmp_path, "stats", "-q").returncode == 0
    again = json.loads((tmp_path / "mutate-cpu.json").read_text(encoding="utf-8"))
    assert again["fixtures"] == recorded["fixtures"]
    assert set(again["calls"]) == {f"test_fixture.py::test_{n}" for n in ("one", "two", "three")}


def test_make_mutate_ends_with_one_table_of_every_module_and_the_total_time(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import mutate_module

    monkeypatch.setattr(mutate_module, "ROOT", tmp_path)
    results = {
        "store.recipe": {"embedlab.store.recipe.x_f__mutmut_1": 1, "embedlab.store.recipe.x_f__mutmut_2": 0},
        "evaluate.core": {f"embedlab.evaluate.core.x_g__mutmut_{i}": 1 for i in range(1, 4)},
    }
    for slug, codes in results.items():
        meta = tmp_path / "build" / "mutate" / f"embedlab.{slug}" / "mutants" / "src" / "embedlab" / "m.py.meta"
        meta.parent.mkdir(parents=True)
        meta.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")
    outcomes = [
        mutate_module.Outcome("src/embedlab/store/recipe.py", 0, wall_s=120.0, cpu_s=60.0),
        mutate_module.Outcome("src/embedlab/evaluate/core.py", 0, wall_s=240.0, cpu_s=180.0),
    ]
    mutate_module.summary_table(outcomes, children=2)
    lines = capsys.readouterr().out.splitlines()
    recipe = next(line for line in lines if line.startswith("src/embedlab/store/recipe.py")).split()
    assert recipe[1:9] == ["2", "1", "0", "0", "1", "0", "0", "50.0%"] and recipe[9:11] == ["2.0", "1.0"]
    total = next(line for line in lines if line.startswith("total ")).split()
    assert total[1:9] == ["5", "4", "0", "0", "1", "0", "0", "20.0%"] and total[9:11] == ["6.0", "4.0"]
    # 4 minutes of CPU time shared by 2 mutants at a time (the machine has 2 cores or more)
    assert "6.0 min wall-clock, 4.0 min of CPU time (about 2.0 min with 2 at once" in lines[-2]
    assert lines[-1] == "  survived: embedlab.store.recipe.x_f__mutmut_2"
