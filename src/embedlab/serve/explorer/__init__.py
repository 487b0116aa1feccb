"""The web explorer: a single page (HTML, JS, CSS shipped in this package) served at `/` of `embedlab serve`.

    from embedlab.serve.explorer import attach
    attach(application)        # done by embedlab.serve.app(explorer=True)

The page draws with plotly.js, taken from the `plotly` Python package (`plotly/package_data/plotly.min.js`):
scattergl (WebGL 1, drawn by Chromium's software rasteriser when there is no GPU), nothing fetched from
the network. Its JSON routes live under `/explorer/api/...` (see `routes.py`); search, similar and items
use the server's collections API under `/v1`.
"""

from __future__ import annotations

from typing import Any


def attach(application: Any) -> None:
    """Add the explorer page, its static files and its JSON routes to a FastAPI `application`."""
    from embedlab.serve.explorer.routes import router

    application.include_router(router)


def __getattr__(name: str) -> Any:
    if name == "explore":
        from embedlab.serve.explorer.notebook import explore

        return explore
    raise AttributeError(name)


__all__ = ["attach", "explore"]
