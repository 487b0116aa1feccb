"""Every evaluation test caches embeddings in its own temp folder, and the word-model reference is built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDLAB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def wordllama_kv(wordllama):
    """gensim KeyedVectors of wordllama's whole-word tokens ('▁king' -> 'king'), built from the raw token
    table in token-id order, independently of embedlab's adapter."""
    from gensim.models import KeyedVectors

    keys, rows = [], []
    for row, token in enumerate(wordllama.vocabulary):
        if token.startswith("▁") and token[1:].isalpha():
            keys.append(token[1:])
            rows.append(row)
    kv = KeyedVectors(wordllama.dim)
    kv.add_vectors(keys, np.asarray(wordllama.token_vectors)[rows])
    return kv
