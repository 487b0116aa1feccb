"""How far each item's neighbourhood moved between two embeddings of the same items.

For every item, take its k nearest neighbours (cosine, in the full embedding space, the item
itself left out) under model A and under model B; the item's score is the Jaccard overlap of
the two sets: 1.0 when its neighbours are the same, 0.0 when none are shared.
"""

from __future__ import annotations

import numpy as np

from embedlab.encoders.base import l2_normalize
from embedlab.errors import EmbedlabError

BLOCK = 2048


def nearest_neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    """Indices (n, k) of each row's k most cosine-similar other rows, best first (exact, in blocks)."""
    n = len(vectors)
    if not 1 <= k < n:
        raise EmbedlabError(f"k must be between 1 and {n - 1} for {n} items, got {k}.")
    unit = l2_normalize(np.asarray(vectors, dtype=np.float32))
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, BLOCK):
        scores = unit[start : start + BLOCK] @ unit.T
        rows = np.arange(scores.shape[0])
        scores[rows, rows + start] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        out[start : start + BLOCK] = np.take_along_axis(top, order, axis=1)
    return out


def neighbourhood_jaccard(a: np.ndarray, b: np.ndarray, k: int = 10) -> np.ndarray:
    """Per item: Jaccard overlap of its k-nearest-neighbour sets under embeddings `a` and `b` (same rows)."""
    if len(a) != len(b):
        raise EmbedlabError(f"the two embeddings have {len(a)} and {len(b)} rows.", "give the same items to both.")
    first, second = nearest_neighbours(a, k), nearest_neighbours(b, k)
    shared = np.array([len(set(x) & set(y)) for x, y in zip(first.tolist(), second.tolist(), strict=True)])
    return (shared / (2 * k - shared)).astype(np.float64)
