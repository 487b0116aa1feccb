"""The model pool and dynamic batching, without a server: coalescing, own rows per request, the bounded
queue, policies per request, LRU unloading; and 429 with Retry-After over HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest

from embedlab.encoders import Encoder
from embedlab.serve.models import Batcher, ModelPool, QueueFullError


class Slow(Encoder):
    """A text encoder that waits for `gate` before each batch and records batch sizes."""

    kind = "slow"
    config_keys = ("long_text",)

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.batches: list[int] = []
        self.policies: list[str] = []
        self.long_text = "window"

    @property
    def dim(self) -> int:
        return 3

    def identity(self) -> dict[str, Any]:
        return {"model": "slow"}

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        self.gate.wait(10)
        self.batches.append(len(texts))
        self.policies.append(self.long_text)
        return np.array([[len(t), 1.0, float(t.count("x"))] for t in texts], dtype=np.float32)


def test_concurrent_requests_are_coalesced_and_each_gets_its_rows():
    encoder = Slow()
    seen: list[tuple[int, int]] = []
    batcher = Batcher("slow", encoder, on_batch=lambda name, items, requests, seconds: seen.append((items, requests)))

    async def main() -> list[np.ndarray]:
        first = asyncio.create_task(batcher.submit(["a"]))
        await asyncio.sleep(0.05)  # the first batch is running (blocked on the gate)
        rest = [asyncio.create_task(batcher.submit(["x" * n, "y" * n])) for n in range(1, 21)]
        await asyncio.sleep(0.05)
        encoder.gate.set()
        return [await first, *[await r for r in rest]]

    results = asyncio.run(main())
    assert encoder.batches == [1, 40]  # the 20 requests that came while the first ran: one batch
    assert seen[1] == (40, 20)
    for n, rows in enumerate(results[1:], start=1):
        expected = np.array([[n, 1, n], [n, 1, 0]], dtype=np.float32)
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        np.testing.assert_allclose(rows, expected, rtol=1e-6)


def test_a_full_queue_refuses_instead_of_growing():
    encoder = Slow()
    batcher = Batcher("slow", encoder, max_queue=4)

    async def main() -> None:
        running = asyncio.create_task(batcher.submit(["a", "b", "c"]))
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(batcher.submit(["d", "e", "f"]))
        await asyncio.sleep(0.01)
        with pytest.raises(QueueFullError):
            await batcher.submit(["g", "h"])
        encoder.gate.set()
        assert (await running).shape == (3, 3) and (await waiting).shape == (3, 3)
        assert (await batcher.submit(["g", "h"])).shape == (2, 3)  # room again

    asyncio.run(main())


def test_policies_are_per_request_and_restored():
    encoder = Slow()
    encoder.gate.set()
    batcher = Batcher("slow", encoder)

    async def main() -> None:
        await asyncio.gather(batcher.submit(["a"], "truncate"), batcher.submit(["b"], "window"))

    asyncio.run(main())
    assert sorted(encoder.policies) == ["truncate", "window"]
    assert encoder.long_text == "window"


def test_errors_reach_every_request_of_the_batch():
    class Broken(Slow):
        def _encode(self, texts, batch_size, show_progress):
            raise RuntimeError("boom")

    batcher = Batcher("broken", Broken())

    async def main() -> None:
        with pytest.raises(RuntimeError, match="boom"):
            await batcher.submit(["a"])
        with pytest.raises(RuntimeError, match="boom"):
            await batcher.submit(["b"])  # the worker survived

    asyncio.run(main())


def test_pool_keeps_at_most_max_models_least_recently_used_out():
    pool = ModelPool(max_models=2)
    pool.get("count")
    pool.get("tfidf")
    pool.get("count")  # now the most recent
    pool.get("count", max_features=50)
    assert pool.loaded == ["count", 'count {"max_features": 50}']
    assert pool.get("count") is pool.get("count")
    with pytest.raises(Exception, match="unknown model"):
        pool.get("no-such-model")


def test_queue_full_is_429_with_retry_after(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from embedlab.serve import app

    async def full(self, texts, policy="window"):
        raise QueueFullError(self.name, 8192)

    monkeypatch.setattr(Batcher, "submit", full)
    with TestClient(app(tmp_path / "store", explorer=False)) as client:
        response = client.post("/v1/embeddings", json={"model": "wordllama", "input": "a"})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert response.json()["error"]["code"] == "queue_full"
        assert "embedlab_rejected_total" in client.get("/metrics").text


def test_app_refuses_bad_settings(tmp_path):
    from embedlab.errors import EmbedlabError
    from embedlab.serve import app

    with pytest.raises(EmbedlabError, match="cors_origins"):
        app(tmp_path, api_key="a-long-key-123", cors_origins=["*"])
    with pytest.raises(EmbedlabError, match="long-text"):
        app(tmp_path, long_text="chop")
    with pytest.raises(EmbedlabError, match="max_itemz"):
        app(tmp_path, max_itemz=3)


def test_cors_is_off_unless_origins_are_named(tmp_path):
    from fastapi.testclient import TestClient

    from embedlab.serve import app

    preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    with TestClient(app(tmp_path / "a", explorer=False)) as client:
        answer = client.options("/v1/embeddings", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    opened = app(tmp_path / "b", cors_origins=["http://localhost:3000"], explorer=False)
    with TestClient(opened) as client:
        answer = client.options("/v1/embeddings", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = client.options("/v1/embeddings", headers={**preflight, "Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_model_named_at_start_may_be_a_path(tmp_path):
    from fastapi.testclient import TestClient

    from embedlab.encoders.transformer import bundled_minilm_path
    from embedlab.serve import app

    folder = str(bundled_minilm_path())
    with TestClient(app(tmp_path, models=[folder], explorer=False)) as client:
        served = client.post("/v1/embeddings", json={"model": folder, "input": "a cat"})
        assert served.status_code == 200 and len(served.json()["data"][0]["embedding"]) == 384
        other = client.post("/v1/embeddings", json={"model": folder + "/..", "input": "a cat"})
        assert other.status_code == 404 and "cannot name a path" in other.json()["error"]["message"]


def test_a_coalesced_batch_leaves_the_passes_to_the_encoder():
    """The batcher passes no batch_size: a transformer cuts its passes by its cost model on a CPU
    (tests/encoders/test_passes.py) and by its token budget on a GPU."""
    sizes: list[int | None] = []

    class Recording(Slow):
        def encode(self, items, batch_size=None, **options):  # type: ignore[override]
            sizes.append(batch_size)
            return super().encode(items, batch_size=batch_size, **options)

    encoder = Recording()
    encoder.gate.set()
    asyncio.run(Batcher("slow", encoder).submit([f"text {i}" for i in range(20)]))
    assert sizes == [None]


class Parallel(Slow):
    """Records, per batch, the worker thread, its torch thread count, and how many batches ran at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate.set()
        self.load = {"active": 0, "most": 0}  # shared by the workers' views (shallow copies)
        self.threads: list[tuple[str, int]] = []
        self.count = threading.Lock()
        self.both = threading.Barrier(2, timeout=10)

    def _encode(self, texts, batch_size, show_progress):
        import torch

        with self.count:
            self.load["active"] += 1
            self.load["most"] = max(self.load["most"], self.load["active"])
        try:
            self.threads.append((threading.current_thread().name, torch.get_num_threads()))
            self.both.wait()  # returns only when two batches run at the same time
            return super()._encode(texts, batch_size, show_progress)
        finally:
            with self.count:
                self.load["active"] -= 1


