"""The Encoder protocol every model in embedlab follows."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError


class Encoder(ABC):
    """Turns items (texts, words, ...) into a float32 array of shape (n, dim).

    Subclasses set `name`, `modality` and implement `dim`, `recipe` and `_encode`.
    After each `encode` call `last_stats` says what happened to the inputs
    (long texts split into windows, out-of-vocabulary words, empty texts ...).
    """

    name: str = "encoder"
    modality: str = "text"

    def __init__(self) -> None:
        self.last_stats: dict[str, Any] = {}

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of each vector."""

    @property
    @abstractmethod
    def recipe(self) -> dict[str, Any]:
        """Everything needed to make the same vectors again: model, version, pooling, truncation ..."""

    def load_spec(self) -> tuple[str, dict[str, Any]]:
        """The name and options that `embedlab.load` needs to build this encoder again."""
        return self.name, {}

    @abstractmethod
    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        """Encode validated texts into a raw (unnormalised) float32 array."""

    def encode(
        self,
        items: str | Sequence[str],
        batch_size: int = 32,
        normalize: bool = True,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed `items`; returns float32 of shape (n, dim), unit length rows when `normalize`."""
        texts = validate_texts(items)
        if batch_size < 1:
            raise EmbedlabError(f"batch_size must be at least 1, got {batch_size}.")
        self.last_stats = {"items": len(texts)}
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._encode(texts, batch_size, show_progress), dtype=np.float32)
        return l2_normalize(vectors) if normalize else vectors

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, modality={self.modality!r})"


def validate_texts(items: str | Sequence[str]) -> list[str]:
    """Accept one string or a sequence of strings; refuse anything else with a clear message."""
    if isinstance(items, str):
        return [items]
    if isinstance(items, np.ndarray):
        items = items.tolist()
    if not isinstance(items, Sequence):
        raise EmbedlabError(
            f"expected a string or a list of strings, got {type(items).__name__}.",
            "pass e.g. encoder.encode(['first text', 'second text']).",
        )
    texts = list(items)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise EmbedlabError(
                f"item {i} is a {type(text).__name__}, not a string.", "convert every item to str first."
            )
    return texts


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length; all-zero rows stay zero (no NaN)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def file_sha256(path: Path, limit: int | None = None) -> str:
    """Hex SHA-256 of a file (first `limit` bytes when given), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    remaining = limit
    with open(path, "rb") as handle:
        while remaining is None or remaining > 0:
            block = handle.read(1 << 20 if remaining is None else min(1 << 20, remaining))
            if not block:
                break
            digest.update(block)
            if remaining is not None:
                remaining -= len(block)
    return digest.hexdigest()
