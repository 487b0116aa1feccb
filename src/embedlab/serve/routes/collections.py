"""The collections API: list, info, search (text or vector), similar, one item, add (upsert) and drop.

Every route calls one library method (`Store`, `Collection`); the blocking work runs on a worker thread.
Writes need a server started with allow_writes (`--allow-writes`); they go through `Collection.add`,
whose ingest commits whole batches only.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from embedlab.errors import EmbedlabError
from embedlab.search import SearchResult
from embedlab.serve.auth import require_key
from embedlab.serve.errors import APIError
from embedlab.serve.state import ServerState, get_state
from embedlab.store import check_name

router = APIRouter(prefix="/v1/collections", tags=["collections"], dependencies=[Depends(require_key)])


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str | None = Field(None, description="Text to search for (any mode).")
    vector: list[float] | None = Field(None, description="A query vector made by the collection's model (semantic).")
    mode: Literal["semantic", "keyword", "hybrid"] = "semantic"
    k: int = Field(5, description="How many results (1..max_k, 1,000 by default).")
    where: str | None = Field(None, description='SQL filter on metadata columns, e.g. "year > 2000".')
    weights: tuple[float, float] = Field((1.0, 1.0), description="Hybrid: weights of semantic and keyword ranks.")


class SimilarRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The id of an item in the collection.")
    k: int = 5
    where: str | None = None


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="Its id (default: a hash of the text); an existing id is updated.")
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class AddRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[Item]
    model: str | None = Field(None, description="Model for a new collection (default minilm); checked on existing.")


def result_json(result: SearchResult) -> dict[str, Any]:
    metadata = {}
    for key, value in result.metadata.items():
        if isinstance(value, bytes | bytearray):  # image thumbnails
            value = "data:image/jpeg;base64," + base64.b64encode(bytes(value)).decode("ascii")
        metadata[key] = value
    return {"id": result.id, "score": round(float(result.score), 6), "text": result.text, "metadata": metadata}


def check_k(k: int, state: ServerState) -> None:
    if not 1 <= k <= state.limits.max_k:
        raise APIError(400, f"k must be 1..{state.limits.max_k}, got {k}.", param="k", code="invalid_value")


def check_writes(state: ServerState) -> None:
    if not state.allow_writes:
        raise APIError(
            403,
            "this server is read-only; start it with --allow-writes (allow_writes=True) to add or drop.",
            code="read_only",
        )


@router.get("", summary="List the collections")
async def list_collections(request: Request) -> dict[str, Any]:
    state = get_state(request)

    def rows() -> list[dict[str, Any]]:
        found = []
        for name in state.store.names():
            try:
                c = state.collection(name)
                found.append(
                    {
                        "name": name,
                        "items": len(c),
                        "model": c.config["model"],
                        "dim": c.recipe.get("dim"),
                        "created": c.config.get("created"),
                    }
                )
            except EmbedlabError as exc:  # one damaged collection does not hide the others
                found.append({"name": name, "error": exc.message})
        return found

    return {"object": "list", "data": await run_in_threadpool(rows)}


@router.get("/{name}", summary="One collection: size, model, recipe, columns, indexes")
async def collection_info(name: str, request: Request) -> dict[str, Any]:
    state = get_state(request)
    return await run_in_threadpool(lambda: state.collection(name).info())


@router.post("/{name}/search", summary="Search by text (any mode) or by vector (semantic)")
async def search(name: str, body: SearchRequest, request: Request) -> dict[str, Any]:
    state = get_state(request)
    check_k(body.k, state)
    if (body.query is None) == (body.vector is None):
        raise APIError(
            400, "send either query (a text) or vector (a list of numbers), not both or neither.", param="query"
        )
    if body.query is not None and len(body.query) > state.limits.max_chars:
        raise APIError(400, f"the query has more than {state.limits.max_chars:,} characters.", param="query")
    query: Any = body.query if body.query is not None else np.asarray(body.vector, dtype=np.float32)

    def run() -> list[dict[str, Any]]:
        collection = state.collection(name)
        hits = collection.search(query, k=body.k, mode=body.mode, where=body.where, weights=body.weights)
        return [result_json(h) for h in hits]

    return {"object": "list", "data": await run_in_threadpool(run)}


@router.post("/{name}/similar", summary="Items most like one item (the item itself excluded)")
async def similar(name: str, body: SimilarRequest, request: Request) -> dict[str, Any]:
    state = get_state(request)
    check_k(body.k, state)

    def run() -> list[dict[str, Any]]:
        return [result_json(h) for h in state.collection(name).similar(body.id, k=body.k, where=body.where)]

    return {"object": "list", "data": await run_in_threadpool(run)}


@router.get("/{name}/items/{item_id:path}", summary="One item by id")
async def get_item(name: str, item_id: str, request: Request) -> dict[str, Any]:
    state = get_state(request)
    return await run_in_threadpool(lambda: result_json(state.collection(name).get(item_id)))


@router.post("/{name}/items", summary="Add or update items (needs --allow-writes)")
async def add_items(name: str, body: AddRequest, request: Request) -> dict[str, Any]:
    state = get_state(request)
    check_writes(state)
    check_name(name)
    if not body.items:
        raise APIError(400, "items is empty; send at least one item.", param="items", code="empty_input")
    if len(body.items) > state.limits.max_items:
        raise APIError(400, f"at most {state.limits.max_items:,} items per request.", param="items")
    for n, item in enumerate(body.items):
        if len(item.text) > state.limits.max_chars:
            raise APIError(400, f"items[{n}].text has more than {state.limits.max_chars:,} characters.", param="items")

    if body.model is not None:
        state.check_model(body.model)

    def run() -> dict[str, Any]:
        with state.write_lock:
            if name in state.store.names():
                collection = state.collection(name)
                if body.model is not None:
                    collection.check_same_model(body.model, {})  # the recipe guard of `embedlab index`
            else:
                collection = state.store.create(name, body.model or "minilm")
            summary = collection.add(
                [i.text for i in body.items],
                ids=[i.id or "" for i in body.items] if any(i.id for i in body.items) else None,
                metadata=[i.metadata for i in body.items],
            )
            state.forget(name)  # reopen: a new collection's table, fresh indexes
            return summary.as_dict()

    return await run_in_threadpool(run)


@router.delete("/{name}", summary="Delete a collection (needs --allow-writes)")
async def drop(name: str, request: Request) -> dict[str, Any]:
    state = get_state(request)
    check_writes(state)
    check_name(name)

    def run() -> None:
        with state.write_lock:
            state.store.drop(name)
            state.forget(name)

    await run_in_threadpool(run)
    return {"name": name, "deleted": True}
