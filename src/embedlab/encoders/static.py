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

from embedlab.encoders.base import LONG_CHARS, Encoder, text_pieces
from embedlab.errors import EmbedlabError, EmptyInputError, NotFoundError
from embedlab.io.files import file_sha256

TOKEN = re.compile(r"[\w']+", re.UNICODE)
WEIGHTINGS = ("mean", "sif")
MAX_OOV_KEPT = 10_000
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
    check_vectors_file(path, fmt)
    try:
        vectors = KeyedVectors.load_word2vec_format(
            str(path), binary=fmt == "word2vec-binary", no_header=fmt == "glove", unicode_errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise EmbedlabError(f"{path} is not UTF-8: {exc}", "re-save the file as UTF-8.") from exc
    except (ValueError, EOFError, IndexError) as exc:
        raise EmbedlabError(
            f"{path} is not a consistent {fmt} vectors file ({exc}).",
            "every line must hold a word and the same number of values; check for cut or mixed-up lines.",
        ) from exc
    bad = np.flatnonzero(~np.isfinite(vectors.vectors).all(axis=1))
    if len(bad):
        raise EmbedlabError(
            f"{path} has NaN or infinite values in the vector of {vectors.index_to_key[bad[0]]!r} "
            f"(row {bad[0] + 1} of the vectors; {len(bad)} such rows).",
            "re-export the vectors; embedlab does not embed texts with vectors that are not numbers.",
        )
    return vectors


def check_vectors_file(path: Path, fmt: str) -> None:
    """Refuse, before gensim allocates anything, a vectors file whose 'N DIM' header promises more than
    the file can hold, and (text formats) any row whose number of values differs from the others or that
    holds NaN/inf. gensim trusts the header (a 20-byte file claiming 2,000,000,000 dims allocated 24 GB) and
    silently broadcasts a GloVe row of one value to every dim, so these checks are ours."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.readline() if fmt != "glove" else b""
        first = 2 if header else 1
        if header:
            count, dim = (int(x) for x in header.split())
            # the smallest possible row: a 1-byte word, a separator, and each value as 1 digit + separator
            # (text), or 4 bytes (binary)
            least = count * (2 + (4 * dim if fmt == "word2vec-binary" else 2 * dim))
            if count < 1 or dim < 1 or least > size - len(header):
                raise EmbedlabError(
                    f"{path} has the header '{header.decode().strip()}' ({count:,} vectors of {dim:,} values), "
                    f"but the file is only {size:,} bytes: it cannot hold them.",
                    "fix the first line to the real 'COUNT DIM' of the file, or re-export the vectors.",
                )
        if fmt == "word2vec-binary":
            return
        width = dim if header else None
        for number, line in enumerate(handle, start=first):
            parts = line.rstrip().split(b" ")
            if len(parts) == 1 and not parts[0]:
                continue
            if width is None:
                width = len(parts) - 1
            if len(parts) - 1 != width:
                raise EmbedlabError(
                    f"{path} line {number} has {len(parts) - 1} values after the word, not {width} like the "
                    + ("header says." if header else "first line."),
                    "every line must hold a word and the same number of values; check for cut or mixed-up lines.",
                )
            if b"n" in line.lower().split(b" ", 1)[-1]:  # 'nan', 'inf', 'infinity' (numbers have no n)
                raise EmbedlabError(
                    f"{path} line {number} has a value that is not a finite number (NaN or inf).",
                    "re-export the vectors; embedlab does not embed texts with vectors that are not numbers.",
                )


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
            # a long text is summed piece by piece, so its words and their vectors are never all in memory
            total = np.zeros(self.dim, dtype=np.float64)
            known_count = 0
            for piece in text_pieces(text) if len(text) > LONG_CHARS else [text]:
                words = tokenize(piece, self.lowercase)
                known = [key_to_index[w] for w in words if w in key_to_index]
                tokens_total += len(words)
                oov_total += len(words) - len(known)
                if len(oov_words) < MAX_OOV_KEPT:  # bounded: top_oov counts the first 10,000 distinct OOV words
                    oov_words.update(w for w in words if w not in key_to_index)
                if not known:
                    continue
                rows = self.vectors.vectors[known]
                if self.weighting == "sif":
                    total += (self.sif_a / (self.sif_a + self._word_prob[known])) @ rows
                else:
                    total += rows.sum(axis=0, dtype=np.float64)
                known_count += len(known)
            if not known_count:
                all_oov += 1
                continue
            out[row] = total / known_count
        self.last_stats.update(
            tokens=tokens_total,
            oov_tokens=oov_total,
            oov_rate=oov_total / tokens_total if tokens_total else 0.0,
            texts_without_known_words=all_oov,
            top_oov=[w for w, _ in oov_words.most_common(10)],
        )
        return out
