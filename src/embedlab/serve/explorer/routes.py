"""The explorer's routes: the page at `/`, its static files, and JSON under `/explorer/api/...`.

Each route parses its input and calls one library function (`embedlab.maps`, `embedlab.words`,
`embedlab.images`); the page uses the server's collections API (`/v1/collections/...`) for search,
similar items and single items. Every JSON route needs the server's key (`require_key`) when it has one.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from embedlab.errors import EmbedlabError, EmptyInputError, NotFoundError
from embedlab.serve.auth import require_key
from embedlab.serve.explorer.jobs import Jobs, compare_work, jsonable, map_work
from embedlab.serve.state import get_state

STATIC = Path(str(resources.files("embedlab.serve.explorer") / "static"))
STATIC_FILES = {"explorer.js": "text/javascript", "explorer.css": "text/css"}
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)  # 'unsafe-eval': plotly's WebGL layer (regl) compiles its shaders' glue with new Function
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_SIMILARITY_TEXTS = 50
MAX_TEXT_CHARS = 5_000
MAX_WORD_K = 100
WORD_MODELS_KEPT = 2

router = APIRouter()
api = APIRouter(prefix="/explorer/api", dependencies=[Depends(require_key)])


def plotly_js() -> Path:
    """plotly.js as the plotly Python package ships it (no copy of it lives in embedlab)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@router.get("/", include_in_schema=False)
def page() -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers={"Content-Security-Policy": CSP})


@router.get("/explorer/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    if name == "plotly.min.js":
        return FileResponse(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})
    if name not in STATIC_FILES:
        raise NotFoundError(f"no explorer file {name!r}.", param="name")
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})


# ---- shared state ------------------------------------------------------------------------------------
_lock = threading.Lock()


def jobs(request: Request) -> Jobs:
    with _lock:
        found = getattr(request.app.state, "explorer_jobs", None)
        if found is None:
            found = request.app.state.explorer_jobs = Jobs()
        return found


def collection(request: Request, name: str) -> Any:
    store = get_state(request).store
    if name not in store.names():
        raise NotFoundError(f"no collection {name!r} in the store.", "pick one from the list of collections.")
    return store.collection(name)


def error(exc: EmbedlabError | dict[str, Any], status: int = 422) -> JSONResponse:
    """OpenAI's error shape, as the server's other routes answer."""
    if isinstance(exc, EmbedlabError):
        body = {"message": exc.message + (f" {exc.hint}" if exc.hint else ""), "type": type(exc).__name__}
        status, param = exc.status, exc.param
    else:
        body = {"message": exc["message"] + (f" {exc['hint']}" if exc.get("hint") else ""), "type": exc["type"]}
        param = None
    return JSONResponse({"error": {**body, "param": param, "code": None}}, status_code=status)


def job_response(job: Any) -> Response:
    if job.error:
        return error(job.error)
    if job.payload is not None:
        return Response(job.payload, media_type="application/json")
    return JSONResponse(job.status(), status_code=202)


# ---- maps --------------------------------------------------------------------------------------------
@api.get("/collections/{name}/map")
def collection_map(request: Request, name: str, method: str = "umap", fresh: bool = False) -> Response:
    """The collection's 2-D map (projection, ids, hover texts, clusters), or 202 with progress while it runs."""
    from embedlab.maps import METHODS

    if method not in METHODS:
        raise EmbedlabError(f"unknown projection method {method!r}.", f"choose one of: {', '.join(METHODS)}.")
    found = collection(request, name)
    if len(found) == 0:
        raise EmptyInputError(f"collection {name!r} has no items to map.", "add items first.")
    key = ("map", name, int(found.table.version), method)
    registry = jobs(request)
    job = registry.find(key)
    if job is None or fresh:
        job = registry.get_or_start(key, map_work(found, method, fresh=fresh), fresh=fresh)
    return job_response(job)


def finished_map(request: Request, name: str) -> Any:
    """The MapData (ids, columns, thumbnails) in the order of the maps of `name`, read once per table version."""
    from embedlab.maps import from_collection

    found = collection(request, name)
    version = int(found.table.version)
    registry = jobs(request)
    with registry.lock:
        for key, job in reversed(registry.jobs.items()):
            if key[:3] == ("map", name, version) and job.data is not None:
                return job.data
    with _data_lock:
        cache = getattr(request.app.state, "explorer_data", None)
        if cache is None or cache[0] != (name, version):
            cache = request.app.state.explorer_data = ((name, version), from_collection(found))
        return cache[1]


_data_lock = threading.Lock()


@api.get("/collections/{name}/column")
def map_column(request: Request, name: str, column: str = Query(..., alias="name")) -> dict[str, Any]:
    """The values of one metadata column for every point of the map, in the map's order (for colours)."""
    data = finished_map(request, name)
    values = data.column(column)
    return {"name": column, "values": [jsonable(v) for v in values]}


