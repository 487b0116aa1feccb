"""The model pool: models loaded once and kept warm (at most `max_models`, least recently used unloaded),
and dynamic batching: concurrent requests for one model are coalesced into model batches.

Why by hand: the batching servers we know (infinity-emb, text-embeddings-inference, Triton) are whole
servers, not a library to put in front of our own encoders; what is needed here is a bounded queue per
model, a worker that drains it into batches and runs the encoder on a thread, and futures back to the
requests, which is this module.

Batching: a request puts its texts on the model's queue and awaits a future. The model's worker takes
everything queued (up to `max_batch` texts), runs one `encode` on the model's own thread (never on the
event loop, so `/health` and other requests are answered while it runs), and hands each request its own
rows. While a batch runs, new requests queue up and form the next batch; when requests overlap, a forming
batch also waits up to `batch_wait_ms` for more. A single client pays no wait. When the queue holds more
than `max_queue` texts, `submit` raises `QueueFullError` (the route answers 429 with Retry-After).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab.encoders import Encoder, ModelSpec
from embedlab.errors import EmbedlabError

POLICIES = ("window", "truncate")
# Rows per forward pass of a coalesced batch. The batch holds texts in arrival order; the encoder sorts them
# by length and cuts them into passes of this many rows, so that short texts are not padded to the longest
# one. On a CPU small passes win: 512 Lee sentences sent as batches of 20 ran at 155 texts/s in passes of
# 64 rows, 205 in passes of 4 and 191 in passes of 8 (199 at 8 for batches of 32; see docs/serve.md). A GPU
# wants large passes.
PASS_ROWS = {"cpu": 8, "cuda": 64}


class QueueFullError(Exception):
    """The model's queue is full; try again shortly."""

    def __init__(self, model: str, queued: int) -> None:
        super().__init__(f"the queue of model {model} is full ({queued} texts waiting).")
        self.model = model
        self.queued = queued


@dataclass
class _Job:
    texts: list[str]
    policy: str
    future: asyncio.Future[np.ndarray]


@dataclass
class Batcher:
    """The queue and worker of one loaded model."""

    name: str
    encoder: Encoder
    max_batch: int = 256
    max_queue: int = 8192
    batch_wait: float = 0.002
    on_batch: Callable[[str, int, int, float], None] | None = None
    on_queue: Callable[[str, int], None] | None = None
    pending: list[_Job] = field(default_factory=list)
    queued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # one encode at a time on this encoder

    def __post_init__(self) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"embedlab-encode-{self.name}"[:40])
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._overlap = False  # the last batch held more than one request
        self.closed = False

    async def submit(self, texts: list[str], policy: str = "window") -> np.ndarray:
        if self.queued and self.queued + len(texts) > self.max_queue:
            raise QueueFullError(self.name, self.queued)
        loop = asyncio.get_running_loop()
        if self._wake is None or self._worker is None or self._worker.done():
            self._wake = asyncio.Event()
            self._worker = loop.create_task(self._run(), name=f"embedlab-batcher-{self.name}")
        job = _Job(texts, policy, loop.create_future())
        self.pending.append(job)
        self.queued += len(texts)
        if self.on_queue:
            self.on_queue(self.name, self.queued)
        self._wake.set()
        return await job.future

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.pending:
                if self.closed:
                    return
                continue
            if self._overlap and self.batch_wait > 0 and self.queued < self.max_batch:
                await asyncio.sleep(self.batch_wait)
            jobs, size = [], 0
            while self.pending and (not jobs or size + len(self.pending[0].texts) <= self.max_batch):
                job = self.pending.pop(0)
                jobs.append(job)
                size += len(job.texts)
            self.queued -= size
            if self.on_queue:
                self.on_queue(self.name, self.queued)
            self._overlap = len(jobs) > 1 or bool(self.pending)
            jobs = [j for j in jobs if not j.future.done()]  # a client that went away
            if jobs:
                started = time.perf_counter()
                try:
                    results = await loop.run_in_executor(self.executor, self._encode_jobs, jobs)
                except BaseException as exc:  # the error goes to every request of the batch
                    for job in jobs:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for job, vectors in zip(jobs, results, strict=True):
                        if not job.future.done():
                            job.future.set_result(vectors)
                if self.on_batch:
                    self.on_batch(self.name, size, len(jobs), time.perf_counter() - started)
            if self.pending:
                self._wake.set()

    def _encode_jobs(self, jobs: list[_Job]) -> list[np.ndarray]:
        """One encode per long-text policy present (usually one), split back per request in order."""
        results: list[np.ndarray | None] = [None] * len(jobs)
        for policy in dict.fromkeys(j.policy for j in jobs):
            group = [i for i, j in enumerate(jobs) if j.policy == policy]
            texts = [t for i in group for t in jobs[i].texts]
            device = getattr(getattr(self.encoder, "device", None), "type", "cpu")
            with self.lock, long_text_policy(self.encoder, policy):
                vectors = self.encoder.encode(texts, batch_size=PASS_ROWS.get(device, 64))
            start = 0
            for i in group:
                n = len(jobs[i].texts)
                results[i] = vectors[start : start + n]
                start += n
        return [r for r in results if r is not None]

    def close(self) -> None:
        self.closed = True
        if self._wake is not None:
            self._wake.set()
        # the executor is not shut down: requests that already hold this batcher still finish; its
        # thread ends when the batcher is collected


