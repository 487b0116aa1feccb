"""The onnx / onnx-int8 backends, precisions and the batch pipeline of the transformer encoder, on real sentences.

The ONNX export runs once per test session, into a temporary cache folder (never the user's).
"""

from __future__ import annotations

import os
import re
import threading

import numpy as np
import pytest
import torch

from embedlab import load
from embedlab.encoders.transformer import prefetch, resolve_precision
from embedlab.errors import EmbedlabError, ModelMismatchError
from embedlab.store import recipe as recipes


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    old = os.environ.get("EMBEDLAB_CACHE")
    os.environ["EMBEDLAB_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("EMBEDLAB_CACHE", None)
    else:
        os.environ["EMBEDLAB_CACHE"] = old


@pytest.fixture(scope="session")
def sentences(lee_records):
    found = []
    for story in (r.text for r in lee_records[:40]):
        found += [s for s in re.split(r"(?<=[.!?])\s+", story) if len(s.split()) >= 5]
    # 120 real sentences and two whole stories long enough to be read in windows
    return found[:120] + [lee_records[0].text * 3, lee_records[1].text * 2]


@pytest.fixture(scope="session")
def onnx_encoder(onnx_cache):
    return load("minilm", backend="onnx")


@pytest.fixture(scope="session")
def int8_encoder(onnx_cache, onnx_encoder):
    return load("minilm", backend="onnx-int8")


@pytest.fixture(scope="session")
def truth(minilm, sentences):
    return minilm.encode(sentences, batch_size=32)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1)


def test_onnx_fp32_gives_the_torch_vectors(onnx_encoder, truth, sentences):
    vectors = onnx_encoder.encode(sentences, batch_size=32)
    assert cosines(vectors, truth).min() >= 1 - recipes.VECTOR_TOLERANCE
    assert onnx_encoder.last_stats["windowed"] == 2  # the library's own windows, not a cut at 256 tokens
    assert onnx_encoder.recipe["backend"] == "onnx" and onnx_encoder.recipe["precision"] == "fp32"


def test_onnx_int8_is_close_but_not_the_same(int8_encoder, truth, sentences):
    vectors = int8_encoder.encode(sentences, batch_size=32)
    close = cosines(vectors, truth)
    assert close.min() >= 0.99
    assert close.min() < 0.9999  # really quantized: int8 vectors differ, which is why they never mix
    assert int8_encoder.recipe["precision"] == "int8"


