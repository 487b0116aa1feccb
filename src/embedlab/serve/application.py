"""`app(...)`: the ASGI application (FastAPI) of `embedlab serve`, for uvicorn, tests and users who mount it.

(The module is `application`, not `app`, so that `embedlab.serve.app` stays the function.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from embedlab._version import __version__
from embedlab.errors import EmbedlabError
from embedlab.serve import errors
from embedlab.serve.metrics import Metrics
from embedlab.serve.middleware import AccessLog, BodyLimit
from embedlab.serve.models import ModelPool
from embedlab.serve.state import LONG_TEXT, Limits, ServerState
from embedlab.store import Store

DESCRIPTION = """An OpenAI-compatible embeddings API (`POST /v1/embeddings`, `GET /v1/models`) and the
collections of an embedlab store (`/v1/collections/...`) on one port. Errors use OpenAI's shape
`{"error": {"message", "type", "param", "code"}}`. When the server has a key, send `Authorization: Bearer KEY`."""


def app(
    store: Store | str | Path | None = None,
    models: Iterable[str] = (),
    api_key: str | None = None,
    allow_writes: bool = False,
    max_models: int = 4,
    encode_workers: int | None = None,
    long_text: str = "window",
    cors_origins: Iterable[str] = (),
    explorer: bool = True,
    **limits: Any,
) -> FastAPI:
    """Build the server's ASGI app.

    `store`: a Store or its folder (default: the user's store). `models`: loaded at start-up (others on
    first use; at most `max_models` at once, least recently used unloaded). `encode_workers`: threads that
    encode at once per model (default: min(2, cores) on a CPU, 1 on a GPU; see `embedlab.serve.models`). `api_key`: required as a
    Bearer token on every route but /health when set. `allow_writes`: allow adding items and dropping
    collections. `long_text`: window, truncate or error for texts over a model's limit (a request may
    choose its own). `cors_origins`: origins allowed to call from a browser (none by default; never `*`
    with a key). `limits`: see `embedlab.serve.state.Limits` (max_body_bytes, max_items, max_chars,
    max_k, max_batch, max_queue, batch_wait_ms).
    """
    if long_text not in LONG_TEXT:
        raise EmbedlabError(
            f"unknown long-text policy {long_text!r}.", f"choose one of {', '.join(LONG_TEXT)}.", param="long_text"
        )
    origins = tuple(cors_origins)
    if "*" in origins and api_key:
        raise EmbedlabError(
            "cors_origins='*' with an API key would let any web page use the key a browser holds.",
            "name the origins that may call the server, e.g. cors_origins=['http://localhost:3000'].",
            param="cors_origins",
        )
    bounds = Limits.from_options(limits)
    metrics = Metrics()
    pool = ModelPool(
        max_models,
        max_batch=bounds.max_batch,
        max_queue=bounds.max_queue,
        batch_wait_ms=bounds.batch_wait_ms,
        on_batch=lambda name, items, requests, seconds: (
            metrics.batch_items.labels(name).observe(items),
            metrics.batch_requests.labels(name).observe(requests),
            metrics.encode_seconds.labels(name).observe(seconds),
        ),
        on_queue=lambda name, queued: metrics.queue_depth.labels(name).set(queued),
        on_change=metrics.loaded.set,
        workers=encode_workers,
    )
    state = ServerState(
        store=store if isinstance(store, Store) else Store(store),
        models=pool,
        api_key=api_key or None,
        allow_writes=allow_writes,
        long_text=long_text,
        limits=bounds,
        metrics=metrics,
        cors_origins=origins,
        served=frozenset(str(m).strip() for m in models),
    )
    preload = sorted(state.served)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for name in preload:
            await asyncio.to_thread(pool.batcher, name)
        yield
        pool.close()

    application = FastAPI(title="embedlab", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    application.state.embedlab = state
    errors.install(application)

    from embedlab.serve.routes import collections, embeddings, ops

    application.include_router(embeddings.router)
    application.include_router(collections.router)
    application.include_router(ops.router)
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        application.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Embedlab-Long-Texts", "X-Embedlab-Windowed", "X-Embedlab-Truncated", "Retry-After"],
        )
    application.add_middleware(BodyLimit, max_bytes=bounds.max_body_bytes)
    application.add_middleware(AccessLog, metrics=metrics)
    if explorer:
        try:
            from embedlab.serve.explorer import attach
        except ImportError:  # the web explorer is not part of this install
            attach = None
        if attach is not None:
            attach(application)
    return application


__all__ = ["app"]
