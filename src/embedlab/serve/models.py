"""The model pool: models loaded once and kept warm (at most `max_models`, least recently used unloaded),
and dynamic batching: concurrent requests for one model are coalesced into model batches.

Why by hand: the batching servers we know (infinity-emb, text-embeddings-inference, Triton) are whole
servers, not a library to put in front of our own encoders; what is needed here is a bounded queue per
model, a worker that drains it into batches and runs the encoder on a thread, and futures back to the
requests, which is this module.

Batching: a request puts its texts on the model's queue and awaits a future. The model's dispatcher hands
what is queued (up to `max_batch` texts, shared equally between the idle workers) to a worker thread, which
runs one `encode` (never on the event loop, so `/health` and other requests are answered while it runs), and
hands each request its own rows. While batches run, new requests queue up and form the next ones; when
requests overlap, a forming batch also waits up to `batch_wait_ms` for more. A single client pays no wait.
When the queue holds more than `max_queue` texts, `submit` raises `QueueFullError` (the route answers 429 with
Retry-After).

Workers: on a CPU a model gets `min(2, cores)` workers by default, each running torch on cores / workers
threads, and each with its own view of the encoder (a shallow copy: the weights and tokenizer are shared, the
long-text policy and statistics are its own). Small coalesced batches on one thread each waste less than one
batch at a time split across both cores (the threads of one small matrix product wait for each other): 512
Lee sentences sent in groups of 16 ran at 235 texts/s on two one-thread workers against 210 on one two-thread
worker (docs/serve.md). A GPU gets one worker.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import os
import queue
import sys
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


def default_workers(encoder: Encoder) -> int:
    """Encode workers of a model: one on a GPU, else min(2, cores)."""
    device = getattr(getattr(encoder, "device", None), "type", "cpu")
    return 1 if device != "cpu" else max(1, min(2, os.cpu_count() or 1))


def _worker_threads(threads: int) -> None:
    """Thread initializer of an encode worker: torch runs on `threads` threads in it (a per-thread setting)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


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
    """The queue and workers of one loaded model."""

    name: str
    encoder: Encoder
    max_batch: int = 256
    max_queue: int = 8192
    batch_wait: float = 0.002
    on_batch: Callable[[str, int, int, float], None] | None = None
    on_queue: Callable[[str, int], None] | None = None
    workers: int = 1
    pending: list[_Job] = field(default_factory=list)
    queued: int = 0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise EmbedlabError(f"encode workers must be at least 1, got {self.workers}.", param="workers")
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        self.executor = ThreadPoolExecutor(
            self.workers,
            thread_name_prefix=f"embedlab-encode-{self.name}"[:40],
            initializer=_worker_threads if self.workers > 1 else None,
            initargs=(threads,) if self.workers > 1 else (),
        )
        # one view of the encoder per worker: its own long-text policy and statistics, shared weights
        self._views: queue.SimpleQueue[Encoder] = queue.SimpleQueue()
        for n in range(self.workers):
            self._views.put(self.encoder if n == 0 else copy.copy(self.encoder))
        self._idle = self.workers
        self._busy_texts = 0  # texts in the batches being encoded
        self._running: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
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
        """Dispatcher: whenever a worker is idle and texts are queued, hand it its share of them."""
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.pending:
                if self.closed and self._idle == self.workers:  # (a finishing batch counts itself idle first)
                    return
                continue
            if not self._idle:
                continue  # a finishing batch wakes the dispatcher
            await self._gather(loop)
            share = min(self.max_batch, math.ceil(self.queued / self._idle))
            jobs, size = [], 0
            while self.pending and (not jobs or size + len(self.pending[0].texts) <= share):
                job = self.pending.pop(0)
                jobs.append(job)
                size += len(job.texts)
            self.queued -= size
            if self.on_queue:
                self.on_queue(self.name, self.queued)
            jobs = [j for j in jobs if not j.future.done()]  # a client that went away
            if jobs:
                self._idle -= 1
                self._busy_texts += size
                task = loop.create_task(self._dispatch(jobs, size))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            if self.pending:
                self._wake.set()

    async def _gather(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait (at most `batch_wait`) until an idle worker's fair share has queued: the texts in the server
        (queued and being encoded) divided by the workers. A lone request has nothing to wait for; under load,
        the requests answered by the last batch come back over a few milliseconds, and a worker that took the
        first of them alone would run many small, padded batches (at 32 clients, 7 texts a batch on average)."""
        if self.batch_wait <= 0:
            return
        deadline = loop.time() + self.batch_wait
        while self.queued < math.ceil((self.queued + self._busy_texts) / self.workers) and self.queued < self.max_batch:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            assert self._wake is not None
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return

    async def _dispatch(self, jobs: list[_Job], size: int) -> None:
        loop = asyncio.get_running_loop()
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
        finally:
            self._idle += 1
            self._busy_texts -= size
            if self._wake is not None:
                self._wake.set()
        if self.on_batch:
            self.on_batch(self.name, size, len(jobs), time.perf_counter() - started)

    def _encode_jobs(self, jobs: list[_Job]) -> list[np.ndarray]:
        """One encode per long-text policy present (usually one), split back per request in order. Runs on a
        worker thread, with that worker's view of the encoder."""
        view = self._views.get()
        try:
            results: list[np.ndarray | None] = [None] * len(jobs)
            for policy in dict.fromkeys(j.policy for j in jobs):
                group = [i for i, j in enumerate(jobs) if j.policy == policy]
                texts = [t for i in group for t in jobs[i].texts]
                with long_text_policy(view, policy):
                    # no batch_size: the encoder cuts its passes itself (on a CPU by its cost model)
                    vectors = view.encode(texts)
                start = 0
                for i in group:
                    n = len(jobs[i].texts)
                    results[i] = vectors[start : start + n]
                    start += n
            return [r for r in results if r is not None]
        finally:
            self._views.put(view)

    def close(self) -> None:
        self.closed = True
        if self._wake is not None:
            self._wake.set()
        # the executor is not shut down: requests that already hold this batcher still finish; its
        # threads end when the batcher is collected


@contextmanager
def long_text_policy(encoder: Encoder, policy: str) -> Any:
    """Run with the encoder's `long_text` set to `policy` (for encoders that have one), then restore it.
    The encoder is a worker's own view, so no other encode sees the change."""
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
        workers: int | None = None,
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
        if workers is not None and workers < 1:
            raise EmbedlabError(f"encode workers must be at least 1, got {workers}.", param="encode_workers")
        self.workers = workers  # None: `default_workers` of each model
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
            workers = self.workers or default_workers(encoder)
            batcher = Batcher(key, encoder, workers=workers, **self.batch_options)  # type: ignore[arg-type]
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


__all__ = ["Batcher", "ModelPool", "QueueFullError", "default_workers", "long_text_policy", "model_key"]
