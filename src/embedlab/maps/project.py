"""Projections to 2 or 3 dimensions: PCA (scikit-learn), t-SNE (openTSNE) and UMAP (umap-learn).

Every method is deterministic for a given seed. t-SNE uses openTSNE: FFT-accelerated gradients
for 2-D maps of 10,000 points or more, Barnes-Hut below that and in 3-D (openTSNE's FFT is
slower on small sets and has no 3-D), and scikit-learn's exact t-SNE only for tiny sets (< 200).
A projection of a collection is cached as .npy under the store's sidecar folder, keyed by the
collection's table version, the method and its parameters, so mapping the same data again is instant.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError
from embedlab.io import files

METHODS = ("pca", "tsne", "umap")
MIN_POINTS = {"pca": 3, "tsne": 5, "umap": 5}
EXACT_TSNE_BELOW = 200
FFT_TSNE_FROM = 10_000
CACHE_FORMAT = 1


@dataclass
class Projection:
    """Coordinates (n, dims) and how they were made; `explained_variance` is PCA's ratio per axis."""

    coords: np.ndarray
    method: str
    dims: int
    params: dict[str, Any]
    seconds: float
    cached: bool = False
    explained_variance: list[float] | None = None


def min_points(method: str, dims: int = 2) -> int:
    """The fewest points `method` can map into `dims` dimensions."""
    return max(MIN_POINTS[method], dims + 1)


def check_projection(method: str, dims: int, n: int) -> None:
    """Refuse an unknown method, bad dims or too few points before any work is done."""
    if method not in METHODS:
        raise EmbedlabError(f"unknown projection method {method!r}.", f"choose one of: {', '.join(METHODS)}.")
    if dims not in (2, 3):
        raise EmbedlabError(f"dims must be 2 or 3, got {dims}.", param="dims")
    need = min_points(method, dims)
    if n < need:
        raise EmbedlabError(
            f"{method} needs at least {need} points for a {dims}-D map; there are {n}.",
            "add more items, or drop sample= or use a larger sample=.",
        )


def project(
    vectors: np.ndarray,
    method: str = "umap",
    dims: int = 2,
    seed: int = 0,
    cache_dir: Path | None = None,
    cache_key: dict[str, Any] | None = None,
    **params: Any,
) -> Projection:
    """Project `vectors` with `method`; cached under `cache_dir` when a `cache_key` is given.

    Params: t-SNE `perplexity` (30); UMAP `n_neighbors` (15) and `min_dist` (0.1); t-SNE and UMAP
    use cosine distance (`metric`).
    """
    check_projection(method, dims, len(vectors))
    settings = {**DEFAULTS[method], **params}
    unknown = sorted(set(params) - set(DEFAULTS[method]))
    if unknown:
        raise EmbedlabError(
            f"{method} takes no option(s) {', '.join(unknown)}.", f"options: {sorted(DEFAULTS[method])}."
        )
    key = None
    if cache_dir is not None and cache_key is not None:
        key = {**cache_key, "n": len(vectors), "method": method, "dims": dims, "seed": seed, "params": settings}
        found = _read_cache(cache_dir, key)
        if found is not None:
            return found
    started = time.perf_counter()
    explained = None
    if method == "pca":
        coords, explained = _pca(vectors, dims, seed)
    elif method == "tsne":
        coords = _tsne(vectors, dims, seed, **settings)
    else:
        coords = _umap(vectors, dims, seed, **settings)
    result = Projection(
        np.ascontiguousarray(coords, dtype=np.float32),
        method,
        dims,
        settings,
        round(time.perf_counter() - started, 3),
        explained_variance=explained,
    )
    if key is not None:
        _write_cache(cache_dir, key, result)  # type: ignore[arg-type]
    return result


DEFAULTS: dict[str, dict[str, Any]] = {
    "pca": {},
    "tsne": {"perplexity": 30.0, "metric": "cosine"},
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine"},
}


def _pca(vectors: np.ndarray, dims: int, seed: int) -> tuple[np.ndarray, list[float]]:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=dims, random_state=seed)
    coords = pca.fit_transform(vectors)
    return coords, [float(r) for r in pca.explained_variance_ratio_]


def _tsne(vectors: np.ndarray, dims: int, seed: int, perplexity: float, metric: str) -> np.ndarray:
    n = len(vectors)
    perplexity = float(min(perplexity, max(1.0, (n - 1) / 3)))
    if n < EXACT_TSNE_BELOW:
        from sklearn.manifold import TSNE

        tsne = TSNE(
            n_components=dims, perplexity=perplexity, method="exact", init="pca", metric=metric, random_state=seed
        )
        return tsne.fit_transform(vectors.astype(np.float64))
    import openTSNE

    embedding = openTSNE.TSNE(
        n_components=dims,
        perplexity=perplexity,
        metric=metric,
        negative_gradient_method="fft" if dims == 2 and n >= FFT_TSNE_FROM else "bh",
        n_jobs=(os.cpu_count() or 1) if n >= FFT_TSNE_FROM else 1,  # threads only pay off on large sets
        random_state=seed,
        verbose=False,
    ).fit(vectors)
    return np.asarray(embedding)


def _umap(vectors: np.ndarray, dims: int, seed: int, n_neighbors: int, min_dist: float, metric: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap warns that a seed turns off parallelism, and about tiny sets
        import umap

        reducer = umap.UMAP(
            n_components=dims,
            n_neighbors=int(min(n_neighbors, len(vectors) - 1)),
            min_dist=min_dist,
            metric=metric,
            random_state=seed,
            init="spectral" if len(vectors) > dims + 2 else "random",
        )
        return reducer.fit_transform(vectors)


def cache_file(cache_dir: Path, key: dict[str, Any]) -> Path:
    """Where the projection for `key` is cached."""
    digest = hashlib.sha256(json.dumps({**key, "format": CACHE_FORMAT}, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir / f"{key['method']}-{key['dims']}d-{digest}.npy"


def _read_cache(cache_dir: Path, key: dict[str, Any]) -> Projection | None:
    path = cache_file(cache_dir, key)
    info_path = path.with_suffix(".json")
    if not (path.is_file() and info_path.is_file()):
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        coords = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None  # a damaged cache entry is recomputed
    if info.get("key") != key or coords.shape != (key["n"], key["dims"]):
        return None
    return Projection(coords, key["method"], key["dims"], key["params"], 0.0, True, info.get("explained_variance"))


def _write_cache(cache_dir: Path, key: dict[str, Any], projection: Projection) -> None:
    """Write the .json then the .npy, each to a temp name first; a store that is not writable is skipped."""
    path = cache_file(cache_dir, key)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        info = {"key": key, "explained_variance": projection.explained_variance, "seconds": projection.seconds}
        files.write_json(path.with_suffix(".json"), info, durable=False)
        files.save_npy(path, projection.coords, durable=False)
    except (OSError, EmbedlabError):
        return
