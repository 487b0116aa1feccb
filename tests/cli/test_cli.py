"""The command line: output, --json, and exit code 2 with a helpful message for each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.store.test_collection import lock


@pytest.fixture
def corpus(tmp_path, lee_records):
    path = tmp_path / "news.csv"
    lines = ["id,text,words"] + [
        f'{r.id},"{r.text.replace(chr(34), "")}",{r.metadata["words"]}' for r in lee_records[:40]
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def indexed(run_cli, corpus, tmp_path):
    store = str(tmp_path / "store")
    code, out, err = run_cli("index", "news", str(corpus), "--model", "wordllama", "--store", store, "--json")
    assert code == 0, err
    return store, json.loads(out)


def test_models_lists_bundled_models(run_cli):
    code, out, _ = run_cli("models", "--json")
    names = {row["name"] for row in json.loads(out)}
    assert code == 0 and {"minilm", "wordllama", "tfidf", "vectors:PATH"} <= names


def test_embed_to_files(run_cli, tmp_path):
    for suffix in (".npy", ".parquet", ".jsonl"):
        out_path = tmp_path / f"v{suffix}"
        code, _, err = run_cli("embed", "wordllama", "first text", "second text", "-o", str(out_path))
        assert code == 0, err
    assert np.load(tmp_path / "v.npy").shape == (2, 256)
    assert pq.read_table(tmp_path / "v.parquet").num_rows == 2
    assert len((tmp_path / "v.jsonl").read_text().splitlines()) == 2


def test_embed_json_preview(run_cli):
    code, out, _ = run_cli("embed", "wordllama", "hello world", "--json")
    data = json.loads(out)
    assert code == 0 and data["dim"] == 256 and len(data["vectors"][0]) == 256


def test_similarity_matrix(run_cli):
    code, out, _ = run_cli(
        "similarity", "minilm", "a cat sits on the mat", "a kitten rests on a rug", "stock markets fell", "--json"
    )
    cosine = np.array(json.loads(out)["cosine"])
    assert code == 0 and cosine.shape == (3, 3) and cosine[0, 1] > cosine[0, 2]
    np.testing.assert_allclose(np.diag(cosine), 1.0, atol=1e-3)


def test_index_search_similar_info_drop(run_cli, indexed):
    store, summary = indexed
    assert summary["added"] == 40 and summary["total"] == 40
    code, out, _ = run_cli("search", "news", "bushfire", "--mode", "keyword", "-k", "2", "--store", store, "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2 and all("bushfire" in h["text"].lower() for h in hits)
    code, out, _ = run_cli("search", "news", "fire", "--where", "words > 200", "--store", store, "--json")
    assert code == 0 and all(h["metadata"]["words"] > 200 for h in json.loads(out))
    code, out, _ = run_cli("similar", "news", "lee-1", "-k", "3", "--store", store, "--json")
    assert code == 0 and "lee-1" not in [h["id"] for h in json.loads(out)]
    code, out, _ = run_cli("collections", "--store", store, "--json")
    assert json.loads(out)[0]["name"] == "news"
    code, out, _ = run_cli("collections", "info", "news", "--store", store, "--json")
    assert json.loads(out)["recipe"]["encoder"] == "wordllama"
    code, out, _ = run_cli("search", "news", "fire", "--store", store)
    assert code == 0 and "lee-" in out
    code, _, _ = run_cli("collections", "drop", "news", "--yes", "--store", store)
    assert code == 0
    code, out, _ = run_cli("collections", "--store", store, "--json")
    assert json.loads(out) == []


def test_reindex_does_not_duplicate(run_cli, indexed, corpus):
    store, _ = indexed
    code, out, _ = run_cli("index", "news", str(corpus), "--model", "wordllama", "--store", store, "--json")
    summary = json.loads(out)
    assert code == 0 and summary["unchanged"] == 40 and summary["total"] == 40


def test_reembed(run_cli, indexed):
    store, _ = indexed
    code, out, err = run_cli("reembed", "news", "news-tfidf", "--model", "tfidf", "--store", store, "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == 40


def expect_usage_error(run_cli, *args: str, match: str) -> str:
    code, out, err = run_cli(*args)
    assert code == 2, (out, err)
    assert match in err, err
    return err


def test_bad_inputs_exit_2_with_a_hint(run_cli, indexed, tmp_path, corpus):
    store, _ = indexed
    s = ("--store", store)
    expect_usage_error(run_cli, "embed", "minilmm", "x", match="Did you mean: minilm")
    expect_usage_error(run_cli, "embed", "wordllama", match="nothing to embed")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"fine\nna\xefve\n")
    expect_usage_error(run_cli, "index", "other", str(latin), "--model", "wordllama", *s, match="line 2")
    expect_usage_error(run_cli, "index", "other", str(corpus), "--text-column", "body", *s, match="no column 'body'")
    vectors = tmp_path / "bad.vec"
    vectors.write_text("2 3\nfire 0.1 0.2 0.3\nwater 0.1 0.2\n", encoding="utf-8")
    expect_usage_error(run_cli, "embed", f"vectors:{vectors}", "fire", match="line 3 has 2 values")
    expect_usage_error(run_cli, "search", "nope", "fire", *s, match="no collection 'nope'")
    expect_usage_error(run_cli, "search", "news", "", *s, match="query is empty")
    expect_usage_error(run_cli, "search", "news", "fire", "-k", "0", *s, match="positive")
    expect_usage_error(run_cli, "search", "news", "fire", "-k", "-3", *s, match="positive")
    expect_usage_error(run_cli, "search", "news", "fire", "--where", "words >>> 1", *s, match="does not work")
    expect_usage_error(run_cli, "search", "news", "fire", "--mode", "fuzzy", *s, match="semantic, keyword, hybrid")
    expect_usage_error(run_cli, "index", "news", str(corpus), "--model", "minilm", *s, match="another recipe")
    expect_usage_error(run_cli, "embed", "wordllama", "x", "-o", str(tmp_path / "no" / "v.npy"), match="does not exist")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    expect_usage_error(run_cli, "index", "other", str(empty), "--model", "wordllama", *s, match="empty text")
    assert "other" not in json.loads(run_cli("collections", *s, "--json")[1])[0]["name"]


def test_read_only_store_exit_2_and_nothing_lost(run_cli, indexed, corpus, tmp_path):
    store, _ = indexed
    from pathlib import Path

    undo = lock(Path(store))
    try:
        expect_usage_error(
            run_cli, "index", "news", str(corpus), "--model", "wordllama", "--store", store, match="not writable"
        )
        code, out, _ = run_cli("search", "news", "fire", "--store", store, "--json")
        assert code == 0 and len(json.loads(out)) == 5
    finally:
        undo()


def test_embed_input_file(run_cli, corpus, tmp_path):
    out_path = tmp_path / "v.parquet"
    code, out, err = run_cli("embed", "wordllama", "--input", str(corpus), "-o", str(out_path), "--json")
    table = pq.read_table(out_path)
    assert code == 0, err
    assert json.loads(out)["items"] == 40
    assert table.num_rows == 40 and table["text"][0].as_py().startswith("Hundreds of people")
    expect_usage_error(run_cli, "embed", "wordllama", "x", "--input", str(corpus), match="not both")


def test_help_shows_every_train_command(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    train = next(line for line in out.splitlines() if "│ train" in line)
    assert "fastText" in train and "classifier" in out and "contrastive" in out


def test_a_missing_demo_collection_points_to_the_demo(run_cli):
    code, _, err = run_cli("search", "demo-news", "floods")
    assert code == 2 and "embedlab demo" in err


def test_cache_follows_xdg_cache_home(monkeypatch, tmp_path):
    from embedlab.evaluate.core import cache_folder

    monkeypatch.delenv("EMBEDLAB_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "embedlab" / "evaluate"
    monkeypatch.setenv("EMBEDLAB_CACHE", str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine" / "evaluate"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("EMBEDLAB_CACHE")
    assert cache_folder() == Path.home() / ".cache" / "embedlab" / "evaluate"
