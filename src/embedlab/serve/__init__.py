"""`embedlab serve`: an OpenAI-compatible embeddings API and the collections API over HTTP (FastAPI).

    from embedlab.serve import app
    application = app(store="~/data/store", models=["minilm"], api_key="...")   # an ASGI app for uvicorn

`embedlab.serve.client` talks to a running server (the command line's `--server URL`). See docs/serve.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from embedlab.serve.application import app


def __getattr__(name: str) -> Any:
    # imported on first use, so that `embedlab.serve.client` (the command line) does not load FastAPI
    if name == "app":
        from embedlab.serve.application import app

        return app
    raise AttributeError(f"module 'embedlab.serve' has no attribute {name!r}")


__all__ = ["app"]
