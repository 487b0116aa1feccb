"""`POST /v1/embeddings` and `GET /v1/models`, as the OpenAI API defines them."""

from __future__ import annotations

import base64
import time
from typing import Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from embedlab.encoders import Encoder
from embedlab.serve.auth import require_key
from embedlab.serve.errors import APIError
from embedlab.serve.models import QueueFullError
from embedlab.serve.state import ServerState, get_state

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], dependencies=[Depends(require_key)])
STARTED = int(time.time())
INLINE_CHARS = 4096  # requests up to this many characters are tokenized on the event loop (a hop costs more)


class EmbeddingRequest(BaseModel):
    """OpenAI's embeddings request, plus `long_text` (embedlab's policy for texts over the model's limit)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="Model name, as `embedlab models` lists them (e.g. minilm, wordllama).")
    input: Any = Field(description="A string, a list of strings, or a list of token-id lists (transformer models).")
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="float (JSON numbers) or base64 (little-endian float32 bytes)."
    )
    dimensions: int | None = Field(None, description="Only for models trained for truncation (none bundled).")
    user: str | None = Field(None, description="Accepted and ignored.")
    long_text: Literal["window", "truncate", "error"] | None = Field(
        None, description="Texts over the model's token limit: window, truncate or error (default: the server's)."
    )


def check_input(value: Any, state: ServerState) -> tuple[list[str] | None, list[list[int]] | None]:
    """(texts, None) or (None, token-id lists), with a clear error for anything else."""
    limits = state.limits
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise APIError(
            400,
            f"input must be a string, a list of strings or a list of token-id lists, not {type(value).__name__} "
            f"({str(value)[:40]!r}).",
            param="input",
            code="invalid_input",
        )
    if not items:
        raise APIError(400, "input is an empty list; send at least one text.", param="input", code="empty_input")
    if len(items) > limits.max_items:
        raise APIError(
            400,
            f"input has {len(items):,} items; at most {limits.max_items:,} per request. Split it into several requests.",
            param="input",
            code="too_many_inputs",
        )
    if all(isinstance(i, list) for i in items):
        for n, ids in enumerate(items):
            if not ids:
                raise APIError(400, f"input[{n}] is an empty token list.", param="input", code="empty_input")
            if not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in ids):
                raise APIError(
                    400,
                    f"input[{n}] must hold token ids (whole numbers >= 0) only.",
                    param="input",
                    code="invalid_input",
                )
            if len(ids) > limits.max_chars:
                raise APIError(400, f"input[{n}] has {len(ids):,} tokens; too long.", param="input", code="too_long")
        return None, items
    for n, text in enumerate(items):
        if not isinstance(text, str):
            raise APIError(
                400,
                f"input[{n}] is {type(text).__name__} ({str(text)[:40]!r}); every item must be a string "
                "(or every item a list of token ids).",
                param="input",
                code="invalid_input",
            )
        if not text.strip():
            raise APIError(400, f"input[{n}] is empty; send text to embed.", param="input", code="empty_input")
        if len(text) > limits.max_chars:
            raise APIError(
                400,
                f"input[{n}] has {len(text):,} characters; at most {limits.max_chars:,} per item.",
                param="input",
                code="too_long",
            )
    return items, None


def decode_tokens(encoder: Encoder, lists: list[list[int]]) -> list[str]:
    """Token-id inputs back to text with the model's own tokenizer (transformer models only)."""
    tokenizer = getattr(encoder, "tokenizer", None)
    if tokenizer is None or not hasattr(tokenizer, "decode") or not hasattr(encoder, "windows"):
        raise APIError(
            400,
            f"token-id input needs a transformer model (e.g. minilm); {encoder.name} takes strings only.",
            param="input",
            code="invalid_input",
        )
    size = len(tokenizer)
    texts = []
    for n, ids in enumerate(lists):
        bad = next((t for t in ids if t >= size), None)
        if bad is not None:
            raise APIError(
                400,
                f"input[{n}] holds token id {bad}; {encoder.name} has {size} tokens.",
                param="input",
                code="invalid_input",
            )
        texts.append(tokenizer.decode(ids, skip_special_tokens=True))
    return texts


def check_dimensions(encoder: Encoder, dimensions: int | None) -> int | None:
    if dimensions is None or dimensions == encoder.dim:
        return None
    if not encoder.truncatable_dims:
        raise APIError(
            400,
            f"model {encoder.name} does not support dimensions={dimensions}: it was not trained for truncation, so "
            f"its vectors are only meaningful whole ({encoder.dim} dimensions). Leave out dimensions.",
            param="dimensions",
            code="unsupported_dimensions",
        )
    if not 1 <= dimensions < encoder.dim:
        raise APIError(400, f"dimensions must be 1..{encoder.dim}.", param="dimensions", code="invalid_value")
    return dimensions


