"""`embedlab map`: HTML, PNG, --json, the cache, --compare, --projector, and exit code 2 for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.datasets import gensim_test_data


def test_map_collection_to_html_then_cached(run_cli, lee_store, out):
    args = ["map", "lee", "-o", str(out / "map.html"), "--method", "pca", "--seed", "11"]
    args += ["--store", str(lee_store.path), "--json"]  # a seed no other test uses: not cached yet
    code, stdout, err = run_cli(*args)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["points"] == 300 and summary["method"] == "pca" and not summary["cached"]
    assert summary["color_by"] == "cluster" and len(summary["clusters"]) == 12
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "<script src=" not in page  # plotly is embedded, not fetched (the browser test proves it offline)
    assert "scattergl" in page and summary["clusters"][0]["label"].split(" · ")[0] in page
    code, stdout, _ = run_cli(*args)
    assert code == 0 and json.loads(stdout)["cached"] is True


def test_map_png_coloured_by_column_with_sample(run_cli, lee_store, out):
    code, stdout, err = run_cli(
        "map", "lee", "-o", str(out / "map.png"), "--method", "tsne", "--color-by", "topic", "--sample", "120",
        "--seed", "2", "--store", str(lee_store.path), "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["points"] == 120 and summary["color_by"] == "topic" and summary["clusters"] == []
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_map_vectors_file_and_word_model(run_cli, tmp_path, lee_vectors, out):
    np.save(tmp_path / "v.npy", lee_vectors[:60])
    code, _, err = run_cli("map", str(tmp_path / "v.npy"), "-o", str(out / "v.html"), "--method", "pca")
    assert code == 0, err
    assert "pca map of 60 points" in err
    words = tmp_path / "words.txt"
    words.write_text("\n".join(["police", "fire", "government", "israeli", "sydney", "taliban", "qxqzz"]), "utf-8")
    model = f"vectors:{gensim_test_data('euclidean_vectors.bin')}"
    code, stdout, err = run_cli(
        "map", model, "--words", str(words), "-o", str(out / "w.png"), "--method", "pca", "--json"
    )
    assert code == 0, err
    assert json.loads(stdout)["dropped"] == ["qxqzz"] and json.loads(stdout)["points"] == 6


def test_compare_and_projector(run_cli, lee_store, out):
    model = f"vectors:{gensim_test_data('euclidean_vectors.bin')}"
    code, stdout, err = run_cli(
        "map", "--compare", "lee", model, "-o", str(out / "cmp.html"), "--method", "pca", "--sample", "60", "-k", "5",
        "--store", str(lee_store.path), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert 0 < json.loads(stdout)["compare"]["mean_jaccard"] < 1
    code, _, err = run_cli("map", "lee", "--projector", str(out / "proj"), "--store", str(lee_store.path))
    assert code == 0, err
    assert len((out / "proj" / "vectors.tsv").read_text().splitlines()) == 300


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--color-by", "colour"], "no column 'colour' for --color-by"),
        (["--label-column", "nope"], "no column 'nope' for --label-column"),
        (["--method", "mds"], "unknown projection method"),
        (["--sample", "3", "--method", "tsne"], "tsne needs at least 5 points"),
        (["--dims", "4"], "--dims must be 2 or 3"),
        (["-o", "NOFOLDER/map.html"], "of the output does not exist"),
        (["-o", "map.svg"], "end the output name with .html or .png"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(run_cli, lee_store, out, args, message):
    output = ["-o", str(out / "map.html")]
    if "-o" in args:
        output = ["-o", str(out / args[args.index("-o") + 1])]
        args = args[: args.index("-o")] + args[args.index("-o") + 2 :]
    code, _, err = run_cli("map", "lee", *output, *args, "--store", str(lee_store.path))
    assert code == 2 and message in " ".join(err.split())
    assert list(out.iterdir()) == []


def test_bad_vectors_exit_2(run_cli, tmp_path, out):
    vectors = np.ones((10, 4), dtype=np.float32)
    vectors[[2, 7], 1] = np.nan
    np.save(tmp_path / "nan.npy", vectors)
    code, _, err = run_cli("map", str(tmp_path / "nan.npy"), "-o", str(out / "m.html"))
    assert code == 2 and "0-based rows 2, 7" in err
    np.save(tmp_path / "text.npy", np.array([["a", "b"], ["c", "d"]]))
    code, _, err = run_cli("map", str(tmp_path / "text.npy"), "-o", str(out / "m.html"))
    assert code == 2 and "not numeric" in err
    assert list(out.iterdir()) == []
