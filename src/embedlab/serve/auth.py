"""The API key: a Bearer token compared in constant time, and the rule that a server reachable from
other machines has one."""

from __future__ import annotations

import hmac
import ipaddress
import os
from pathlib import Path

from fastapi import Request

from embedlab.errors import EmbedlabError
from embedlab.serve.errors import APIError

ENV_KEY = "EMBEDLAB_API_KEY"


async def require_key(request: Request) -> None:
    """FastAPI dependency (`Depends(require_key)`): 401 in OpenAI's shape unless the request carries
    `Authorization: Bearer KEY` when the server has a key. A coroutine, so that FastAPI runs it on the event
    loop: a plain function would be sent to the thread pool and back on every request."""
    from embedlab.serve.state import get_state

    key = get_state(request).api_key
    if not key:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise APIError(
            401,
            "this server needs an API key: send the header 'Authorization: Bearer YOUR_KEY' "
            "(openai clients: api_key=YOUR_KEY).",
            code="missing_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise APIError(401, "the API key is wrong.", code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


def resolve_key(api_key: str | None = None, key_file: str | Path | None = None) -> str | None:
    """The key from the argument, else the key file (first line), else $EMBEDLAB_API_KEY; None when none."""
    if api_key:
        return check_key(api_key)
    if key_file:
        path = Path(key_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise EmbedlabError(
                f"cannot read the key file {path} ({exc.strerror or exc}).", "check the path.", param="key_file"
            ) from exc
        return check_key(text.strip().splitlines()[0] if text.strip() else "", str(path))
    env = os.environ.get(ENV_KEY, "").strip()
    return check_key(env, ENV_KEY) if env else None


def check_key(key: str, source: str = "api_key") -> str:
    key = key.strip()
    if len(key) < 8 or any(c.isspace() for c in key):
        raise EmbedlabError(
            f"the API key from {source} is too short or holds spaces.",
            "use at least 8 characters without spaces, e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))'.",
            param="api_key",
        )
    return key


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without a key."""
    if not is_loopback(host) and not api_key:
        raise EmbedlabError(
            f"refusing to listen on {host} without an API key: anyone who can reach this machine could use it.",
            f"set a key with api_key= (--api-key KEY, --api-key-file FILE or ${ENV_KEY}), "
            "or bind 127.0.0.1 (the default) to serve this machine only.",
            param="host",
        )


__all__ = ["ENV_KEY", "check_bind", "is_loopback", "require_key", "resolve_key"]