@api.get("/collections/{name}/thumbnail")
def thumbnail(request: Request, name: str, id: str) -> Response:  # noqa: A002 - the item id, as in the API
    data = finished_map(request, name)
    if data.thumbnails is None:
        raise EmbedlabError(f"collection {name!r} holds no images.", param="name")
    try:
        row = data.ids.index(id)
    except ValueError:
        raise NotFoundError(f"collection {name!r} has no item with id {id!r}.", param="id") from None
    picture = data.thumbnails[row]
    if not picture:
        raise NotFoundError(f"item {id!r} has no thumbnail.", param="id")
    return Response(bytes(picture), media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})


@api.get("/compare")
def compare(request: Request, a: str, b: str, method: str = "umap", k: int = 10) -> Response:
    """Two collections of the same ids: both maps and each item's k-nearest-neighbour Jaccard overlap."""
    from embedlab.maps import METHODS

    if method not in METHODS:
        raise EmbedlabError(f"unknown projection method {method!r}.", f"choose one of: {', '.join(METHODS)}.")
    if a == b:
        raise EmbedlabError("compare needs two different collections.", "pick a second collection.", param="b")
    first, second = collection(request, a), collection(request, b)
    key = ("compare", a, int(first.table.version), b, int(second.table.version), method, int(k))
    registry = jobs(request)
    job = registry.find(key) or registry.get_or_start(key, compare_work(first, second, method, int(k)))
    return job_response(job)