@router.post("/embeddings", summary="Embed texts (OpenAI-compatible)", response_model=None)
async def create_embeddings(body: EmbeddingRequest, request: Request) -> Response:
    state = get_state(request)
    texts, token_lists = check_input(body.input, state)
    policy = body.long_text or state.long_text
    batcher = await state.models.load(state.check_model(body.model))
    encoder = batcher.encoder
    if not encoder.supports_text:
        raise APIError(400, f"model {encoder.name} embeds images only.", param="model", code="unsupported_model")
    if not encoder.fitted:
        raise APIError(
            400,
            f"model {body.model} learns its vocabulary from a corpus, so it has no fixed vectors to serve; "
            "search a collection made with it instead (POST /v1/collections/NAME/search).",
            param="model",
            code="unsupported_model",
        )
    dimensions = check_dimensions(encoder, body.dimensions)
    if token_lists is not None:
        texts = decode_tokens(encoder, token_lists)
    assert texts is not None
    if sum(len(t) for t in texts) > INLINE_CHARS:  # tokenizing a big request would hold up the event loop
        counts = await run_in_threadpool(encoder.count_tokens, texts)
    else:
        counts = encoder.count_tokens(texts)
    limit = encoder.token_limit
    long = [i for i, c in enumerate(counts) if limit is not None and c > limit]
    if long and policy == "error":
        first = long[0]
        raise APIError(
            400,
            f"input[{first}] has {counts[first]:,} tokens; model {encoder.name} takes {limit} "
            f"({len(long)} item(s) too long). Shorten it, or send long_text='window' or 'truncate'.",
            param="input",
            code="input_too_long",
        )
    try:
        vectors = await batcher.submit(texts, policy)
    except QueueFullError as exc:
        state.metrics.rejected.labels(batcher.name).inc()
        raise APIError(429, f"{exc} Retry after a moment.", code="queue_full", headers={"Retry-After": "1"}) from None
    if dimensions is not None:
        vectors = vectors[:, :dimensions]
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    total = int(sum(counts))
    metrics = state.metrics
    metrics.items.labels(batcher.name).inc(len(texts))
    metrics.tokens.labels(batcher.name).inc(total)
    if long:
        metrics.long_texts.labels(batcher.name, policy).inc(len(long))
    headers = {
        "X-Embedlab-Long-Texts": str(len(long)),
        "X-Embedlab-Windowed": str(len(long) if policy == "window" else 0),
        "X-Embedlab-Truncated": str(len(long) if policy == "truncate" else 0),
    }
    if body.encoding_format == "base64":
        rows: list[Any] = [base64.b64encode(v.astype("<f4").tobytes()).decode("ascii") for v in vectors]
    else:  # float32 rows: orjson writes each number in the shortest form that reads back as the same float32
        rows = list(vectors.astype(np.float32, copy=False))
    payload = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": row} for i, row in enumerate(rows)],
        "model": body.model,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }
    # serialized here with orjson: FastAPI's default encoder visits every float in Python (and the json module
    # took 0.14 ms for one 384-number vector, against 0.01)
    content = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(content, media_type="application/json", headers=headers)


@router.get("/models", summary="List the models (OpenAI-compatible)")
async def list_models_route(request: Request) -> dict[str, Any]:
    from embedlab.encoders import list_models

    state = get_state(request)
    loaded = state.models.loaded
    rows = await run_in_threadpool(list_models)
    data = [
        {
            "id": m.name,
            "object": "model",
            "created": STARTED,
            "owned_by": "embedlab",
            "dim": m.dim,
            "modality": m.modality,
            "offline": m.offline,
            "description": m.description,
            "loaded": m.name in loaded,
        }
        for m in rows
    ]
    known = {m.name for m in rows}
    data += [
        {"id": key, "object": "model", "created": STARTED, "owned_by": "embedlab", "loaded": True}
        for key in loaded
        if key not in known
    ]
    return {"object": "list", "data": data}


@router.get("/models/{model:path}", summary="One model (OpenAI-compatible)")
async def get_model(model: str, request: Request) -> dict[str, Any]:
    listed = await list_models_route(request)
    for row in listed["data"]:
        if row["id"] == model:
            return row
    raise APIError(
        404, f"there is no model {model!r}; GET /v1/models lists them.", param="model", code="model_not_found"
    )
