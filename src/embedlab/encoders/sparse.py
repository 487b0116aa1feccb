"""Bag-of-words and TF-IDF encoders: scikit-learn vectorizers with the Encoder protocol.

Every setting defaults to scikit-learn's own: all terms (`max_features=None`), no stop words
(`stop_words=None`), unigrams, and for tfidf `norm="l2"`, smooth idf. Set them as model options
(`embedlab.load("tfidf", stop_words="english", max_features=4096)`, or `--stop-words`/`--max-features` on
the command line); they are recorded in the recipe. One limit is embedlab's: the vectors are stored
dense, so a fitted vocabulary over `MAX_TERMS` terms is refused (pass `max_features=`).

They must be fitted on a corpus first. `transform` gives scikit-learn's sparse matrix,
`encode` the dense float32 array every other encoder returns. `save`/`load` write plain
JSON + npy (vocabulary, idf, settings), never pickle.

`fit` and `transform` are scikit-learn's. `encode` of a fitted encoder is not: it applies the fitted
vocabulary and idf with the few lines of `_weigh` below, the same analyzer (scikit-learn's default word
regex, lowercase, stop words, n-grams) and the same weighting, so that a search on a TF-IDF collection
does not import scikit-learn and SciPy (half a second of every `embedlab search`, see
benchmarks/cli_startup.py). tests/encoders/test_sparse_fast_path.py holds it to scikit-learn's output.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedlab.encoders.base import LONG_CHARS, Encoder, text_pieces
from embedlab.errors import DamagedError, EmbedlabError
from embedlab.io.files import save_npy, write_json

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

SETTINGS = ("lowercase", "stop_words", "ngram_range", "min_df", "max_df", "max_features", "sublinear_tf")
MAX_TERMS = 100_000  # dense float32 vectors of 100,000 terms take 400 kB each
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


class SparseEncoder(Encoder):
    """Base for `count` and `tfidf`; `kind` picks the scikit-learn vectorizer."""

    modality = "text"
    kind = "count"
    config_keys = SETTINGS
    requires_fit = True

    def __init__(
        self,
        lowercase: bool = True,
        stop_words: str | None = None,
        ngram_range: tuple[int, int] | list[int] = (1, 1),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = False,
        norm: str | None = "l2",
    ) -> None:
        super().__init__()
        if stop_words not in (None, "english"):
            raise EmbedlabError(
                f"stop_words={stop_words!r} is not supported.",
                "pass stop_words='english' (scikit-learn's list) or leave it out (no stop words).",
                param="stop_words",
            )
        if max_features is not None and (not isinstance(max_features, int) or max_features < 1):
            raise EmbedlabError(
                f"max_features must be a positive whole number, got {max_features!r}.", param="max_features"
            )
        if norm not in ("l1", "l2", None):
            raise EmbedlabError(f"norm must be 'l2', 'l1' or None, got {norm!r}.", param="norm")
        self.norm = norm
        self.lowercase = lowercase
        self.stop_words = stop_words
        self.ngram_range = list(ngram_range)
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self._vectorizer: CountVectorizer | None = None
        self._terms: list[str] | None = None  # the fitted vocabulary, in column order
        self._index: dict[str, int] | None = None
        self._idf: np.ndarray | None = None
        self._stop: frozenset[str] | None = None
        self.name = self.kind

    @property
    def vectorizer(self) -> CountVectorizer:
        """The scikit-learn vectorizer (built on first use; a loaded encoder gets its fitted state)."""
        if self._vectorizer is None:
            self._vectorizer = self._make_vectorizer()
            if self._terms is not None:
                self._vectorizer.vocabulary_ = dict(self._index or {})
                if self.kind == "tfidf":
                    self._vectorizer.idf_ = self._idf
        return self._vectorizer

    @property
    def settings(self) -> dict[str, Any]:
        """The vectorizer settings (the encoder's `config`)."""
        return self.config

    def _make_vectorizer(self) -> CountVectorizer:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        options = {k: v for k, v in self.settings.items() if k not in ("sublinear_tf", "norm")}
        options["ngram_range"] = tuple(options["ngram_range"])
        if self.kind == "tfidf":
            return TfidfVectorizer(norm=self.norm, sublinear_tf=self.sublinear_tf, **options)
        return CountVectorizer(**options)

    def fit(self, texts: Iterable[str]) -> SparseEncoder:
        """Learn the vocabulary (and idf) from a corpus; streams an iterable of texts. Returns self."""
        self._vectorizer, self._terms = self._make_vectorizer(), None
        try:
            self.vectorizer.fit(texts)
        except ValueError as exc:
            raise EmbedlabError(
                f"cannot fit {self.kind} on this corpus: {exc}",
                "give it texts with real words (and lower min_df if the corpus is small).",
            ) from exc
        terms = len(self.vectorizer.vocabulary_)
        if terms > MAX_TERMS:
            self._vectorizer = None
            raise EmbedlabError(
                f"the corpus has {terms:,} distinct terms; {self.kind} vectors are stored dense, and embedlab "
                f"refuses more than {MAX_TERMS:,} dimensions.",
                f"keep the most frequent terms with max_features= (e.g. max_features={MAX_TERMS // 4})"
                " or drop rare ones with min_df=.",
                param="max_features",
            )
        self._set_state(
            self.vectorizer.get_feature_names_out().tolist(),
            self.vectorizer.idf_ if self.kind == "tfidf" else None,
        )
        self._fitted = True
        return self

    def _set_state(self, terms: list[str], idf: np.ndarray | None) -> None:
        self._terms = terms
        self._index = {term: i for i, term in enumerate(terms)}
        self._idf = idf

    @property
    def dim(self) -> int:
        self.check_fitted()
        return len(self._terms or ())

    @property
    def vocabulary(self) -> list[str]:
        self.check_fitted()
        return list(self._terms or ())

    def identity(self) -> dict[str, Any]:
        vocab = "\n".join(self.vocabulary).encode("utf-8")
        state = hashlib.sha256(vocab)
        if self.kind == "tfidf":
            state.update(np.asarray(self._idf).astype(np.float64).tobytes())
        return {
            "model": f"scikit-learn {'TfidfVectorizer' if self.kind == 'tfidf' else 'CountVectorizer'}",
            "version": f"scikit-learn {version('scikit-learn')}; fitted state sha256:{state.hexdigest()[:16]}",
            "pooling": None,
            "max_tokens": None,
            "long_text": "all tokens used",
        }

    def transform(self, texts: str | list[str]) -> sp.csr_matrix:
        """Sparse (n, vocabulary) matrix, as scikit-learn gives it.

        A text over `LONG_CHARS` characters is counted piece by piece (`text_pieces`) and its counts summed
        before the idf and norm are applied, so its list of tokens is never in memory whole (n-grams that
        would span two pieces are not counted; single words are counted exactly)."""
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        self.check_fitted()
        texts = [texts] if isinstance(texts, str) else list(texts)
        if all(len(text) <= LONG_CHARS for text in texts):
            return self.vectorizer.transform(texts).astype(np.float32)
        rows = [
            CountVectorizer.transform(self.vectorizer, [text]) if len(text) <= LONG_CHARS else self._long_counts(text)
            for text in texts
        ]
        counts = sp.vstack(rows, format="csr")
        if self.kind == "tfidf":
            weigher = TfidfTransformer(norm=self.norm, sublinear_tf=self.sublinear_tf)
            weigher.idf_ = self.vectorizer.idf_
            counts = weigher.transform(counts.astype(np.float64))
        return counts.astype(np.float32)

    def _long_counts(self, text: str) -> sp.csr_matrix:
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import CountVectorizer

        total = sp.csr_matrix((1, len(self.vectorizer.vocabulary_)), dtype=np.int64)
        pieces: list[str] = []
        for piece in text_pieces(text):
            pieces.append(piece)
            if len(pieces) == 64:
                total = total + CountVectorizer.transform(self.vectorizer, pieces).sum(axis=0)
                pieces = []
        if pieces:
            total = total + CountVectorizer.transform(self.vectorizer, pieces).sum(axis=0)
        return sp.csr_matrix(total)

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        self.check_fitted()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            counts: Counter[int] = Counter()
            for piece in text_pieces(text) if len(text) > LONG_CHARS else (text,):
                counts.update(self._term_ids(piece))
            if counts:
                columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                out[row, columns] = self._weigh(columns, np.fromiter(counts.values(), np.float64, len(counts)))
        self.last_stats.update(texts_without_known_words=int((~out.any(axis=1)).sum()))
        return out

    def _term_ids(self, text: str) -> Iterable[int]:
        """Column ids of the known terms of `text`, as scikit-learn's default word analyzer finds them."""
        index = self._index or {}
        tokens = TOKEN.findall(text.lower() if self.lowercase else text)
        low, high = self.ngram_range
        if self.stop_words is not None and high > 1:  # unigram stop words are not in the vocabulary anyway
            if self._stop is None:
                from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

                self._stop = frozenset(ENGLISH_STOP_WORDS)
            tokens = [token for token in tokens if token not in self._stop]
        terms: Iterable[str] = tokens if low == 1 else ()
        if high > 1:
            grams = [
                " ".join(tokens[i : i + n])
                for n in range(max(low, 2), min(high, len(tokens)) + 1)
                for i in range(len(tokens) - n + 1)
            ]
            terms = [*terms, *grams]
        return (index[term] for term in terms if term in index)

    def _weigh(self, columns: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """One row's weights from its raw term counts: scikit-learn's TfidfTransformer (or the counts)."""
        if self.kind != "tfidf":
            return counts
        weights = (1 + np.log(counts) if self.sublinear_tf else counts) * np.asarray(self._idf)[columns]
        if self.norm == "l2":
            weights = weights / np.sqrt(np.dot(weights, weights))
        elif self.norm == "l1":
            weights = weights / np.abs(weights).sum()
        return weights

    def save(self, folder: str | Path) -> None:
        """Write settings.json, vocabulary.json and (tfidf) idf.npy into `folder` (each file atomically)."""
        self.check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / "settings.json", {"kind": self.kind, **self.settings})
        write_json(folder / "vocabulary.json", self.vocabulary)
        if self.kind == "tfidf":
            save_npy(folder / "idf.npy", np.asarray(self._idf).astype(np.float64))

    @classmethod
    def load(cls, folder: str | Path) -> SparseEncoder:
        """Rebuild a fitted encoder written by `save`."""
        folder = Path(folder)
        try:
            settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
            vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
            kind = settings.pop("kind")
            encoder = {"count": CountEncoder, "tfidf": TfidfEncoder}[kind](**settings)
            if not isinstance(vocabulary, list) or not all(isinstance(term, str) for term in vocabulary):
                raise ValueError("vocabulary.json is not a list of terms")
            idf = None
            if kind == "tfidf":
                idf = np.load(folder / "idf.npy", allow_pickle=False)
                if idf.shape != (len(vocabulary),):
                    raise ValueError("idf.npy does not match the vocabulary")
            encoder._set_state(vocabulary, idf)
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
    """TF-IDF weights (scikit-learn TfidfVectorizer with its defaults: smooth idf, rows L2-normalised)."""

    kind = "tfidf"
    config_keys = (*SETTINGS, "norm")
