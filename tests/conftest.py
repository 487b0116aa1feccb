"""Shared fixtures: models load once per test session; every store lives in a temp folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    from embedlab import load

    return load("minilm")


@pytest.fixture(scope="session")
def wordllama():
    from embedlab import load

    return load("wordllama")


@pytest.fixture(scope="session")
def lee_records():
    from embedlab.datasets import lee_news

    return lee_news()


@pytest.fixture
def store(tmp_path: Path):
    from embedlab.store import Store

    return Store(tmp_path / "store")


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the user's real store."""
    monkeypatch.setenv("EMBEDLAB_STORE", str(tmp_path / "default-store"))


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """The demo run once on a temp store: 300 Lee news stories in `demo-news` (minilm), landmarks, movies."""
    from embedlab import demo
    from embedlab.store import Store

    store = Store(tmp_path_factory.mktemp("demo") / "store")
    return store, demo.run(store)


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run `embedlab ARGS...` in-process; returns (exit code, stdout, stderr)."""
    import sys

    from embedlab.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["embedlab", *args])
        code = 0
        try:
            main(standalone=False)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run
