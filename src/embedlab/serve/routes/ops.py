"""`GET /health` (liveness and loaded models, no key needed) and `GET /metrics` (Prometheus text)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from embedlab._version import __version__
from embedlab.serve.auth import require_key
from embedlab.serve.state import get_state

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness and loaded models")
async def health(request: Request) -> dict[str, Any]:
    state = get_state(request)
    return {
        "status": "ok",
        "version": __version__,
        "models": state.models.loaded,
        "store": str(state.store.path),
        "allow_writes": state.allow_writes,
    }


@router.get("/metrics", summary="Prometheus metrics", dependencies=[Depends(require_key)])
async def metrics(request: Request) -> Response:
    return Response(get_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
