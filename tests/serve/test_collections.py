"""The collections API over HTTP (httpx): list, info, search by text or vector, similar, items, add, drop."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.serve.conftest import Server


def test_list_and_info(api, served_store):
    from embedlab.store import Store

    listed = {row["name"]: row for row in api.get("/v1/collections").json()["data"]}
    assert listed["news"]["items"] == len(Store(served_store).collection("news"))
    assert listed["news"]["model"] == "wordllama" and listed["news"]["dim"] == 256
    info = api.get("/v1/collections/news").json()
    assert info["recipe"]["encoder"] == "wordllama"
    assert {"doc", "words"} <= set(info["metadata_columns"])


def test_search_by_text_equals_the_library(api, served_store):
    from embedlab.store import Store

    expected = Store(served_store).collection("news").search("bushfires in New South Wales", k=5)
    got = api.post("/v1/collections/news/search", json={"query": "bushfires in New South Wales", "k": 5}).json()["data"]
    assert [r["id"] for r in got] == [r.id for r in expected]
    assert got[0]["score"] == pytest.approx(expected[0].score, abs=1e-5)
    assert set(got[0]) == {"id", "score", "text", "metadata"}
    keyword = api.post("/v1/collections/news/search", json={"query": "cricket", "mode": "keyword", "k": 3}).json()
    assert all("cricket" in r["text"].lower() for r in keyword["data"])


def test_search_by_vector_from_the_embeddings_endpoint(api):
    vector = api.post("/v1/embeddings", json={"model": "wordllama", "input": "Australian cricket team wins the test"})
    vector = vector.json()["data"][0]["embedding"]
    by_vector = api.post("/v1/collections/news/search", json={"vector": vector, "k": 5}).json()["data"]
    by_text = api.post(
        "/v1/collections/news/search", json={"query": "Australian cricket team wins the test", "k": 5}
    ).json()["data"]
    assert [r["id"] for r in by_vector] == [r["id"] for r in by_text]
    wrong_dim = api.post("/v1/collections/news/search", json={"vector": [0.1] * 10})
    assert wrong_dim.status_code == 400 and "dimensions" in wrong_dim.json()["error"]["message"]


def test_similar_item_and_where(api):
    similar = api.post("/v1/collections/news/similar", json={"id": "lee-1", "k": 4}).json()["data"]
    assert len(similar) == 4 and "lee-1" not in [r["id"] for r in similar]
    item = api.get("/v1/collections/news/items/lee-1").json()
    assert item["id"] == "lee-1" and item["metadata"]["doc"] == 1
    filtered = api.post("/v1/collections/movies/search", json={"query": "space", "k": 4, "where": "year > 2000"})
    assert filtered.status_code == 200
    assert all(r["metadata"]["year"] > 2000 for r in filtered.json()["data"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/v1/collections/nope/search", {"query": "a"}, 404),
        ("get", "/v1/collections/nope", None, 404),
        ("get", "/v1/collections/news/items/no-such-id", None, 404),
        ("post", "/v1/collections/news/similar", {"id": "no-such-id"}, 404),
        ("post", "/v1/collections/news/search", {"query": "a", "where": "no_column = 1"}, 400),
        ("post", "/v1/collections/news/search", {"query": "a", "where": "1; DROP TABLE news"}, 400),
        ("post", "/v1/collections/news/search", {"query": "a", "k": 0}, 400),
        ("post", "/v1/collections/news/search", {"query": "a", "k": 100_000}, 400),
        ("post", "/v1/collections/news/search", {"query": "a", "k": "five"}, 422),
        ("post", "/v1/collections/news/search", {}, 400),
        ("post", "/v1/collections/news/search", {"query": "a", "mode": "magic"}, 422),
        ("post", "/v1/collections/news/search", {"query": "a", "surprise": 1}, 422),
        ("post", "/v1/collections/..%2F..%2Fetc/search", {"query": "a"}, 404),  # no route: never a path
        ("post", "/v1/collections/..news/search", {"query": "a"}, 400),
        ("get", "/v1/collections/.hidden", None, 400),
        ("post", "/v1/collections/news/items", {"items": [{"text": "x"}], "model": "tfidf"}, 409),
        ("post", "/v1/collections/new/items", {"items": [{"text": "x"}], "model": "word2vec:/etc"}, 404),
    ],
)
def test_bad_requests_are_clear_errors(api, method, path, body, status):
    response = api.request(method.upper(), path, json=body)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert api.post("/v1/collections/news/search", json={"query": "still serving", "k": 1}).status_code == 200


def test_the_key_guards_collections(server):
    assert httpx.get(server.url + "/v1/collections").status_code == 401
    assert httpx.post(server.url + "/v1/collections/news/search", json={"query": "a"}).status_code == 401


def test_add_upserts_and_drop_deletes(api):
    items = [
        {"id": "a", "text": "A lighthouse keeper rescues sailors in a storm.", "metadata": {"year": 1990}},
        {"id": "b", "text": "A chef opens a small restaurant in Lyon.", "metadata": {"year": 2010}},
    ]
    added = api.post("/v1/collections/extra/items", json={"items": items, "model": "wordllama"})
    assert added.status_code == 200, added.text
    assert added.json()["added"] == 2
    again = api.post("/v1/collections/extra/items", json={"items": [{**items[0], "text": "A lighthouse in a storm."}]})
    assert again.json()["updated"] == 1 and again.json()["total"] == 2
    hits = api.post("/v1/collections/extra/search", json={"query": "cooking food", "k": 1}).json()["data"]
    assert hits[0]["id"] == "b" and hits[0]["metadata"]["year"] == 2010
    assert api.delete("/v1/collections/extra").json() == {"name": "extra", "deleted": True}
    assert api.get("/v1/collections/extra").status_code == 404
    assert api.delete("/v1/collections/extra").status_code == 404


def test_a_read_only_server_refuses_writes(served_store, tmp_path):
    server = Server(served_store, log=tmp_path / "ro.log")  # no key, no --allow-writes
    try:
        add = httpx.post(server.url + "/v1/collections/news/items", json={"items": [{"text": "x"}]})
        assert add.status_code == 403 and "--allow-writes" in add.json()["error"]["message"]
        assert httpx.delete(server.url + "/v1/collections/news").status_code == 403
        assert httpx.get(server.url + "/v1/collections/news").json()["items"] > 0  # nothing was lost
        # the embeddings API of a server without a key needs none
        body = httpx.post(server.url + "/v1/embeddings", json={"model": "wordllama", "input": "a"}, timeout=60)
        assert body.status_code == 200 and len(body.json()["data"][0]["embedding"]) == 256
    finally:
        code = server.stop()
    log = (tmp_path / "ro.log").read_text()
    # uvicorn re-raises SIGTERM once drained; the CLI then exits 143 (128 + SIGTERM) like every other command
    assert code in (0, 143, -15) and "Application shutdown complete" in log
    assert '"route": "/v1/collections/{name}/items"' in log and '"status": 403' in log  # the access log


def test_search_vector_json_is_plain_numbers(api):
    body = api.post("/v1/collections/news/search", json={"query": "rain", "k": 2}).json()
    assert all(isinstance(r["score"], float) and np.isfinite(r["score"]) for r in body["data"])