def test_two_workers_encode_two_batches_at_once_each_on_its_share_of_the_cores(monkeypatch):
    import torch

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    main_threads = torch.get_num_threads()
    encoder = Parallel()
    seen: list[tuple[int, int]] = []
    batcher = Batcher(
        "par", encoder, workers=2, on_batch=lambda name, items, requests, seconds: seen.append((items, requests))
    )

    async def main() -> list[np.ndarray]:
        return await asyncio.gather(*(batcher.submit(["x" * n]) for n in range(1, 21)))

    results = asyncio.run(main())
    assert encoder.load["most"] == 2  # the barrier needs two batches in flight, or it times out
    assert len({name for name, _ in encoder.threads}) == 2
    assert {threads for _, threads in encoder.threads} == {1}  # 2 cores / 2 workers, set in the worker thread
    assert torch.get_num_threads() == main_threads  # and only there
    assert sorted(items for items, _ in seen) == [10, 10]  # 20 texts queued at once: an equal share each
    for n, rows in enumerate(results, start=1):
        expected = np.array([[n, 1, n]], dtype=np.float32)
        np.testing.assert_allclose(rows, expected / np.linalg.norm(expected), rtol=1e-6)


def test_each_worker_has_its_own_policy():
    """Two batches with different long-text policies run at once, each on its worker's view of the encoder."""
    encoder = Parallel()
    batcher = Batcher("par", encoder, workers=2)

    async def main() -> None:
        await asyncio.gather(batcher.submit(["a"], "truncate"), batcher.submit(["b"], "window"))

    asyncio.run(main())
    assert encoder.load["most"] == 2
    assert sorted(encoder.policies) == ["truncate", "window"]  # each batch ran with its own request's policy
    assert encoder.long_text == "window"  # the encoder itself is restored / untouched


