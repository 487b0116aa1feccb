"""`embedlab.explore("demo-news")`: the explorer inline in a notebook, as an iframe to a local server.

The server is started on a free loopback port on the first call and reused by later calls for the same
store (one per store, for the life of the kernel).
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from embedlab.serve.explorer.launch import Running, start

_lock = threading.Lock()
_servers: dict[str, Running] = {}


class Explorer:
    """The explorer of one collection: shows itself as an iframe in Jupyter; `url` opens it in a browser."""

    def __init__(self, url: str, height: int = 720) -> None:
        self.url = url
        self.height = int(height)

    def __repr__(self) -> str:
        return f"Explorer({self.url!r})"

    def _repr_html_(self) -> str:
        src = html.escape(self.url, quote=True)
        return (
            f'<iframe src="{src}" width="100%" height="{self.height}" style="border:1px solid #ddd" '
            'title="embedlab explorer"></iframe>'
        )


def explore(
    collection: str | None = None, store: Any = None, height: int = 720, api_key: str | None = None
) -> Explorer:
    """Show the explorer for `collection` (or the list of collections) of `store` (default: the user's store)."""
    from embedlab.serve import app
    from embedlab.store import Store

    opened = store if isinstance(store, Store) else Store(store)
    if collection is not None:
        opened.collection(collection)  # a clear NotFoundError now rather than in the page
    key = str(Path(opened.path).resolve())
    with _lock:
        running = _servers.get(key)
        if running is None or not running.thread.is_alive():
            running = _servers[key] = start(app(store=opened, api_key=api_key))
    url = running.url + (f"#/map/{quote(collection, safe='')}" if collection else "#/collections")
    return Explorer(url, height)


def stop_all() -> None:
    """Stop every explorer server this process started."""
    with _lock:
        for running in _servers.values():
            running.stop()
        _servers.clear()
