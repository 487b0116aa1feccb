"""What the server holds between requests: the store, the model pool, the key, the limits and metrics."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Any

from fastapi import Request

from embedlab.errors import EmbedlabError
from embedlab.serve.errors import APIError
from embedlab.serve.metrics import Metrics
from embedlab.serve.models import ModelPool
from embedlab.store import Collection, Store, check_name

LONG_TEXT = ("window", "truncate", "error")


@dataclass(frozen=True)
class Limits:
    """What one request may ask for. Defaults: OpenAI's 2,048 inputs per request; 32,768 characters per
    text (about 8k tokens, OpenAI's longest input); a 4 MiB body; k up to 1,000."""

    max_body_bytes: int = 4 * 1024 * 1024
    max_items: int = 2048
    max_chars: int = 32_768
    max_k: int = 1000
    max_batch: int = 256  # texts per model batch
    max_queue: int = 8192  # texts waiting per model before 429
    batch_wait_ms: float = 2.0  # how long a forming batch waits for more requests, when requests overlap

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Limits:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise EmbedlabError(
                f"unknown server limit(s): {', '.join(unknown)}.", f"use any of {', '.join(sorted(known))}."
            )
        for name, value in options.items():
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or value < (0 if name == "batch_wait_ms" else 1)
            ):
                raise EmbedlabError(f"{name} must be a positive number, got {value!r}.", param=name)
        return cls(**options)


@dataclass
class ServerState:
    store: Store
    models: ModelPool
    api_key: str | None = None
    allow_writes: bool = False
    long_text: str = "window"
    limits: Limits = field(default_factory=Limits)
    metrics: Metrics = field(default_factory=Metrics)
    cors_origins: tuple[str, ...] = ()
    served: frozenset[str] = frozenset()  # the models named at start (may be paths, hub ids ...)
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    _collections: dict[str, Collection] = field(default_factory=dict)
    _collections_lock: threading.Lock = field(default_factory=threading.Lock)

    def check_model(self, name: str) -> str:
        """Refuse a model a request may not name: requests take the registered names (`embedlab models`)
        and the models the server was started with, never a path or hub id of their own (nothing a request
        sends reaches a file path). Checked before anything touches the file system."""
        from embedlab.encoders.spec import ALIASES, REGISTRY

        text = name.strip() if isinstance(name, str) else ""
        named = ALIASES.get(text, text)
        if (named in REGISTRY and REGISTRY[named].named) or text in self.served:
            return text
        started = f" and the ones it was started with ({', '.join(sorted(self.served))})" if self.served else ""
        raise APIError(
            404,
            f"model {name!r} is not served here. This server takes the models GET /v1/models lists{started}; "
            "a request cannot name a path or hub id (start the server with --model NAME to serve one).",
            param="model",
            code="model_not_found",
        )

    def collection(self, name: str) -> Collection:
        """An open collection (kept open between requests, so its model stays loaded)."""
        check_name(name)  # nothing but a plain name reaches the store's folders
        with self._collections_lock:
            opened = self._collections.get(name)
            if opened is None or name not in self.store.names():
                opened = self.store.collection(name)
                self._collections[name] = opened
            return opened

    def forget(self, name: str) -> None:
        with self._collections_lock:
            self._collections.pop(name, None)


def get_state(request: Request) -> ServerState:
    """The `ServerState` of the app serving `request`."""
    return request.app.state.embedlab


__all__ = ["LONG_TEXT", "Limits", "ServerState", "get_state"]
