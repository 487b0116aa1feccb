"""Two small ASGI middlewares: a request-body limit (413), and the access log plus request metrics.

Written by hand because Starlette and uvicorn have no request-body limit, and the access log has to
carry the route template and timing as one structured (JSON) line.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from embedlab.serve.errors import error_body

access_log = logging.getLogger("embedlab.access")

Scope = dict[str, Any]


class BodyLimit:
    """Answers 413 for a body over `max_bytes` (by Content-Length, or counted while it streams in), before
    the app reads any of it; the body is buffered only up to the limit."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._refuse(send, size)
                return
            chunks.append(body)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any, size: int) -> None:
        payload = json.dumps(
            error_body(
                413,
                f"the request body is too large ({size:,} bytes or more; this server takes at most "
                f"{self.max_bytes:,}). Send fewer or shorter inputs per request.",
                None,
                "request_too_large",
            )
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


class AccessLog:
    """One JSON line per request on the `embedlab.access` logger, and the request metrics."""

    def __init__(self, app: Any, metrics: Any) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client") or ("", 0)
                access_log.info(
                    json.dumps(
                        {
                            "ts": round(time.time(), 3),
                            "client": f"{client[0]}:{client[1]}",
                            "method": method,
                            "path": scope["path"],
                            "route": route,
                            "status": status,
                            "ms": round(seconds * 1000, 2),
                        }
                    )
                )


__all__ = ["AccessLog", "BodyLimit", "access_log"]
