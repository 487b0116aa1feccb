"""Bag-of-words and TF-IDF encoders: scikit-learn vectorizers with the Encoder protocol.

They must be fitted on a corpus first. `transform` gives scikit-learn's sparse matrix,
`encode` the dense float32 array every other encoder returns. `save`/`load` write plain
JSON + npy (vocabulary, idf, settings), never pickle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn import __version__ as sklearn_version
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from embedlab.encoders.base import Encoder
from embedlab.errors import DamagedError, EmbedlabError
from embedlab.io.files import save_npy, write_json

SETTINGS = ("lowercase", "stop_words", "ngram_range", "min_df", "max_df", "max_features", "sublinear_tf")


class SparseEncoder(Encoder):
    """Base for `count` and `tfidf`; `kind` picks the scikit-learn vectorizer."""

    modality = "text"
    kind = "count"
    config_keys = SETTINGS
    requires_fit = True

    def __init__(
        self,
        lowercase: bool = True,
        stop_words: str | None = "english",
        ngram_range: tuple[int, int] | list[int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = 4096,
        sublinear_tf: bool = False,
    ) -> None:
        super().__init__()
        self.lowercase = lowercase
        self.stop_words = stop_words
        self.ngram_range = list(ngram_range)
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.vectorizer = self._make_vectorizer()
        self.name = self.kind

    @property
    def settings(self) -> dict[str, Any]:
        """The vectorizer settings (the encoder's `config`)."""
        return self.config

    def _make_vectorizer(self) -> CountVectorizer:
        options = {k: v for k, v in self.settings.items() if k != "sublinear_tf"}
        options["ngram_range"] = tuple(options["ngram_range"])
        if self.kind == "tfidf":
            return TfidfVectorizer(norm=None, sublinear_tf=self.sublinear_tf, **options)
        return CountVectorizer(**options)

    def fit(self, texts: Iterable[str]) -> SparseEncoder:
        """Learn the vocabulary (and idf) from a corpus; streams an iterable of texts. Returns self."""
        try:
            self.vectorizer.fit(texts)
        except ValueError as exc:
            raise EmbedlabError(
                f"cannot fit {self.kind} on this corpus: {exc}",
                "give it texts with real words (and lower min_df if the corpus is small).",
            ) from exc
        self._fitted = True
        return self

    @property
    def dim(self) -> int:
        self.check_fitted()
        return len(self.vectorizer.vocabulary_)

    @property
    def vocabulary(self) -> list[str]:
        self.check_fitted()
        return self.vectorizer.get_feature_names_out().tolist()

    def identity(self) -> dict[str, Any]:
        vocab = "\n".join(self.vocabulary).encode("utf-8")
        state = hashlib.sha256(vocab)
        if self.kind == "tfidf":
            state.update(self.vectorizer.idf_.astype(np.float64).tobytes())
        return {
            "model": f"scikit-learn {type(self.vectorizer).__name__}",
            "version": f"scikit-learn {sklearn_version}; fitted state sha256:{state.hexdigest()[:16]}",
            "pooling": None,
            "max_tokens": None,
            "long_text": "all tokens used",
        }

    def transform(self, texts: str | list[str]) -> sp.csr_matrix:
        """Sparse (n, vocabulary) matrix, as scikit-learn gives it."""
        self.check_fitted()
        return self.vectorizer.transform([texts] if isinstance(texts, str) else texts).astype(np.float32)

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        matrix = self.transform(texts)
        self.last_stats.update(texts_without_known_words=int((matrix.getnnz(axis=1) == 0).sum()))
        return matrix.toarray()

    def save(self, folder: str | Path) -> None:
        """Write settings.json, vocabulary.json and (tfidf) idf.npy into `folder` (each file atomically)."""
        self.check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / "settings.json", {"kind": self.kind, **self.settings})
        write_json(folder / "vocabulary.json", self.vocabulary)
        if self.kind == "tfidf":
            save_npy(folder / "idf.npy", self.vectorizer.idf_.astype(np.float64))

    @classmethod
    def load(cls, folder: str | Path) -> SparseEncoder:
        """Rebuild a fitted encoder written by `save`."""
        folder = Path(folder)
        try:
            settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
            vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
            kind = settings.pop("kind")
            encoder = {"count": CountEncoder, "tfidf": TfidfEncoder}[kind](**settings)
            encoder.vectorizer.vocabulary_ = {word: i for i, word in enumerate(vocabulary)}
            if kind == "tfidf":
                idf = np.load(folder / "idf.npy", allow_pickle=False)
                if idf.shape != (len(vocabulary),):
                    raise ValueError("idf.npy does not match the vocabulary")
                encoder.vectorizer.idf_ = idf
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DamagedError(
                f"the saved vectorizer in {folder} is missing or damaged ({exc}).",
                "re-create the collection, or reembed it with another model.",
            ) from exc
        encoder._fitted = True
        return encoder


class CountEncoder(SparseEncoder):
    """Bag-of-words term counts (scikit-learn CountVectorizer)."""

    kind = "count"


class TfidfEncoder(SparseEncoder):
    """TF-IDF weights (scikit-learn TfidfVectorizer; rows L2-normalised by `encode`)."""

    kind = "tfidf"
