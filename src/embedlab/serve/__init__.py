"""`embedlab serve`: an OpenAI-compatible embeddings API and the collections API over HTTP (FastAPI).

    from embedlab.serve import app
    application = app(store="~/data/store", models=["minilm"], api_key="...")   # an ASGI app for uvicorn

See docs/serve.md.
"""

from embedlab.serve.application import app

__all__ = ["app"]
