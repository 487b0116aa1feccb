"""A stand-in for the server branch (issue 11) used ONLY by these tests until it is merged.

It provides the contract's names the explorer imports (`embedlab.serve.state.get_state`,
`embedlab.serve.auth.require_key`) and the `/v1` collection routes the page calls, in a few lines.
When the real `embedlab.serve.app` exists, `build_app` uses it instead and this module is not used.
"""

from __future__ import annotations

import asyncio
import base64
import sys
import threading
import types
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import Request


def real_app_factory():
    try:
        from embedlab.serve import app  # the server branch
    except ImportError:
        return None
    return app if callable(app) and not getattr(app, "standin", False) else None


class StandInPool:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded: dict[str, Any] = {}

    def get(self, name: str, **options: Any) -> Any:
        from embedlab import load

        with self.lock:
            if name not in self.loaded:
                self.loaded[name] = load(name)
            return self.loaded[name]

    async def encode(self, name: str, texts: list[str], **options: Any) -> np.ndarray:
        return await asyncio.to_thread(lambda: self.get(name).encode(texts))


@dataclass
class StandInState:
    store: Any
    models: Any
    api_key: str | None = None
    allow_writes: bool = False


def install_modules() -> None:
    """Register embedlab.serve.state and embedlab.serve.auth stand-ins (only when the real ones are absent)."""
    if "embedlab.serve.state" not in sys.modules:
        state = types.ModuleType("embedlab.serve.state")
        state.ServerState = StandInState

        def get_state(request: Request) -> StandInState:
            return request.app.state.embedlab

        state.get_state = get_state
        sys.modules["embedlab.serve.state"] = state
    if "embedlab.serve.auth" not in sys.modules:
        auth = types.ModuleType("embedlab.serve.auth")

        class Unauthorized(Exception):
            pass

        def require_key(request: Request) -> None:
            key = request.app.state.embedlab.api_key
            if key and request.headers.get("authorization") != f"Bearer {key}":
                raise Unauthorized()

        auth.require_key = require_key
        auth.Unauthorized = Unauthorized
        sys.modules["embedlab.serve.auth"] = auth


def error_body(message: str, kind: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def result_json(r: Any) -> dict[str, Any]:
    meta = {
        k: ("data:image/jpeg;base64," + base64.b64encode(v).decode() if isinstance(v, bytes) else v)
        for k, v in (r.metadata or {}).items()
    }
    return {"id": r.id, "score": float(r.score), "text": r.text, "metadata": meta}


def build_app(store: Any, api_key: str | None = None) -> Any:
    factory = real_app_factory()
    if factory is not None:
        return factory(store=store, api_key=api_key)
    install_modules()
    from fastapi import Body, Depends, FastAPI
    from fastapi.responses import JSONResponse

    from embedlab.errors import EmbedlabError
    from embedlab.serve.auth import Unauthorized, require_key  # the stand-in above
    from embedlab.serve.explorer import attach

    application = FastAPI()
    application.state.embedlab = StandInState(store=store, models=StandInPool(), api_key=api_key)

    @application.exception_handler(EmbedlabError)
    def on_error(request: Request, exc: EmbedlabError) -> JSONResponse:
        text = exc.message + (f" {exc.hint}" if exc.hint else "")
        return JSONResponse(error_body(text, type(exc).__name__, exc.param), status_code=exc.status)

    @application.exception_handler(Unauthorized)
    def on_401(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            error_body("missing or wrong API key: send Authorization: Bearer KEY.", "invalid_request_error"),
            status_code=401,
        )

    guarded = [Depends(require_key)]
    opened: dict[str, Any] = {}

    def get(name: str) -> Any:  # one Collection (and loaded encoder) per name, as a server keeps them
        if name not in opened:
            opened[name] = store.collection(name)
        return opened[name]

    @application.get("/v1/collections", dependencies=guarded)
    def collections() -> dict[str, Any]:
        out = []
        for name in store.names():
            info = store.collection(name).info()
            out.append({k: info.get(k) for k in ("name", "items", "model", "dim", "created")})
        return {"data": out}

    @application.post("/v1/collections/{name}/search", dependencies=guarded)
    def search(name: str, body: dict = Body(...)) -> dict[str, Any]:  # noqa: B008
        found = get(name).search(
            body.get("query"), k=body.get("k", 5), mode=body.get("mode", "semantic"), where=body.get("where")
        )
        return {"data": [result_json(r) for r in found]}

    @application.post("/v1/collections/{name}/similar", dependencies=guarded)
    def similar(name: str, body: dict = Body(...)) -> dict[str, Any]:  # noqa: B008
        found = get(name).similar(body["id"], k=body.get("k", 5), where=body.get("where"))
        return {"data": [result_json(r) for r in found]}

    @application.get("/v1/collections/{name}/items/{item_id:path}", dependencies=guarded)
    def item(name: str, item_id: str) -> dict[str, Any]:
        return result_json(get(name).get(item_id))

    attach(application)
    return application
