"""Real data for the map tests: the Lee news corpus embedded with minilm, with three known topics.

Topics are marked by keywords in each story's opening words (bushfires, the war in Afghanistan,
the Israeli-Palestinian conflict); stories naming none or several topics stay unlabelled.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

OPENING_WORDS = 60
TOPICS = {
    "fires": r"\b(bushfires?|fires?|firefighters?|blazes?)\b",
    "afghanistan": r"\b(afghanistan|afghan|taliban|kandahar|bin laden)\b",
    "middle-east": r"\b(israeli?|palestinians?|arafat|sharon|hamas|gaza|west bank)\b",
}


def topic_of(text: str) -> str | None:
    found = [name for name, pattern in TOPICS.items() if re.search(pattern, text.lower())]
    return found[0] if len(found) == 1 else None


@pytest.fixture(scope="session")
def lee_openings(lee_records) -> list[str]:
    """The first words of each of the 300 Lee stories."""
    return [" ".join(r.text.split()[:OPENING_WORDS]) for r in lee_records]


@pytest.fixture(scope="session")
def lee_topics(lee_openings) -> np.ndarray:
    return np.array([topic_of(t) for t in lee_openings], dtype=object)


@pytest.fixture(scope="session")
def lee_vectors(minilm, lee_openings) -> np.ndarray:
    """minilm embeddings (300 x 384) of the Lee story openings."""
    return minilm.encode(lee_openings, batch_size=64)


@pytest.fixture(scope="session")
def lee_store(tmp_path_factory, wordllama, lee_records):
    """A store with collection `lee`: the 300 stories embedded with wordllama (fast), with metadata."""
    from embedlab.store import Store

    store = Store(tmp_path_factory.mktemp("maps") / "store")
    collection = store.create("lee", wordllama)
    collection.add(
        [r.text for r in lee_records],
        ids=[r.id for r in lee_records],
        metadata=[{**r.metadata, "topic": topic_of(" ".join(r.text.split()[:OPENING_WORDS]))} for r in lee_records],
    )
    return store


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder
