"""Projections: shapes, determinism with a seed, PCA variance, t-SNE/UMAP keep known topics apart, cache."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors

from embedlab import EmbedlabError
from embedlab.maps import from_collection, min_points, project
from embedlab.maps.project import EXACT_TSNE_BELOW, cache_file


def topic_agreement(coords: np.ndarray, topics: np.ndarray, k: int = 5) -> float:
    """Share of each labelled story's k nearest labelled stories (on the map) that have its topic."""
    rows = np.flatnonzero(topics != None)  # noqa: E711 (object array)
    points, labels = coords[rows], topics[rows]
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return float(np.mean(labels[neighbours[:, 1:]] == labels[:, None]))


def test_topics_are_known(lee_topics):
    names, counts = np.unique(lee_topics[lee_topics != None], return_counts=True)  # noqa: E711
    assert dict(zip(names, counts, strict=True)) == {"afghanistan": 37, "fires": 14, "middle-east": 22}


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_map_keeps_known_topics_apart(method, lee_vectors, lee_topics):
    coords = project(lee_vectors, method, seed=0).coords
    assert coords.shape == (300, 2) and coords.dtype == np.float32
    labelled = lee_topics != None  # noqa: E711
    assert topic_agreement(coords, lee_topics) >= 0.9
    assert silhouette_score(coords[labelled], lee_topics[labelled].astype(str)) >= 0.3
    # the same check fails for points without structure, so it measures something
    noise = np.random.default_rng(0).normal(size=coords.shape)
    assert topic_agreement(noise, lee_topics) < 0.6


def test_tsne_is_deterministic_with_a_seed(lee_vectors):
    points = lee_vectors[:EXACT_TSNE_BELOW]  # openTSNE, not the exact fallback
    first = project(points, "tsne", seed=3).coords
    again = project(points, "tsne", seed=3).coords
    other = project(points, "tsne", seed=4).coords
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_umap_is_deterministic_with_a_seed(lee_vectors):
    first = project(lee_vectors[:120], "umap", seed=1).coords
    np.testing.assert_array_equal(first, project(lee_vectors[:120], "umap", seed=1).coords)


def test_tiny_sets_use_exact_tsne_and_stay_deterministic(lee_vectors):
    small = lee_vectors[:40]
    first = project(small, "tsne", seed=0)
    assert first.coords.shape == (40, 2)
    np.testing.assert_array_equal(first.coords, project(small, "tsne", seed=0).coords)


@pytest.mark.parametrize(("method", "dims"), [("pca", 3), ("tsne", 3), ("umap", 3)])
def test_three_dimensional_maps(method, dims, lee_vectors):
    points = lee_vectors[:EXACT_TSNE_BELOW]
    assert project(points, method, dims=dims, seed=0).coords.shape == (EXACT_TSNE_BELOW, 3)


def test_pca_reports_variance_explained(lee_vectors):
    projection = project(lee_vectors, "pca", dims=3)
    expected = PCA(n_components=3).fit(lee_vectors).explained_variance_ratio_
    np.testing.assert_allclose(projection.explained_variance, expected, rtol=1e-4)
    assert projection.explained_variance[0] >= projection.explained_variance[1] >= projection.explained_variance[2]
    # vectors that lie in a plane: two components explain everything
    plane = lee_vectors[:, :2] @ np.array([[1.0, 0.5, 0.0, 2.0], [0.0, 1.0, -1.0, 0.5]], dtype=np.float32)
    assert sum(project(plane, "pca").explained_variance) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_too_few_points_says_the_minimum(method, lee_vectors):
    need = min_points(method)
    with pytest.raises(EmbedlabError, match=f"needs at least {need} points.*there are {need - 1}"):
        project(lee_vectors[: need - 1], method)
    assert project(lee_vectors[:need], method).coords.shape == (need, 2)


def test_bad_method_dims_and_options(lee_vectors):
    with pytest.raises(EmbedlabError, match="unknown projection method 'mds'"):
        project(lee_vectors, "mds")
    with pytest.raises(EmbedlabError, match="dims must be 2 or 3"):
        project(lee_vectors, "pca", dims=4)
    with pytest.raises(EmbedlabError, match="takes no option"):
        project(lee_vectors, "umap", perplexity=5)


def test_projection_is_cached_per_collection_version(tmp_path, wordllama, lee_records):
    from embedlab.store import Store

    store = Store(tmp_path / "store")
    collection = store.create("news", wordllama)
    collection.add([r.text for r in lee_records[:30]], ids=[r.id for r in lee_records[:30]])
    data = from_collection(store.collection("news"))
    first = project(data.vectors, "pca", cache_dir=data.cache_dir, cache_key=data.cache_key)
    assert not first.cached
    key = {**data.cache_key, "n": len(data), "method": "pca", "dims": 2, "seed": 0, "params": {}}
    assert cache_file(data.cache_dir, key).is_file() and data.cache_dir == store.side("news") / "maps"
    second = project(data.vectors, "pca", cache_dir=data.cache_dir, cache_key=data.cache_key)
    assert second.cached and second.explained_variance == first.explained_variance
    np.testing.assert_array_equal(first.coords, second.coords)
    # another seed or method is another entry
    assert not project(data.vectors, "pca", seed=1, cache_dir=data.cache_dir, cache_key=data.cache_key).cached
    # a new version of the collection is not served from the cache
    collection.add([lee_records[40].text], ids=[lee_records[40].id])
    changed = from_collection(store.collection("news"))
    assert changed.cache_key["version"] != data.cache_key["version"]
    assert not project(changed.vectors, "pca", cache_dir=changed.cache_dir, cache_key=changed.cache_key).cached
