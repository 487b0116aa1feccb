"""Pretrained word vectors from word2vec (text or binary) and GloVe files, read by gensim without pickle.

A text becomes the mean of the vectors of its known words, or their SIF-weighted mean
(Arora et al., 2017: weight a / (a + p(w))). Unknown words are counted in `last_stats`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError, EmptyInputError, NotFoundError
from embedlab.io.files import file_sha256

TOKEN = re.compile(r"[\w']+", re.UNICODE)
WEIGHTINGS = ("mean", "sif")
MAX_VECTORS_FILE = 20 * 1024**3


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Word tokens as most word-vector files spell them."""
    return TOKEN.findall(text.lower() if lowercase else text)


def detect_format(path: Path) -> str:
    """'word2vec-binary', 'word2vec' (text with an 'N DIM' header) or 'glove' (text without header)."""
    with open(path, "rb") as handle:
        head = handle.readline(4096)
        body = handle.read(4096)
    try:
        first = head.decode("utf-8").split()
    except UnicodeDecodeError:
        first = []
    if len(first) == 2 and all(part.isdigit() for part in first):
        try:
            body.decode("utf-8")
            return "word2vec"
        except UnicodeDecodeError as exc:
            # a cut multi-byte character at the end of the sample is fine; raw floats are not
            return "word2vec" if exc.start > len(body) - 4 else "word2vec-binary"
    if len(first) >= 3:
        return "glove"
    raise EmbedlabError(
        f"{path} does not look like a word2vec or GloVe vectors file.",
        "expected lines of 'word v1 v2 ...' (GloVe) or an 'N DIM' header first (word2vec).",
    )


def load_keyed_vectors(path: str | Path, lowercase: bool = True) -> Any:
    """Read a vectors file into gensim KeyedVectors, with clear errors for broken files."""
    from gensim.models import KeyedVectors

    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"vectors file {path} does not exist.", "pass the path of a .txt/.vec/.bin file.")
    if path.stat().st_size > MAX_VECTORS_FILE:
        raise EmbedlabError(f"{path} is larger than the 20 GiB limit for vectors files.")
    fmt = detect_format(path)
    try:
        return KeyedVectors.load_word2vec_format(
            str(path), binary=fmt == "word2vec-binary", no_header=fmt == "glove", unicode_errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise EmbedlabError(f"{path} is not UTF-8: {exc}", "re-save the file as UTF-8.") from exc
    except (ValueError, EOFError, IndexError) as exc:
        raise EmbedlabError(
            f"{path} is not a consistent {fmt} vectors file ({exc}).",
            "every line must hold a word and the same number of values; check for cut or mixed-up lines.",
        ) from exc


class StaticVectorsEncoder(Encoder):
    """Mean (or SIF-weighted mean) of pretrained word vectors."""

    kind = "vectors"
    modality = "text"
    config_keys = ("weighting", "lowercase", "sif_a")
    word_vectors = True

    def __init__(self, path: str | Path, weighting: str = "mean", lowercase: bool = True, sif_a: float = 1e-3) -> None:
        super().__init__()
        if weighting not in WEIGHTINGS:
            raise EmbedlabError(
                f"unknown weighting {weighting!r}.", f"choose one of {', '.join(WEIGHTINGS)}.", param="weighting"
            )
        self.path = Path(path).expanduser()
        self.vectors = load_keyed_vectors(self.path, lowercase)
        self.weighting = weighting
        self.lowercase = lowercase
        self.sif_a = sif_a
        self.name = f"vectors:{self.path.name}"
        self._hash = "sha256:" + file_sha256(self.path, limit=64 << 20)[:16]
        self._word_prob = self._zipf_probabilities()

    def _zipf_probabilities(self) -> np.ndarray:
        """Word probabilities estimated from frequency rank (files are sorted by frequency)."""
        ranks = np.arange(1, len(self.vectors) + 1, dtype=np.float64)
        weights = 1.0 / ranks
        return weights / weights.sum()

    def fit(self, texts: Iterable[str]) -> StaticVectorsEncoder:
        """Estimate SIF word probabilities from a corpus instead of the file's frequency ranks. Returns self."""
        counts = Counter(w for t in texts for w in tokenize(t, self.lowercase))
        total = sum(counts.values())
        if total == 0:
            raise EmptyInputError("the corpus for fit() has no words.", "pass a non-empty list of texts.")
        self._word_prob = np.array([counts.get(w, 0) / total for w in self.vectors.index_to_key], dtype=np.float64)
        return self

    @property
    def dim(self) -> int:
        return int(self.vectors.vector_size)

    @property
    def spec_name(self) -> str:
        return f"vectors:{self.path.resolve()}"

    def identity(self) -> dict[str, Any]:
        return {
            "model": str(self.path.resolve()),
            "version": self._hash,
            "pooling": "sif-weighted mean of word vectors" if self.weighting == "sif" else "mean of word vectors",
            "max_tokens": None,
            "long_text": "all words used",
        }

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        key_to_index = self.vectors.key_to_index
        tokens_total = oov_total = all_oov = 0
        oov_words: Counter[str] = Counter()
        for row, text in enumerate(texts):
            words = tokenize(text, self.lowercase)
            known = [key_to_index[w] for w in words if w in key_to_index]
            tokens_total += len(words)
            oov_total += len(words) - len(known)
            oov_words.update(w for w in words if w not in key_to_index)
            if not known:
                all_oov += 1
                continue
            if self.weighting == "sif":
                weights = self.sif_a / (self.sif_a + self._word_prob[known])
                out[row] = weights @ self.vectors.vectors[known] / len(known)
            else:
                out[row] = self.vectors.vectors[known].mean(axis=0)
        self.last_stats.update(
            tokens=tokens_total,
            oov_tokens=oov_total,
            oov_rate=oov_total / tokens_total if tokens_total else 0.0,
            texts_without_known_words=all_oov,
            top_oov=[w for w, _ in oov_words.most_common(10)],
        )
        return out
