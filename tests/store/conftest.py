"""Helpers for tests that run `embedlab` in real processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ANN_THRESHOLD = "100"  # small, so concurrent writers cross it and the HNSW index is kept in these tests


@pytest.fixture(scope="session")
def sentences(lee_records) -> list[str]:
    """Distinct sentences of the Lee corpus (about 2,500)."""
    found: list[str] = []
    for record in lee_records:
        found += [s.strip() for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 3]
    return list(dict.fromkeys(found))


def cli_env(store: Path) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {
        **os.environ,
        "EMBEDLAB_STORE": str(store),
        "EMBEDLAB_ANN_THRESHOLD": ANN_THRESHOLD,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


def start(store: Path, *args: str) -> subprocess.Popen:
    """`embedlab ARGS` in a new process (its own process group), stdout and stderr captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "embedlab", *args],
        env=cli_env(store),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err
