"""Search over a collection's vectors and text: semantic, keyword (BM25) and hybrid (RRF)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError

MODES = ("semantic", "keyword", "hybrid")
RRF_K = 60


@dataclass
class SearchResult:
    """One hit: the item's id, its score under the search mode, its text and metadata."""

    id: str
    score: float
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise EmbedlabError(f"k must be a positive whole number, got {k!r}.", "pass e.g. -k 5.")
    return k


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise EmbedlabError(f"unknown search mode {mode!r}.", f"choose one of {', '.join(MODES)}.")
    return mode


def top_k(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k over unit-length rows: (row indices, scores), best first."""
    return top_k_scores(vectors @ query, k)


def top_k_scores(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of one row of scores: (positions, scores), best first."""
    k = min(k, len(scores))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.argsort(-scores[part], kind="stable")]
    return order, scores[order]


def reciprocal_rank_fusion(rankings: list[list[str]], weights: list[float], k: int = RRF_K) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum of weight / (k + rank). Written here because it is
    ten lines and we need per-list weights, which the reranker classes we looked at don't expose."""
    if len(rankings) != len(weights):
        raise EmbedlabError("one weight is needed per ranking.")
    if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
        raise EmbedlabError(f"hybrid weights must be >= 0 and not all 0, got {weights}.", "pass e.g. 1.0,1.0.")
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