# ---- images ------------------------------------------------------------------------------------------
async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes `limit` bytes (memory stays bounded)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise EmbedlabError(f"the image is {int(declared):,} bytes; the limit is {limit:,}.", "send a smaller image.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise EmbedlabError(f"the image is over the limit of {limit:,} bytes.", "send a smaller image.")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise EmptyInputError("no image was sent.", "drop an image file on the page.")
    return body


@api.post("/collections/{name}/image")
async def image_search(request: Request, name: str, k: int = 10, labels: str | None = None) -> dict[str, Any]:
    """Items nearest a dropped image (checked for size before decoding, as the library does), and with
    `labels` ("cat,dog") the image's zero-shot label probabilities (CLIP models)."""
    body = await read_body(request, MAX_IMAGE_BYTES)
    found = collection(request, name)
    return await asyncio.to_thread(_image_search, with_encoder(request, found), body, k, labels)


def with_encoder(request: Request, found: Any) -> Any:
    """`found` using an encoder loaded once per server for its recipe (an image model loads in seconds)."""
    import json

    key = json.dumps([found.config["model"], found.config["model_options"], found.config["recipe"]], default=str)
    with _lock:
        cache = getattr(request.app.state, "explorer_encoders", None)
        if cache is None:
            cache = request.app.state.explorer_encoders = OrderedDict()
        encoder = cache.get(key)
    if encoder is None:
        encoder = found.encoder  # loaded and checked against the stored recipe
        with _lock:
            cache[key] = encoder
            while len(cache) > WORD_MODELS_KEPT:
                cache.popitem(last=False)
    found.use_encoder(encoder)
    return found


def _image_search(found: Any, body: bytes, k: int, labels: str | None) -> dict[str, Any]:
    from embedlab.images import classify_images, search_image
    from embedlab.io.images import ImageSkipped, load_image

    try:
        load_image(body)  # the pixel limit is checked from the header, before any pixel is decoded
    except ImageSkipped as exc:
        raise EmbedlabError(
            f"the dropped file cannot be used: {exc.reason}.", "drop a jpg, png or webp image."
        ) from None
    results = [result_json(r) for r in search_image(found, body, k=k)]
    scores = None
    if labels:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "dropped"
            path.write_bytes(body)
            classified, skipped = classify_images(found.encoder, [path], labels)
        if skipped:
            raise EmbedlabError(f"the dropped image cannot be labelled: {next(iter(skipped.values()))}.")
        scores = classified[0].probabilities
    return {"data": results, "labels": scores}


def result_json(result: Any) -> dict[str, Any]:
    """A search result as the collections API shapes it (thumbnails as data: URLs)."""
    import base64

    metadata = {}
    for key, value in (result.metadata or {}).items():
        if isinstance(value, bytes):
            metadata[key] = "data:image/jpeg;base64," + base64.b64encode(value).decode("ascii")
        else:
            metadata[key] = jsonable(value)
    return {"id": result.id, "score": round(float(result.score), 6), "text": result.text, "metadata": metadata}


# ---- words -------------------------------------------------------------------------------------------
_words_lock = threading.Lock()
_word_models: OrderedDict[str, Any] = OrderedDict()


def word_models(request: Request) -> list[str]:
    """The word models the page may load: wordllama and the static word models of the store's collections.

    A model is never loaded from a path typed in the page: only these names are accepted.
    """
    from embedlab.words import is_static_spec

    store = get_state(request).store
    names = ["wordllama"]
    for name in store.names():
        try:
            model = store.collection(name).config["model"]
        except (EmbedlabError, OSError, KeyError):
            continue
        if model not in names and is_static_spec(model):
            names.append(model)
    return names


def words_model(request: Request, name: str) -> Any:
    from embedlab import words

    allowed = word_models(request)
    if name not in allowed:
        raise EmbedlabError(f"{name!r} is not a word model of this server.", f"choose one of: {', '.join(allowed)}.")
    with _words_lock:
        if name not in _word_models:
            _word_models[name] = words.load(name)
            while len(_word_models) > WORD_MODELS_KEPT:
                _word_models.popitem(last=False)
        _word_models.move_to_end(name)
        return _word_models[name]


class WordsRequest(BaseModel):
    model: str = "wordllama"
    op: str = Field("neighbors", description="neighbors, analogy, arithmetic or oov")
    word: str | None = None
    a: str | None = None
    b: str | None = None
    c: str | None = None
    expression: str | None = Field(None, max_length=2_000)
    text: str | None = Field(None, max_length=200_000)
    k: int = Field(10, ge=1, le=MAX_WORD_K)


@api.get("/words/models")
def list_word_models(request: Request) -> dict[str, Any]:
    return {"data": word_models(request)}


@api.post("/words")
def words_route(request: Request, body: WordsRequest) -> dict[str, Any]:
    """Neighbours of a word, an analogy A : B :: C : ?, vector arithmetic ("king - man + woman") or an OOV report."""
    lab = words_model(request, body.model)
    if body.op == "neighbors":
        return lab.neighbors(_need(body.word, "word"), k=body.k).as_dict()
    if body.op == "analogy":
        return lab.analogy(_need(body.a, "a"), _need(body.b, "b"), _need(body.c, "c"), k=body.k).as_dict()
    if body.op == "arithmetic":
        positive, negative = parse_expression(_need(body.expression, "expression"))
        statuses = lab.resolve(positive + negative)
        found = lab.most_similar(positive=positive, negative=negative, topn=body.k)
        return {
            "model": lab.name,
            "method": "mean of unit vectors (gensim most_similar)",
            "query": [s.as_dict() for s in statuses],
            "neighbors": [{"word": w, "score": round(s, 6)} for w, s in found],
            "notes": [],
        }
    if body.op == "oov":
        text = _need(body.text, "text")
        report = lab.oov_report([text])
        return {**report, "words": [s.as_dict() for s in lab.oov(list(dict.fromkeys(text.split()))[:200])]}
    raise EmbedlabError(f"unknown words operation {body.op!r}.", "choose neighbors, analogy, arithmetic or oov.")


def _need(value: str | None, name: str) -> str:
    if value is None or not value.strip():
        raise EmbedlabError(f"{name} is empty.", f"type a value for {name}.", param=name)
    return value.strip()


def parse_expression(expression: str) -> tuple[list[str], list[str]]:
    """ "king - man + woman" -> (["king", "woman"], ["man"])."""
    positive: list[str] = []
    negative: list[str] = []
    sign = 1
    for token in expression.replace("+", " + ").replace("-", " - ").split():
        if token in "+-":
            sign = -1 if token == "-" else 1
            continue
        (positive if sign > 0 else negative).append(token)
        sign = 1
    if not positive:
        raise EmbedlabError(f"the expression {expression!r} has no positive word.", 'e.g. "king - man + woman".')
    return positive, negative


# ---- similarity --------------------------------------------------------------------------------------
class SimilarityRequest(BaseModel):
    model: str = "minilm"
    texts: list[str] = Field(..., max_length=MAX_SIMILARITY_TEXTS)


@api.get("/models")
def text_models(request: Request) -> dict[str, Any]:
    """Models for the similarity view: minilm and the models of the store's text collections."""
    store = get_state(request).store
    names = ["minilm"]
    for name in store.names():
        try:
            model = store.collection(name).config["model"]
        except (EmbedlabError, OSError, KeyError):
            continue
        if model not in names and not model.startswith("image:"):
            names.append(model)
    return {"data": names}


@api.post("/similarity")
async def similarity(request: Request, body: SimilarityRequest) -> dict[str, Any]:
    """The cosine matrix of the given texts under one model (embedded by the server's model pool)."""
    texts = [t.strip() for t in body.texts if t.strip()]
    if len(texts) < 2:
        raise EmptyInputError("give at least two texts, one per line.", param="texts")
    if any(len(t) > MAX_TEXT_CHARS for t in texts):
        raise EmbedlabError(f"a text is longer than {MAX_TEXT_CHARS:,} characters.", "shorten it.", param="texts")
    vectors = np.asarray(await get_state(request).models.encode(body.model, texts), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1)
    matrix = unit @ unit.T
    return {"model": body.model, "texts": texts, "matrix": [[round(float(v), 4) for v in row] for row in matrix]}


router.include_router(api)
