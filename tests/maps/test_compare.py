"""Neighbourhood change between two embeddings (mean Jaccard of k-NN sets) and side-by-side maps."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab import EmbedlabError
from embedlab.datasets import gensim_test_data
from embedlab.maps import MapData, align, compare_map, compare_sources, nearest_neighbours, neighbourhood_jaccard


def test_nearest_neighbours_leave_the_item_out():
    points = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0]], dtype=np.float32)
    np.testing.assert_array_equal(nearest_neighbours(points, 1)[:, 0], [1, 0, 3, 2, 2])


def test_jaccard_is_one_for_the_same_space_and_lower_for_another(lee_vectors):
    # the Lee corpus repeats some stories: identical vectors tie, and a rotation may order tied neighbours
    # differently, so the exact check runs on the distinct vectors
    _, first = np.unique(lee_vectors.round(5), axis=0, return_index=True)
    distinct = lee_vectors[np.sort(first)]
    assert len(distinct) < len(lee_vectors)
    rotation = np.linalg.qr(np.random.default_rng(0).normal(size=(384, 384)))[0].astype(np.float32)
    np.testing.assert_allclose(neighbourhood_jaccard(distinct, distinct @ rotation, k=10), 1.0)
    noisy = lee_vectors + np.random.default_rng(1).normal(scale=0.05, size=lee_vectors.shape).astype(np.float32)
    slightly = neighbourhood_jaccard(lee_vectors, noisy, k=10).mean()
    shuffled = neighbourhood_jaccard(lee_vectors, np.random.default_rng(2).permutation(lee_vectors), k=10).mean()
    assert 0.3 < slightly < 1.0 and shuffled < 0.1 < slightly


def test_jaccard_by_hand():
    a = np.array([[1, 0], [1, 0.1], [1, 0.2], [0, 1]], dtype=np.float32)  # item 0: neighbours {1, 2}
    b = np.array([[1, 0], [0, 1], [1, 0.1], [1, 0.2]], dtype=np.float32)  # item 0: neighbours {2, 3}
    assert neighbourhood_jaccard(a, b, k=2)[0] == pytest.approx(1 / 3)


def test_align_keeps_shared_ids_in_the_first_order(lee_vectors):
    a = MapData("a", ["x", "y", "z"], lee_vectors[:3])
    b = MapData("b", ["z", "w", "x"], lee_vectors[3:6])
    first, second = align(a, b)
    assert first.ids == second.ids == ["x", "z"]
    np.testing.assert_array_equal(second.vectors, lee_vectors[[5, 3]])
    with pytest.raises(EmbedlabError, match="share no ids"):
        align(a, MapData("c", ["q"], lee_vectors[:1]))


def test_compare_a_collection_with_a_model_on_its_texts(lee_store, out):
    word2vec = f"vectors:{gensim_test_data('euclidean_vectors.bin')}"  # word2vec trained on the Lee corpus
    first, second = compare_sources("lee", word2vec, lee_store, sample=80, seed=0)
    assert first.ids == second.ids and len(first) == 80
    assert first.vectors.shape[1] == 256 and second.vectors.shape[1] == 10
    summary = compare_map(first, second, out / "cmp.html", method="pca", k=5)
    compared = summary.compare
    assert summary.points == 80 and compared["k"] == 5 and 0.0 < compared["mean_jaccard"] < 1.0
    assert compared["most_changed"][0]["jaccard"] <= compared["median_jaccard"]
    page = (out / "cmp.html").read_text(encoding="utf-8")
    assert "plotly_hover" in page and "neighbours kept (k=5)" in page
    compare_map(first, second, out / "cmp.png", method="pca", k=5)
    assert (out / "cmp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_two_collections_over_the_same_ids(lee_store, lee_records, out):
    word2vec = f"vectors:{gensim_test_data('euclidean_vectors.bin')}"
    other = lee_store.create("lee-w2v", word2vec)
    part = lee_records[100:160]  # shares 60 ids with `lee`
    other.add([r.text for r in part], ids=[r.id for r in part])
    first, second = compare_sources("lee", "lee-w2v", lee_store)
    summary = compare_map(first, second, out / "two.html", method="pca", k=5)
    assert summary.points == 60 and summary.source == "lee vs lee-w2v"
    assert {item["id"] for item in summary.compare["most_changed"]} <= {r.id for r in part}


def test_compare_needs_texts_for_models(lee_store):
    with pytest.raises(EmbedlabError, match="no texts to embed"):
        compare_sources("minilm", "wordllama", lee_store)
