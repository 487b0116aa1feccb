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
from embedlab.encoders.onnx import INT8, Int8Settings
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
    assert close.min() >= 0.996  # 0.992 before SmoothQuant (docs/speed.md)
    assert close.min() < 0.9999  # really quantized: int8 vectors differ, which is why they never mix
    assert int8_encoder.recipe["precision"] == "int8"
    assert int8_encoder.recipe["quantization"] == INT8.describe()  # how it was quantized is in the recipe


def test_smoothquant_rescales_weights_without_changing_the_fp32_model(onnx_encoder, int8_encoder, sentences):
    import itertools

    import onnx
    import onnxruntime
    from onnx import numpy_helper

    from embedlab.encoders.onnx import smooth_graph

    model = onnx.load(str(onnx_encoder._onnx.fp32_path))
    constants = {t.name for t in model.graph.initializer}
    targets = [n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in constants][:8]
    before = {
        n.input[1]: numpy_helper.to_array(next(t for t in model.graph.initializer if t.name == n.input[1]))
        for n in targets
    }
    tokens = int8_encoder.tokenizer(sentences[:6], padding=True, return_tensors="np")
    feeds = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}

    def run() -> np.ndarray:
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, feeds)[0]

    original = run()
    smooth_graph(model, targets, 0.5, itertools.islice(int8_encoder._calibration_feeds(), 2))
    inputs = {n.input[0] for n in targets}
    assert len([n for n in model.graph.node if n.name.startswith("smooth_")]) == len(inputs)  # one Mul per input
    after = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if t.name in before}
    assert all(not np.allclose(after[k], before[k]) for k in before)  # every weight's rows were rescaled
    assert np.abs(run() - original).max() < 1e-3  # X / s @ (s W) == X @ W


def test_int8_cache_file_is_named_by_its_settings(onnx_cache, int8_encoder, minilm):
    folder = onnx_cache / "onnx" / minilm.weights_version().replace(":", "-")
    assert int8_encoder._onnx.path == folder / INT8.file_name() and int8_encoder._onnx.path.is_file()
    names = {s.file_name() for s in (INT8, Int8Settings(per_channel=False), Int8Settings(keep_fp32=()))}
    names |= {Int8Settings(weight_type="QUInt8").file_name(), Int8Settings(smooth=0.75).file_name()}
    assert len(names) == 5  # every setting changes the name, so an old cached model is never reused
    old = folder / "model-int8-v2.onnx"  # a model quantized with earlier settings, left in the cache
    old.write_bytes(b"not this one")
    assert load("minilm", backend="onnx-int8")._onnx.path == int8_encoder._onnx.path


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


def test_a_collection_of_int8_vectors_quantized_otherwise_refuses_these(store, int8_encoder, sentences):
    import json

    store.create("int8", "minilm", backend="onnx-int8").add(sentences[:3])
    store.create("int8", "minilm", backend="onnx-int8").add(sentences[3:4])  # the same settings: accepted
    config_file = store.side("int8") / "collection.json"
    config = json.loads(config_file.read_text())
    del config["recipe"]["quantization"]  # made by an embedlab whose int8 did not record its settings
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelMismatchError, match="reembed"):
        store.create("int8", "minilm", backend="onnx-int8").add(sentences[4:5])
    config["recipe"]["quantization"] = Int8Settings(keep_fp32=()).describe()  # other settings
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelMismatchError):
        store.create("int8", "minilm", backend="onnx-int8").add(sentences[4:5])
    assert len(store.collection("int8")) == 4


def test_cli_backend_flag(run_cli, onnx_encoder):
    code, out, _ = run_cli("embed", "minilm", "a small fire", "--backend", "onnx", "--json")
    assert code == 0 and '"backend": "onnx"' in out
    code, _, err = run_cli("similarity", "minilm", "a", "b", "--backend", "gpu")
    assert code == 2 and "--backend" in err


def test_calibration_texts_are_held_out_from_the_evaluation_and_the_check(lee_records):
    from embedlab.datasets import pang_lee_polarity
    from embedlab.encoders.onnx import CALIBRATION_SKIP, calibration_texts
    from embedlab.evaluate.lee import lee_corpus

    texts = calibration_texts()
    assert 500 <= len(texts) <= 700 and all(len(t.split()) >= 5 for t in texts)
    checked = []
    for story in (r.text for r in lee_records):
        checked += [s for s in re.split(r"(?<=[.!?])\s+", story) if len(s.split()) >= 5]
    assert texts == checked[CALIBRATION_SKIP:]  # the sentences after the 2,000 that int8_variants.py checks
    evaluated = " ".join(lee_corpus().documents) + " ".join(pang_lee_polarity().texts)
    assert not [t for t in texts if t in evaluated]