def test_an_idle_worker_waits_briefly_for_its_share_under_load():
    """While one worker runs 10 texts, the other waits (at most batch_wait) until about as many have queued,
    instead of taking the first request alone."""
    encoder = Slow()
    seen: list[int] = []
    batcher = Batcher(
        "slow", encoder, workers=2, batch_wait=2.0, on_batch=lambda name, items, requests, seconds: seen.append(items)
    )

    async def main() -> None:
        first = asyncio.create_task(batcher.submit([f"t{i}" for i in range(10)]))
        await asyncio.sleep(0.05)  # worker one runs (blocked on the gate)
        rest = []
        for n in range(10):
            rest.append(asyncio.create_task(batcher.submit([f"r{n}"])))
            await asyncio.sleep(0.01)  # the requests trickle in
        await asyncio.sleep(0.05)
        encoder.gate.set()
        await asyncio.gather(first, *rest)

    started = time.perf_counter()
    asyncio.run(main())
    assert sorted(seen) == [10, 10]  # not 1 + 9
    assert time.perf_counter() - started < 2.0  # the share arrived: no waiting out batch_wait


def test_a_single_client_pays_no_batch_wait():
    encoder = Slow()
    encoder.gate.set()
    batcher = Batcher("slow", encoder, workers=2, batch_wait=5.0)

    async def main() -> None:
        for n in range(3):
            await batcher.submit([f"t{n}"])

    started = time.perf_counter()
    asyncio.run(main())
    assert time.perf_counter() - started < 5.0


def test_workers_must_be_positive():
    from embedlab.errors import EmbedlabError

    with pytest.raises(EmbedlabError, match="at least 1"):
        Batcher("slow", Slow(), workers=0)
    with pytest.raises(EmbedlabError, match="at least 1"):
        ModelPool(workers=0)


def test_a_closed_batcher_finishes_its_queue_then_its_dispatcher_ends():
    encoder = Slow()
    batcher = Batcher("slow", encoder, workers=2)

    async def main() -> None:
        running = [asyncio.create_task(batcher.submit([f"t{n}"])) for n in range(6)]
        await asyncio.sleep(0.05)
        batcher.close()  # as the LRU pool does while requests are queued
        encoder.gate.set()
        assert all(len(rows) == 1 for rows in await asyncio.gather(*running))
        await asyncio.wait_for(batcher._worker, 2)  # the dispatcher returned: no task left behind

    asyncio.run(main())
