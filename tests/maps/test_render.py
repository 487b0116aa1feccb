"""Colours, labels and files of the drawings (HTML and PNG, 2-D and 3-D)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab import EmbedlabError
from embedlab.maps import make_map, open_source
from embedlab.maps.render import GREY, PALETTE, check_output, label_positions, make_coloring


def test_categories_get_palette_colours_most_common_first_and_the_rest_other():
    values = ["a"] * 5 + ["b"] * 3 + [None] + [f"rare{i}" for i in range(30)]
    coloring = make_coloring(values, "kind")
    assert coloring.kind == "category" and coloring.colors["a"] == PALETTE[0] and coloring.colors["b"] == PALETTE[1]
    # one palette colour is given up for 'other': at most len(PALETTE) legend entries
    assert coloring.colors["other"] == GREY and len(coloring.colors) == len(PALETTE)
    assert "(none)" in coloring.colors and coloring.values.count("other") == 30 - (len(PALETTE) - 1 - 3)


def test_numbers_with_many_values_get_a_scale_and_few_values_categories():
    assert make_coloring(list(range(100)), "year").kind == "numeric"
    assert make_coloring([1, 2, 1, 2], "stars").kind == "category"
    assert make_coloring([True, False] * 20, "flag").kind == "category"


def test_cluster_label_sits_in_the_dense_part_of_its_cluster():
    coords = np.array([[0, 0], [0.1, 0], [0, 0.1], [0.1, 0.1], [10, 10], [10, 10.1], [10.1, 10]], dtype=np.float32)
    labels = np.array([0, 0, 0, 0, 1, 1, 0])  # one member of cluster 0 lies inside cluster 1
    positions = dict((name, position) for position, name in label_positions(coords, labels, {0: "a", 1: "b"}))
    assert np.linalg.norm(positions["a"]) < 1 and np.linalg.norm(positions["b"] - 10) < 1


def test_output_checks(tmp_path):
    with pytest.raises(EmbedlabError, match="end the output name with .html or .png"):
        check_output(tmp_path / "map.svg")
    with pytest.raises(EmbedlabError, match="does not exist"):
        check_output(tmp_path / "missing" / "map.png")
    assert check_output(tmp_path / "Map.HTML").name == "Map.HTML"


@pytest.mark.parametrize("suffix", [".html", ".png"])
def test_three_dimensional_map_files(lee_store, tmp_path, suffix):
    summary = make_map(open_source("lee", lee_store), tmp_path / f"map3d{suffix}", method="pca", dims=3, seed=5)
    assert summary.dims == 3 and len(summary.explained_variance) == 3
    data = (tmp_path / f"map3d{suffix}").read_bytes()
    assert b"scatter3d" in data if suffix == ".html" else data[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind


def test_word_map_writes_words_beside_points(tmp_path, wordllama):
    from embedlab.maps import from_model

    data = from_model(wordllama, ["paris", "berlin", "tokyo", "apple", "banana", "cherry"])
    make_map(data, tmp_path / "w.html", method="pca", n_clusters=2)
    page = (tmp_path / "w.html").read_text(encoding="utf-8")
    assert '"mode":"markers+text"' in page and '"banana"' in page
