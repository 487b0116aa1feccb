"""Fixtures: the bundled Pang & Lee sentiment set and a minilm whose embeddings are cached for the session."""

from __future__ import annotations

import math

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Held-out retrieval scoring caches embeddings (embedlab.evaluate): keep them out of the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMBEDLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def sentiment():
    from embedlab.finetune import read_labelled

    return read_labelled("pang-lee")


@pytest.fixture(scope="session")
def cached_minilm(minilm, tmp_path_factory):
    """minilm behind the evaluate cache, so each test embeds the 200 sentences at most once."""
    from embedlab.evaluate.core import CachedEncoder

    return CachedEncoder(minilm, tmp_path_factory.mktemp("embedding-cache"))


def margin(baseline_accuracy: float, n: int, z: float = 1.645) -> float:
    """How far above the majority baseline an accuracy on n examples must be to beat chance (one-sided 5%)."""
    return z * math.sqrt(baseline_accuracy * (1 - baseline_accuracy) / n)
