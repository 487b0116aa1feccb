"""POST /v1/embeddings and GET /v1/models, driven by the official openai client and by httpx."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from tests.serve.conftest import KEY, metric

TEXTS = [
    "The cat sat on the mat.",
    "Stock markets fell sharply after the announcement.",
    "A new species of frog was found in the rainforest.",
    "The orchestra played Beethoven's ninth symphony.",
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("model", ["wordllama", "minilm"])
def test_openai_client_float_and_base64_equal_encode(openai_client, model, request):
    encoder = request.getfixturevalue(model)
    expected = encoder.encode(TEXTS)
    as_float = openai_client.embeddings.create(model=model, input=TEXTS, encoding_format="float")
    as_base64 = openai_client.embeddings.create(model=model, input=TEXTS)  # the client asks for base64
    for response in (as_float, as_base64):
        assert [d.index for d in response.data] == list(range(len(TEXTS)))
        got = np.array([d.embedding for d in response.data])
        assert got.shape == expected.shape
        assert cosines(got, expected).min() >= 0.9999  # row i is text i: order kept
        assert response.usage.prompt_tokens == sum(encoder.count_tokens(TEXTS)) > len(TEXTS)
        assert response.usage.total_tokens == response.usage.prompt_tokens
        assert response.model == model
    one = openai_client.embeddings.create(model=model, input=TEXTS[1], encoding_format="float")
    assert cosines(np.array([one.data[0].embedding]), expected[1:2])[0] >= 0.9999


def test_base64_is_little_endian_float32(api, wordllama):
    body = api.post(
        "/v1/embeddings", json={"model": "wordllama", "input": TEXTS[0], "encoding_format": "base64"}
    ).json()
    import base64

    vector = np.frombuffer(base64.b64decode(body["data"][0]["embedding"]), dtype="<f4")
    assert vector.shape == (wordllama.dim,)
    assert cosines(vector[None], wordllama.encode([TEXTS[0]]))[0] >= 0.9999


def test_token_id_input_for_a_transformer_model(api, minilm):
    ids = [minilm.tokenizer(t, add_special_tokens=False)["input_ids"] for t in TEXTS[:2]]
    body = api.post("/v1/embeddings", json={"model": "minilm", "input": ids, "encoding_format": "float"}).json()
    got = np.array([d["embedding"] for d in body["data"]])
    assert cosines(got, minilm.encode(TEXTS[:2])).min() >= 0.999
    assert body["usage"]["prompt_tokens"] == sum(len(i) for i in ids)
    refused = api.post("/v1/embeddings", json={"model": "wordllama", "input": ids})
    assert refused.status_code == 400 and "transformer" in refused.json()["error"]["message"]
    too_big = api.post("/v1/embeddings", json={"model": "minilm", "input": [[10**9]]})
    assert too_big.status_code == 400 and "token id" in too_big.json()["error"]["message"]


def test_long_text_policies(api, minilm):
    long = " ".join(["the history of the city and its people"] * 80)  # ~640 tokens, over minilm's 254
    texts = ["short text", long]
    window = api.post("/v1/embeddings", json={"model": "minilm", "input": texts, "encoding_format": "float"})
    assert window.status_code == 200
    assert window.headers["X-Embedlab-Windowed"] == "1" and window.headers["X-Embedlab-Truncated"] == "0"
    assert cosines(np.array([d["embedding"] for d in window.json()["data"]]), minilm.encode(texts)).min() >= 0.9999
    truncated = api.post(
        "/v1/embeddings", json={"model": "minilm", "input": texts, "long_text": "truncate", "encoding_format": "float"}
    )
    assert truncated.headers["X-Embedlab-Truncated"] == "1"
    first_window = minilm.tokenizer.decode(minilm.tokenizer(long, add_special_tokens=False)["input_ids"][:254])
    got = np.array([truncated.json()["data"][1]["embedding"]])
    assert cosines(got, minilm.encode([first_window]))[0] >= 0.999
    assert minilm.long_text == "window"  # the per-request policy does not stick
    error = api.post("/v1/embeddings", json={"model": "minilm", "input": texts, "long_text": "error"})
    assert error.status_code == 400
    message = error.json()["error"]["message"]
    assert "input[1]" in message and str(len(minilm.tokenizer(long, add_special_tokens=False)["input_ids"])) in message
    metrics = api.get("/metrics").text
    assert metric(metrics, "embedlab_long_texts_total", model="minilm", policy="window") >= 1
    assert metric(metrics, "embedlab_long_texts_total", model="minilm", policy="truncate") >= 1


def test_models_lists_and_marks_loaded(openai_client):
    models = {m.id: m for m in openai_client.models.list()}
    assert {"minilm", "wordllama", "tfidf"} <= set(models)
    assert models["wordllama"].model_extra["loaded"] is True  # loaded at start with --model
    assert openai_client.models.retrieve("wordllama").id == "wordllama"


def test_32_concurrent_clients_get_their_own_vectors(server, api, wordllama):
    from tests.serve.conftest import metric as read_metric

    before = api.get("/metrics").text
    batches_before = read_metric(before, "embedlab_batch_requests_count", model="wordllama")
    single_before = read_metric(before, "embedlab_batch_requests_bucket", model="wordllama", le="1.0")
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
    jobs = [[f"{words[c % 13]} client {c} request {r} {words[(c * 7 + r) % 13]}" for r in range(3)] for c in range(32)]
    barrier = threading.Barrier(32)

    def client(texts: list[str]) -> np.ndarray:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as c:
            barrier.wait()
            rows = []
            for text in texts:  # several requests each, so they overlap with the others
                body = c.post(
                    "/v1/embeddings", json={"model": "wordllama", "input": [text], "encoding_format": "float"}
                )
                assert body.status_code == 200, body.text
                rows.append(body.json()["data"][0]["embedding"])
            return np.array(rows)

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(client, jobs))
    for texts, got in zip(jobs, results, strict=True):
        assert cosines(got, wordllama.encode(texts)).min() >= 0.9999
    after = api.get("/metrics").text
    batches = read_metric(after, "embedlab_batch_requests_count", model="wordllama") - batches_before
    single = read_metric(after, "embedlab_batch_requests_bucket", model="wordllama", le="1.0") - single_before
    assert batches < 96  # fewer model batches than requests
    assert single < batches  # at least one batch held several requests


def test_health_answers_while_a_big_batch_runs(server, api):
    texts = [f"story number {i} about the long history of a harbour town and its ships" for i in range(96)]
    done = threading.Event()

    def big() -> None:
        api.post("/v1/embeddings", json={"model": "minilm", "input": texts}, timeout=300)
        done.set()

    worker = threading.Thread(target=big)
    worker.start()
    answered_during = 0
    while not done.is_set():
        health = httpx.get(server.url + "/health", timeout=30)
        assert health.status_code == 200
        if not done.is_set():
            answered_during += 1
    worker.join()
    assert answered_during >= 1


BAD = [
    ("malformed JSON", b'{"model": "wordllama", "input": ', 400, None),
    ("input 5", {"model": "wordllama", "input": 5}, 400, "input"),
    ("mixed list", {"model": "wordllama", "input": [1, "a"]}, 400, "input"),
    ("nested objects", {"model": "wordllama", "input": [{"text": "a"}]}, 400, "input"),
    ("object input", {"model": "wordllama", "input": {"text": "a"}}, 400, "input"),
    ("empty string", {"model": "wordllama", "input": ""}, 400, "input"),
    ("empty list", {"model": "wordllama", "input": []}, 400, "input"),
    ("2,049 items", {"model": "wordllama", "input": ["a"] * 2049}, 400, "input"),
    ("unknown model", {"model": "no-such-model", "input": "a"}, 404, "model"),
    ("a model path", {"model": "/etc", "input": "a"}, 404, "model"),
    ("a vectors file", {"model": "vectors:/etc/passwd", "input": "a"}, 404, "model"),
    ("a hub id", {"model": "someone/some-model", "input": "a"}, 404, "model"),
    ("dimensions", {"model": "wordllama", "input": "a", "dimensions": 64}, 400, "dimensions"),
    ("encoding", {"model": "wordllama", "input": "a", "encoding_format": "int8"}, 422, "encoding_format"),
    ("no model", {"input": "a"}, 422, "model"),
    ("fitted kind", {"model": "tfidf", "input": "a"}, 400, "model"),
    ("a JSON list", [1, 2], 400, None),
]


@pytest.mark.parametrize(("case", "body", "status", "param"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_error_and_the_server_keeps_serving(api, case, body, status, param):
    if isinstance(body, bytes):
        response = api.post("/v1/embeddings", content=body, headers={"Content-Type": "application/json"})
    else:
        response = api.post("/v1/embeddings", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert len(error["message"]) > 15
    if param:
        assert error["param"] == param
    assert api.post("/v1/embeddings", json={"model": "wordllama", "input": "still serving"}).status_code == 200


def test_a_10mb_body_is_413(api):
    body = json.dumps({"model": "wordllama", "input": ["word " * 1000] * 2000}).encode()
    assert len(body) > 10_000_000
    response = api.post("/v1/embeddings", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "too large" in response.json()["error"]["message"]
    assert api.get("/health").status_code == 200


def test_the_key_is_required(server):
    from openai import AuthenticationError, OpenAI

    for key in ("wrong-key-123456", None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = httpx.post(server.url + "/v1/embeddings", json={"model": "wordllama", "input": "a"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
        assert httpx.get(server.url + "/metrics", headers=headers).status_code == 401
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=server.url + "/v1", api_key="wrong-key-123456", max_retries=0).embeddings.create(
            model="wordllama", input="a"
        )
    assert httpx.get(server.url + "/health").status_code == 200  # liveness needs no key