@contextmanager
def long_text_policy(encoder: Encoder, policy: str) -> Any:
    """Run with the encoder's `long_text` set to `policy` (for encoders that have one), then restore it.
    Callers hold the batcher's lock, so no other encode sees the change."""
    before = getattr(encoder, "long_text", None)
    change = before in POLICIES and policy in POLICIES and policy != before
    if change:
        encoder.long_text = policy  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if change:
            encoder.long_text = before  # type: ignore[attr-defined]


def model_key(name: str, options: dict[str, Any]) -> str:
    return name if not options else f"{name} {json.dumps(options, sort_keys=True, default=str)}"


class ModelPool:
    """Models loaded by name (+ options), kept warm; at most `max_models` at once (LRU)."""

    def __init__(
        self,
        max_models: int = 4,
        max_batch: int = 256,
        max_queue: int = 8192,
        batch_wait_ms: float = 2.0,
        on_batch: Callable[[str, int, int, float], None] | None = None,
        on_queue: Callable[[str, int], None] | None = None,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        if max_models < 1:
            raise EmbedlabError(f"max_models must be at least 1, got {max_models}.", param="max_models")
        self.max_models = max_models
        self.batch_options = {
            "max_batch": max_batch,
            "max_queue": max_queue,
            "batch_wait": batch_wait_ms / 1000,
            "on_batch": on_batch,
            "on_queue": on_queue,
        }
        self.on_change = on_change
        self._loaded: OrderedDict[str, Batcher] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._loaded

    @property
    def loaded(self) -> list[str]:
        """Keys of the loaded models, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def _loaded_batcher(self, key: str) -> Batcher | None:
        """The batcher of an already loaded model (now the most recently used), or None."""
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        return None

    def batcher(self, name: str, **options: Any) -> Batcher:
        """The batcher of model `name` (loading it on first use; thread-safe)."""
        spec = ModelSpec(str(name), dict(options))
        key = model_key(spec.name, dict(spec.options))
        found = self._loaded_batcher(key)
        if found is not None:
            return found
        with self._lock:
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # one load per model, others wait for it
            found = self._loaded_batcher(key)
            if found is not None:
                return found
            encoder = spec.load()
            batcher = Batcher(key, encoder, **self.batch_options)  # type: ignore[arg-type]
            with self._lock:
                self._loaded[key] = batcher
                self._loading.pop(key, None)
                while len(self._loaded) > self.max_models:
                    _, old = self._loaded.popitem(last=False)
                    old.close()  # requests already queued on it still finish
                count = len(self._loaded)
            if self.on_change:
                self.on_change(count)
            return batcher

    def get(self, name: str, **options: Any) -> Encoder:
        """The encoder of model `name` with `options`, loaded once and kept warm."""
        return self.batcher(name, **options).encoder

    async def load(self, name: str, **options: Any) -> Batcher:
        """`batcher` without blocking the event loop while a model loads."""
        spec = ModelSpec(str(name), dict(options))
        found = self._loaded_batcher(model_key(spec.name, dict(spec.options)))
        return found if found is not None else await asyncio.to_thread(self.batcher, name, **options)

    async def encode(self, name: str, texts: Sequence[str], *, long_text: str = "window", **options: Any) -> np.ndarray:
        """Unit vectors of `texts` by model `name`, batched with other concurrent requests for that model."""
        batcher = await self.load(name, **options)
        return await batcher.submit(list(texts), long_text)

    def close(self) -> None:
        with self._lock:
            for batcher in self._loaded.values():
                batcher.close()
            self._loaded.clear()


__all__ = ["Batcher", "ModelPool", "QueueFullError", "long_text_policy", "model_key"]
