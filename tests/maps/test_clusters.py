"""Clusters on real embeddings, named by their top TF-IDF terms."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab import EmbedlabError
from embedlab.maps import find_clusters, name_clusters


def purity(labels: np.ndarray, topics: np.ndarray, labelled: np.ndarray) -> float:
    """Share of labelled stories whose cluster's most common topic is their own."""
    majority = sum(
        np.unique(topics[labelled & (labels == c)], return_counts=True)[1].max() for c in set(labels[labelled])
    )
    return majority / labelled.sum()


def test_kmeans_clusters_follow_known_topics_and_are_named_by_them(lee_vectors, lee_openings, lee_topics):
    clusters = find_clusters(lee_vectors, lee_openings, "kmeans", n_clusters=12, seed=0)
    assert clusters.labels.shape == (300,) and set(clusters.sizes()) == set(range(12))
    labelled = lee_topics != None  # noqa: E711 (object array)
    assert purity(clusters.labels, lee_topics, labelled) >= 0.85  # stories of one topic share clusters
    shuffled = np.random.default_rng(0).permutation(clusters.labels)
    assert purity(shuffled, lee_topics, labelled) < 0.7  # what chance gives
    words = {
        "middle-east": ("israeli", "palestinian", "arafat", "gaza", "hamas"),
        "afghanistan": ("afghan", "taliban", "bin", "osama", "bora"),
        "fires": ("fire", "firefighters", "bushfires"),
    }
    for topic, expected in words.items():
        main = np.bincount(clusters.labels[lee_topics == topic]).argmax()
        assert any(w in clusters.names[main].split(" · ") for w in expected), clusters.names[main]
    assert len(set(clusters.names.values())) == 12  # every cluster has its own name


def test_kmeans_is_deterministic_and_defaults_k(lee_vectors, lee_openings):
    first = find_clusters(lee_vectors, lee_openings, seed=1)
    np.testing.assert_array_equal(first.labels, find_clusters(lee_vectors, lee_openings, seed=1).labels)
    assert len(first.names) == 12  # about sqrt(300 / 2)


def test_hdbscan_marks_noise(lee_vectors, lee_openings):
    clusters = find_clusters(lee_vectors, lee_openings, "hdbscan")
    assert (clusters.labels == -1).any() and clusters.names[-1] == "noise"  # the Lee stories leave some noise
    assert len([c for c in clusters.names if c >= 0]) >= 2
    assert all(size >= 5 for c, size in clusters.sizes().items() if c >= 0)


def test_names_without_texts_and_bad_options(lee_vectors):
    labels = np.array([0, 0, 1, -1])
    assert name_clusters(labels, None) == {-1: "noise", 0: "cluster 0", 1: "cluster 1"}
    names = name_clusters(labels, ["bushfire smoke sydney", "bushfire crews", "cricket test innings", "x"])
    assert names[0].startswith("bushfire") and ("cricket" in names[1] or "innings" in names[1])
    with pytest.raises(EmbedlabError, match="between 2 and the number of points"):
        find_clusters(lee_vectors[:10], None, "kmeans", n_clusters=11)
    with pytest.raises(EmbedlabError, match="unknown cluster method"):
        find_clusters(lee_vectors, None, "dbscan")
