"""Command-line options reach the library: each is checked against the library called directly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab import load
from embedlab.store import Store


@pytest.fixture
def indexed(run_cli, tmp_path, lee_records):
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps({"id": r.id, "text": r.text}) + "\n" for r in lee_records[:60]), "utf-8")
    store = str(tmp_path / "store")
    code, _, err = run_cli("index", "news", str(path), "--model", "wordllama", "--store", store)
    assert code == 0, err
    return store


def ids(run_cli, store: str, *args: str) -> list[str]:
    code, out, err = run_cli(
        "search", "news", "fire crews battle bushfires", "-k", "8", "--store", store, "--json", *args
    )
    assert code == 0, err
    return [hit["id"] for hit in json.loads(out)]


def test_hybrid_weights_select_one_ranking(run_cli, indexed):
    semantic = ids(run_cli, indexed, "--mode", "semantic")
    keyword = ids(run_cli, indexed, "--mode", "keyword")
    assert semantic != keyword  # otherwise the test below could not tell them apart
    assert ids(run_cli, indexed, "--mode", "hybrid", "--weights", "1,0") == semantic
    assert ids(run_cli, indexed, "--mode", "hybrid", "--weights", "0,1") == keyword
    direct = Store(indexed).collection("news").search("fire crews battle bushfires", k=8, mode="hybrid")
    assert ids(run_cli, indexed, "--mode", "hybrid") == [h.id for h in direct]


TEXT = "The quick brown fox jumps over the lazy dog. " * 80  # about 800 tokens: windowed by default


def embed_json(run_cli, *args: str) -> dict:
    code, out, err = run_cli("embed", "minilm", TEXT, "--json", *args)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize(
    ("flags", "options", "normalize"),
    [
        ([], {}, True),
        (["--pooling", "cls"], {"pooling": "cls"}, True),
        (["--long-text", "truncate"], {"long_text": "truncate"}, True),
        (["--no-normalize"], {}, False),
    ],
)
def test_encoder_flags_change_vectors_and_recipe(run_cli, flags, options, normalize):
    data = embed_json(run_cli, *flags)
    encoder = load("minilm", **options)
    expected = encoder.encode([TEXT], normalize=normalize)[0]
    np.testing.assert_allclose(data["vectors"][0], expected, atol=2e-6)
    assert data["recipe"] == encoder.recipe
    assert data["recipe"]["pooling"] == options.get("pooling", "mean")
    assert data["recipe"]["long_text"] == options.get("long_text", "window")
    assert (abs(np.linalg.norm(data["vectors"][0]) - 1) < 1e-4) == normalize
