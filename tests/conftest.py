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
