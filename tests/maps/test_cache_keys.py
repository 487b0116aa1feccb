"""The projection cache is keyed by every projection parameter; HDBSCAN noise is labelled noise; the CLI's
--clusters hdbscan and --dims 3 reach the library."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

from embedlab.maps import from_collection
from embedlab.maps.clusters import find_clusters

project_module = importlib.import_module("embedlab.maps.project")  # the package exports a function of that name


@pytest.fixture
def counted(monkeypatch):
    """Counts the projections really computed (cache misses), per method."""
    calls = {"tsne": 0, "umap": 0, "pca": 0}
    for method in calls:
        original = getattr(project_module, f"_{method}")

        def spy(*args, _original=original, _method=method, **kwargs):
            calls[_method] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(project_module, f"_{method}", spy)
    return calls


def test_every_parameter_is_part_of_the_cache_key(lee_store, counted, tmp_path):
    data = from_collection(lee_store.collection("lee")).sample(80, seed=3)
    cache = tmp_path / "maps"

    def run(method, data=data, **params):
        return project_module.project(data.vectors, method, cache_dir=cache, cache_key=data.cache_key, **params)

    variants = [
        ("tsne", {"perplexity": 10.0}),
        ("tsne", {"perplexity": 12.0}),
        ("tsne", {"perplexity": 10.0, "seed": 1}),
        ("umap", {"n_neighbors": 5}),
        ("umap", {"n_neighbors": 6}),
        ("umap", {"n_neighbors": 5, "min_dist": 0.3}),
        ("pca", {}),
        ("pca", {"dims": 3}),
    ]
    first = {}
    for method, params in variants:
        before = dict(counted)
        first[(method, json.dumps(params))] = run(method, **params).coords
        assert counted[method] == before[method] + 1, f"{method} {params} was served from another entry's cache"
    for method, params in variants:  # the same parameters again: all hits, the same coordinates
        before = dict(counted)
        again = run(method, **params)
        assert again.cached and counted == before
        np.testing.assert_array_equal(again.coords, first[(method, json.dumps(params))])
    other_sample = from_collection(lee_store.collection("lee")).sample(80, seed=4)
    before = counted["pca"]
    run("pca", data=other_sample)
    assert counted["pca"] == before + 1  # another sample is another key


def test_hdbscan_marks_noise_as_noise(lee_vectors, lee_openings):
    rng = np.random.default_rng(0)
    # four random directions: far from every story and from each other, and fewer than a cluster's minimum size
    scattered = rng.normal(size=(4, lee_vectors.shape[1])).astype(np.float32)
    vectors = np.vstack([lee_vectors, scattered])
    texts = [*lee_openings, *(f"random point {i}" for i in range(4))]
    clusters = find_clusters(vectors, texts, "hdbscan")
    noise = clusters.labels == -1
    assert noise[-4:].all()  # the scattered points are noise ...
    assert clusters.names[-1] == "noise" and set(clusters.labels[noise]) == {-1}
    assert len([c for c in clusters.names if c >= 0]) >= 2  # ... and the stories still form clusters


def test_cli_hdbscan_and_3d(run_cli, lee_store, tmp_path):
    args = ["map", "lee", "--store", str(lee_store.path), "--method", "pca", "--json"]
    code, out, err = run_cli(*args, "--clusters", "hdbscan", "-o", str(tmp_path / "h.html"))
    assert code == 0, err
    summary = json.loads(out)
    assert summary["clusters"] and all("label" in c for c in summary["clusters"])
    code, out, err = run_cli(*args, "--dims", "3", "-o", str(tmp_path / "d3.html"))
    assert code == 0, err
    assert json.loads(out)["dims"] == 3 and "scatter3d" in (tmp_path / "d3.html").read_text(encoding="utf-8")
