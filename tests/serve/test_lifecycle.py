"""The server as a process: SIGKILL during an add, SIGTERM drains requests in flight, refusals at start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx

from tests.serve.conftest import Server

BATCH = 512  # items per commit of Collection.add (embedlab.store.ingest.WRITE_BATCH)


def test_sigkill_during_add_leaves_whole_batches(tmp_path):
    from embedlab.store import Store
    from embedlab.store.ingest import WRITE_BATCH

    assert WRITE_BATCH == BATCH
    store = tmp_path / "store"
    server = Server(store, "--allow-writes", "--model", "wordllama", log=tmp_path / "server.log")
    sent: list[int] = []
    failed: list[BaseException] = []
    words = "river stone harbour lantern meadow engine violin glacier orchard compass".split()

    def writer() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for r in range(50):
                items = [
                    {"id": f"r{r}-{i}", "text": " ".join(words[(i * j + r) % 10] for j in range(1, 40)) + f" {r} {i}"}
                    for i in range(2048)
                ]
                sent.append(r)
                try:
                    response = client.post("/v1/collections/k/items", json={"items": items, "model": "wordllama"})
                except httpx.HTTPError as exc:
                    failed.append(exc)
                    return
                assert response.status_code == 200, response.text

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until a commit has landed and a later add is running
        if len(sent) >= 2:
            break
        time.sleep(0.01)
    time.sleep(0.15)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    thread.join(60)
    assert failed, "the server finished every add before the kill; nothing was tested"

    collection = Store(store).collection("k")
    ids = {item_id for item_id in collection.vectors()[0]}
    assert len(collection) == len(ids) > 0
    per_request: dict[int, set[int]] = {}
    for item_id in ids:
        r, i = item_id[1:].split("-")
        per_request.setdefault(int(r), set()).add(int(i))
    for r, present in per_request.items():
        whole = len(present) // BATCH * BATCH
        assert len(present) % BATCH == 0, f"request {r}: {len(present)} items, not whole batches"
        assert present == set(range(whole)), f"request {r}: not the first {whole} items"
    hits = collection.search("river stone harbour", k=3)
    assert len(hits) == 3


def test_sigterm_drains_requests_in_flight(tmp_path):
    server = Server(tmp_path / "store", log=tmp_path / "server.log")
    result: dict[str, object] = {}
    texts = [f"sentence {i} about a quiet village by the sea" for i in range(64)]

    def request() -> None:
        try:
            result["response"] = httpx.post(
                server.url + "/v1/embeddings", json={"model": "minilm", "input": texts}, timeout=120
            )
        except httpx.HTTPError as exc:
            result["error"] = exc

    thread = threading.Thread(target=request)
    thread.start()
    time.sleep(1.0)  # the request is in: minilm loads on first use, which takes longer than this
    assert "response" not in result
    server.process.send_signal(signal.SIGTERM)
    thread.join(120)
    code = server.process.wait(60)
    response = result.get("response")
    assert isinstance(response, httpx.Response), result
    assert response.status_code == 200 and len(response.json()["data"]) == 64
    log = server.log.read_text()
    assert code in (0, 128 + signal.SIGTERM, -signal.SIGTERM) and "Application shutdown complete" in log


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EMBEDLAB_API_KEY"}
    command = [sys.executable, "-m", "embedlab", "serve", "--port", "1", *args]  # port 1: never bound if refused
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def test_a_wide_bind_needs_a_key():
    refused = run_serve("--host", "0.0.0.0")
    assert refused.returncode == 2
    assert "without an API key" in refused.stderr and "--api-key" in refused.stderr


def test_cors_star_with_a_key_is_refused_and_short_keys_too():
    star = run_serve("--api-key", "long-enough-key", "--cors-origin", "*")
    assert star.returncode == 2 and "--cors-origin" in star.stderr
    short = run_serve("--api-key", "abc")
    assert short.returncode == 2 and "too short" in short.stderr


def test_key_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("key-from-a-file-123\n")
    server = Server(tmp_path / "store", "--api-key-file", str(key_file), log=tmp_path / "server.log")
    try:
        assert httpx.get(server.url + "/v1/collections").status_code == 401
        ok = httpx.get(server.url + "/v1/collections", headers={"Authorization": "Bearer key-from-a-file-123"})
        assert ok.status_code == 200 and ok.json()["data"] == []
    finally:
        server.stop()
