"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

Library errors (`EmbedlabError`) carry their HTTP status as the class attribute `status`; the handlers
installed by `install` turn them, request validation errors and `APIError`s into that shape, so every bad
input gets a clear 4xx and the server keeps serving.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from embedlab.errors import EmbedlabError

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "service_unavailable",
}


class APIError(Exception):
    """An error the server answers with `status` (and optional headers, e.g. Retry-After)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": TYPES.get(status, "invalid_request_error"), "param": param, "code": code}
    }


def error_response(
    status: int, message: str, param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, param, code), status_code=status, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return error_response(exc.status, exc.message, exc.param, exc.code, exc.headers)


async def _embedlab_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EmbedlabError)
    message = exc.message + (f" Hint: {exc.hint}" if exc.hint else "")
    return error_response(exc.status, message, exc.param, exc.code)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    if first.get("type") == "json_invalid":
        return error_response(400, "the request body is not valid JSON.", None, "invalid_json")
    if tuple(first.get("loc", ())) == ("body",):
        return error_response(
            400,
            "the request body must be a JSON object (sent with Content-Type: application/json).",
            None,
            "invalid_json",
        )
    where = _location(tuple(first.get("loc", ())))
    details = "; ".join(f"{_location(tuple(e.get('loc', ())))}: {e.get('msg')}" for e in errors[:5])
    return error_response(422, f"invalid request: {details}.", where, "invalid_value")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    message = str(exc.detail) if exc.detail else "error"
    if status == 404:
        message = f"there is no route {request.method} {request.url.path}; see /docs for the API."
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /docs for the API."
    return error_response(status, message, None, None, dict(exc.headers or {}))


def install(application: FastAPI) -> None:
    """Register every handler on `application`."""
    application.add_exception_handler(APIError, _api_error)
    application.add_exception_handler(EmbedlabError, _embedlab_error)
    application.add_exception_handler(RequestValidationError, _validation_error)
    application.add_exception_handler(StarletteHTTPException, _http_error)


__all__ = ["APIError", "error_body", "error_response", "install"]
