"""Clusters of the vectors (k-means or HDBSCAN, scikit-learn), each named by its top TF-IDF terms.

Clustering runs on the unit-length vectors (not on the 2-D map), so clusters reflect the
embedding space. Names are class-based TF-IDF: the texts of one cluster are joined into one
document, and a cluster is named by the terms that are frequent in it and rare in the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedlab.encoders.base import l2_normalize
from embedlab.errors import EmbedlabError

CLUSTER_METHODS = ("kmeans", "hdbscan", "none")
NOISE = -1
MINIBATCH_ABOVE = 20_000
HDBSCAN_PCA_DIMS = 50


@dataclass
class Clusters:
    """A cluster id per point (-1: noise, HDBSCAN only) and a name per cluster id."""

    labels: np.ndarray
    names: dict[int, str]
    method: str

    def sizes(self) -> dict[int, int]:
        ids, counts = np.unique(self.labels, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts, strict=True)}

    def point_names(self) -> list[str]:
        """The name of each point's cluster."""
        return [self.names[int(c)] for c in self.labels]

    def as_list(self) -> list[dict[str, object]]:
        sizes = self.sizes()
        return [{"cluster": c, "label": self.names[c], "size": sizes[c]} for c in sorted(sizes)]


def auto_clusters(n: int) -> int:
    """A k-means k that suits n points: about sqrt(n / 2), between 2 and 20."""
    return int(np.clip(round(np.sqrt(n / 2)), 2, 20))


def find_clusters(
    vectors: np.ndarray,
    texts: Sequence[str | None] | None = None,
    method: str = "kmeans",
    n_clusters: int | None = None,
    min_cluster_size: int | None = None,
    seed: int = 0,
    top_terms: int = 3,
) -> Clusters:
    """Cluster `vectors` and name each cluster by its top TF-IDF terms (or 'cluster N' without texts)."""
    if method not in CLUSTER_METHODS or method == "none":
        raise EmbedlabError(f"unknown cluster method {method!r}.", "choose kmeans or hdbscan.")
    n = len(vectors)
    unit = l2_normalize(np.asarray(vectors, dtype=np.float32))
    if method == "kmeans":
        k = auto_clusters(n) if n_clusters is None else n_clusters
        if not 2 <= k <= n:
            raise EmbedlabError(
                f"n_clusters must be between 2 and the number of points ({n}), got {k}.", param="n_clusters"
            )
        from sklearn.cluster import KMeans, MiniBatchKMeans

        model = (
            MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
            if n > MINIBATCH_ABOVE
            else KMeans(n_clusters=k, random_state=seed, n_init=4)
        )
        labels = model.fit_predict(unit)
    else:
        from sklearn.cluster import HDBSCAN

        size = min_cluster_size or max(5, n // 100)
        if n < 2 * size:
            raise EmbedlabError(f"hdbscan needs at least {2 * size} points here; there are {n}.", "use kmeans.")
        points = unit
        if unit.shape[1] > HDBSCAN_PCA_DIMS and n > HDBSCAN_PCA_DIMS:
            from sklearn.decomposition import PCA

            points = PCA(n_components=HDBSCAN_PCA_DIMS, random_state=seed).fit_transform(unit)
        labels = HDBSCAN(min_cluster_size=size, copy=True).fit_predict(points)
    labels = np.asarray(labels, dtype=np.int64)
    return Clusters(labels, name_clusters(labels, texts, top_terms), method)


def name_clusters(labels: np.ndarray, texts: Sequence[str | None] | None, top_terms: int = 3) -> dict[int, str]:
    """Class-based TF-IDF names: the `top_terms` most distinctive terms of each cluster's texts."""
    ids = [int(c) for c in np.unique(labels)]
    names = {c: ("noise" if c == NOISE else f"cluster {c}") for c in ids}
    real = [c for c in ids if c != NOISE]
    if texts is None or not real:
        return names
    from sklearn.feature_extraction.text import TfidfVectorizer

    documents = [" ".join(texts[i] or "" for i in np.flatnonzero(labels == c)) for c in real]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, token_pattern=r"(?u)\b[^\W\d_]{2,}\b")
    try:
        weights = vectorizer.fit_transform(documents).toarray()
    except ValueError:  # no terms at all (e.g. only stop words)
        return names
    terms = vectorizer.get_feature_names_out()
    for row, cluster in enumerate(real):
        best = [i for i in np.argsort(-weights[row], kind="stable")[:top_terms] if weights[row, i] > 0]
        if best:
            names[cluster] = " · ".join(terms[i] for i in best)
    seen: dict[str, int] = {}
    for cluster in real:  # two clusters with the same terms still get two names
        seen[names[cluster]] = seen.get(names[cluster], 0) + 1
        if seen[names[cluster]] > 1:
            names[cluster] = f"{names[cluster]} ({cluster})"
    return names