def test_export_is_cached_by_weights_hash_and_rebuilt_when_damaged(onnx_cache, onnx_encoder, minilm):
    key = minilm.weights_version().replace(":", "-")
    model = onnx_cache / "onnx" / key / "model.onnx"
    assert model.is_file() and model.stat().st_size > 10_000_000
    assert not [p for p in model.parent.iterdir() if ".partial" in p.name]  # atomic writes left nothing behind
    stamp = model.stat().st_mtime_ns
    again = load("minilm", backend="onnx")
    assert model.stat().st_mtime_ns == stamp  # loaded from the cache, not exported again
    data = model.read_bytes()
    model.write_bytes(data[: len(data) // 3])  # a truncated cache file (a crash of another tool, a full disk)
    repaired = load("minilm", backend="onnx")
    assert model.stat().st_size == len(data)
    text = ["The fire spread towards the town."]
    assert cosines(repaired.encode(text), again.encode(text))[0] > 0.99999


def test_backend_and_precision_are_checked():
    with pytest.raises(EmbedlabError, match="backend") as info:
        load("minilm", backend="tensorrt")
    assert info.value.param == "backend"
    with pytest.raises(EmbedlabError) as info:
        load("minilm", backend="onnx", precision="fp16")
    assert info.value.param == "precision"
    with pytest.raises(EmbedlabError) as info:
        load("minilm", backend="onnx", device="cuda")
    assert info.value.param == "backend"
    with pytest.raises(EmbedlabError) as info:
        load("minilm", precision="fp8")
    assert info.value.param == "precision"


def test_default_precision_follows_the_device(monkeypatch):
    assert resolve_precision(None, "torch", torch.device("cpu")) == "fp32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision(None, "torch", torch.device("cuda")) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision(None, "torch", torch.device("cuda")) == "fp16"
    assert resolve_precision(None, "onnx-int8", torch.device("cpu")) == "int8"


def test_bf16_casts_the_model_and_pools_in_fp32(truth, sentences):
    half = load("minilm", precision="bf16")
    assert next(half.model.parameters()).dtype == torch.bfloat16
    vectors = half.encode(sentences[:40], batch_size=16)
    assert vectors.dtype == np.float32
    close = cosines(vectors, truth[:40])
    assert close.min() > 0.995 and close.min() < 0.99999
    assert half.recipe["precision"] == "bf16"


def test_token_budget_batches(minilm, sentences, truth):
    assert minilm.batch_rows(10, 7) == 7  # a given batch_size wins
    assert minilm.batch_rows(256, None) == minilm.batch_tokens // 256
    assert minilm.batch_rows(4, None) == 256  # capped rows on the CPU
    small = load("minilm", batch_tokens=300)
    stats: dict[str, int] = {}
    batches = [item for item in small._batches(sentences, None, stats) if item[0] == "batch"]
    widths = [item[2].shape[1] for item in batches]
    assert widths == sorted(widths, reverse=True)  # longest first, sorted by length
    assert all(b[2].shape[0] * b[2].shape[1] <= 300 or b[2].shape[0] == 1 for b in batches)
    assert not any(b[2].is_pinned() for b in batches)  # pinned memory only on CUDA
    assert stats["windowed"] == 2
    rows = np.concatenate([b[1] for b in batches])
    assert sorted(rows.tolist()) == list(range(len(rows)))  # every piece exactly once
    vectors = small.encode(sentences)  # no batch_size: the token budget
    assert cosines(vectors, truth).min() > 0.99999


def test_chunks_tokenized_in_the_background_give_the_same_vectors(minilm, sentences, truth, monkeypatch):
    import embedlab.encoders.transformer as transformer

    monkeypatch.setattr(transformer, "CHUNK_TEXTS", 7)  # many chunks; windows of one text never cross chunks
    vectors = minilm.encode(sentences, batch_size=5)
    assert cosines(vectors, truth).min() > 0.99999
    assert minilm.last_stats["windowed"] == 2 and minilm.last_stats["items"] == len(sentences)


def test_prefetch_raises_the_threads_error_and_stops_early():
    def failing():
        yield 1
        raise ValueError("tokenizer failed")

    with pytest.raises(ValueError, match="tokenizer failed"), prefetch(failing(), 2) as items:
        list(items)
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    before = threading.active_count()
    with prefetch(endless(), 3) as items:
        assert next(items) == 0
    assert threading.active_count() == before  # the thread ended when the block did
    assert len(produced) < 10  # bounded: it never ran ahead of the queue


def test_recipes_of_interchangeable_backends(minilm, onnx_encoder, int8_encoder):
    torch_recipe = recipes.vector_recipe(minilm)
    assert recipes.same(torch_recipe, recipes.vector_recipe(onnx_encoder))
    assert not recipes.same(torch_recipe, recipes.vector_recipe(int8_encoder))
    assert not recipes.same(torch_recipe, {**torch_recipe, "precision": "bf16"})
    legacy = {k: v for k, v in torch_recipe.items() if k not in ("backend", "precision")}
    assert recipes.same(legacy, torch_recipe, minilm.spec())  # collections made before backends existed


def test_a_collection_refuses_int8_vectors_and_takes_onnx_fp32(store, onnx_encoder, sentences):
    collection = store.create("news", "minilm", backend="onnx")
    collection.add(sentences[:10])
    store.create("news", "minilm").add(sentences[10:12])  # torch fp32: the same vectors
    with pytest.raises(ModelMismatchError):
        store.create("news", "minilm", backend="onnx-int8")
    with pytest.raises(ModelMismatchError):
        store.create("news", "minilm", precision="bf16")
    assert len(store.collection("news")) == 12


def test_cli_backend_flag(run_cli, onnx_encoder):
    code, out, _ = run_cli("embed", "minilm", "a small fire", "--backend", "onnx", "--json")
    assert code == 0 and '"backend": "onnx"' in out
    code, _, err = run_cli("similarity", "minilm", "a", "b", "--backend", "gpu")
    assert code == 2 and "--backend" in err
