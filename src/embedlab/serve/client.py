"""A small client for a running `embedlab serve` (used by `embedlab search/similar --server URL`).

Standard library only (urllib), so that a command that talks to a server starts fast.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from embedlab.errors import EmbedlabError, NotFoundError

DATA_URI = "data:image/jpeg;base64,"


def call(
    server: str, method: str, path: str, body: Any = None, api_key: str | None = None, timeout: float = 120
) -> Any:
    """One JSON request; a server error becomes an EmbedlabError with the server's message."""
    parsed = urllib.parse.urlparse(server)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise EmbedlabError(f"{server!r} is not a server URL.", "pass e.g. http://127.0.0.1:8000.", param="server")
    key = api_key or os.environ.get("EMBEDLAB_API_KEY")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read()).get("error", {})
        except ValueError:
            error = {}
        message = error.get("message") or f"the server answered {exc.code} {exc.reason}."
        hint = "set EMBEDLAB_API_KEY to the server's key." if exc.code == 401 else None
        raise (NotFoundError if exc.code == 404 else EmbedlabError)(message, hint) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EmbedlabError(
            f"cannot reach the server at {server} ({reason}).",
            "start one with `embedlab serve`, or leave out --server to search the store directly.",
            param="server",
        ) from None


@dataclass
class RemoteResult:
    """One hit from a server, with the fields of `embedlab.search.SearchResult` (which is not imported
    here: `embedlab.search` loads numpy, and a command that only asks a server should start fast)."""

    id: str
    score: float
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def results(rows: list[dict[str, Any]]) -> list[RemoteResult]:
    """Server rows as results (image thumbnails back to bytes)."""
    found = []
    for row in rows:
        metadata = {
            k: base64.b64decode(v[len(DATA_URI) :]) if isinstance(v, str) and v.startswith(DATA_URI) else v
            for k, v in (row.get("metadata") or {}).items()
        }
        found.append(RemoteResult(row["id"], float(row["score"]), row["text"], metadata))
    return found


def search(
    server: str,
    collection: str,
    query: str,
    k: int = 5,
    mode: str = "semantic",
    where: str | None = None,
    weights: tuple[float, float] = (1.0, 1.0),
) -> list[RemoteResult]:
    name = urllib.parse.quote(collection, safe="")
    body = {"query": query, "k": k, "mode": mode, "where": where, "weights": list(weights)}
    return results(call(server, "POST", f"/v1/collections/{name}/search", body)["data"])


def similar(server: str, collection: str, item_id: str, k: int = 5, where: str | None = None) -> list[RemoteResult]:
    name = urllib.parse.quote(collection, safe="")
    return results(
        call(server, "POST", f"/v1/collections/{name}/similar", {"id": item_id, "k": k, "where": where})["data"]
    )


__all__ = ["RemoteResult", "call", "search", "similar"]
