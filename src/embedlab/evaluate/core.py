"""Shared pieces of the evaluation tasks: results, datasets, the task protocol and the embedding cache."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders.base import Encoder, validate_texts
from embedlab.errors import EmbedlabError, UnsupportedInputError
from embedlab.io import files
from embedlab.io.files import file_sha256

WORD = "word"
TEXT = "text"


@dataclass(frozen=True)
class DatasetInfo:
    """Which data a figure was measured on: name, where it comes from, and a hash of its exact bytes."""

    name: str
    source: str
    citation: str
    sha256: str
    items: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Result:
    """One model on one dataset: the scores (higher is better), the counts behind them and the recipe."""

    task: str
    model: str
    dataset: DatasetInfo
    metrics: dict[str, float]
    counts: dict[str, int]
    recipe: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "model": self.model,
            "dataset": self.dataset.as_dict(),
            "metrics": self.metrics,
            "counts": self.counts,
            "recipe": self.recipe,
            "details": self.details,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Task:
    """An evaluation task: `load(data, **options)` reads and checks the dataset once, then
    `score(encoder, model, dataset, **options)` measures one model on it."""

    name: str
    kind: str
    description: str
    options: tuple[str, ...]
    load: Callable[..., Any]
    score: Callable[..., list[Result]]


def sha256_files(paths: Sequence[Path]) -> str:
    """One hash over several files (name and content), for dataset versions."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode("utf-8") + b"\0" + file_sha256(path).encode("ascii"))
    return "sha256:" + digest.hexdigest()[:16]


def sha256_texts(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def cache_folder() -> Path:
    """Where embeddings are cached: $EMBEDLAB_CACHE/evaluate, else $XDG_CACHE_HOME/embedlab/evaluate,
    else ~/.cache/embedlab/evaluate."""
    from embedlab.io.files import cache_home

    return cache_home() / "evaluate"


class CachedEncoder(Encoder):
    """Wraps an encoder so each `encode` call is stored as .npy under a key of (recipe, texts).

    `remember(texts)` encodes a batch once and serves later single-text calls (search queries) from memory.
    """

    def __init__(self, inner: Encoder, folder: Path | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.name = inner.name
        self.modality = inner.modality  # type: ignore[misc]
        self.folder = folder or cache_folder()
        self.hits = 0
        self.misses = 0
        self._recipe = json.dumps(inner.recipe, sort_keys=True, default=str)
        self._memory: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.inner.kind

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    @property
    def recipe(self) -> dict[str, Any]:
        return self.inner.recipe

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        return self.inner.encode(texts, batch_size=batch_size, normalize=False, show_progress=show_progress)

    def encode(
        self, items: str | Sequence[str], batch_size: int = 32, normalize: bool = True, show_progress: bool = False
    ) -> np.ndarray:
        texts = validate_texts(items)
        if normalize and texts and all(t in self._memory for t in texts):
            self.hits += 1
            return np.stack([self._memory[t] for t in texts])
        key = hashlib.sha256(f"{self._recipe}\n{normalize}\n{sha256_texts(texts)}".encode()).hexdigest()[:32]
        path = self.folder / f"{key}.npy"
        if path.is_file():
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape == (len(texts), self.dim):
                self.hits += 1
                return vectors
        self.misses += 1
        vectors = self.inner.encode(texts, batch_size=batch_size, normalize=normalize, show_progress=show_progress)
        self.last_stats = dict(self.inner.last_stats)
        save_npy(path, vectors)
        return vectors

    def remember(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Encode `texts` (unit length) and keep them in memory for later one-text calls."""
        vectors = self.encode(list(texts), batch_size=batch_size)
        self._memory.update(zip(texts, vectors, strict=True))
        return vectors

    @property
    def cache_state(self) -> str:
        """'hit' when nothing had to be encoded, 'miss' when everything was, else 'partial'."""
        if self.misses == 0:
            return "hit"
        return "miss" if self.hits == 0 else "partial"


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write an array atomically (temp file then rename); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.save_npy(path, array, durable=False)
    except (OSError, EmbedlabError):
        return


def text_encoder(encoder: Encoder, texts: Sequence[str]) -> CachedEncoder:
    """The encoder ready for a text task: count/tfidf fitted on the task's own texts, then cached."""
    if not encoder.supports_text:
        raise UnsupportedInputError(
            f"model {encoder.name!r} embeds {encoder.modality}, not text.", "pick a text model (embedlab models)."
        )
    if not encoder.fitted:
        encoder = copy.deepcopy(encoder).fit(list(texts))
    return CachedEncoder(encoder)


def cosine_pairs(vectors: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine of row pairs (rows are unit length; zero rows give 0)."""
    return np.einsum("ij,ij->i", vectors[left], vectors[right]).astype(np.float64)
