"""Static word vectors to explore: neighbours, analogies, vector arithmetic and out-of-vocabulary words.

`load(spec)` opens any static model: `word2vec:DIR`, `fasttext:DIR`, `doc2vec:DIR` (its word vectors),
`vectors:PATH` (word2vec/GloVe file), `wordllama`, or a bare model folder or vectors file. Similarity
search is gensim's (`most_similar`, `most_similar_cosmul`), so results follow gensim's semantics.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders.spec import parse
from embedlab.encoders.static import load_keyed_vectors, tokenize
from embedlab.encoders.words import KINDS, load_word_vectors, read_manifest
from embedlab.errors import EmbedlabError, EmptyInputError, NotFoundError, close_matches
from embedlab.io.files import atomic_write

IN_VOCABULARY = "in vocabulary"
FROM_SUBWORDS = "built from subwords"
OOV = "out of vocabulary"
EXCLUDE = ("case-variants", "inputs")
METHODS = ("3cosadd", "3cosmul")
SUGGEST_FROM = 200_000  # spelling suggestions look at this many most frequent words


@dataclass(frozen=True)
class WordStatus:
    """How a model sees a word: the key it uses for it and whether it is in the vocabulary."""

    word: str
    key: str | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Neighbors:
    """Nearest words to a query (a word, or an analogy's A : B :: C : ?)."""

    model: str
    query: list[WordStatus]
    neighbors: list[tuple[str, float]]
    method: str = "cosine"
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "method": self.method,
            "query": [q.as_dict() for q in self.query],
            "neighbors": [{"word": w, "score": round(s, 6)} for w, s in self.neighbors],
            "notes": self.notes,
        }


class WordVectors:
    """A static word-vector model (gensim KeyedVectors underneath) with OOV-aware look-ups.

    `subwords` models (fastText) build vectors for unknown words from character n-grams.
    With `lowercase`, words are looked up in lower case (models trained by embedlab are lowercased).
    """

    def __init__(self, vectors: Any, name: str, subwords: bool = False, lowercase: bool = False) -> None:
        self.vectors = vectors
        self.name = name
        self.subwords = subwords
        self.lowercase = lowercase

    def __repr__(self) -> str:
        return f"WordVectors(name={self.name!r}, words={len(self)}, dim={self.dim}, subwords={self.subwords})"

    def __len__(self) -> int:
        return len(self.vectors.index_to_key)

    def __contains__(self, word: str) -> bool:
        return self.status(word).status == IN_VOCABULARY

    @property
    def dim(self) -> int:
        return int(self.vectors.vector_size)

    @property
    def vocabulary(self) -> list[str]:
        """Words in the model's order (most frequent first for trained models and most files)."""
        return list(self.vectors.index_to_key)

    # ------------------------------------------------------------ look-ups

    def status(self, word: str) -> WordStatus:
        """The key for `word`: itself, else its lower case; fastText falls back to subwords."""
        index = self.vectors.key_to_index
        candidates = [word.lower()] if self.lowercase else [word, word.lower()]
        for key in candidates:
            if key in index:
                return WordStatus(word, key, IN_VOCABULARY)
        if self.subwords and word.strip():
            return WordStatus(word, candidates[0], FROM_SUBWORDS)
        return WordStatus(word, None, OOV)

    def suggest(self, word: str, n: int = 5) -> list[str]:
        """The vocabulary words spelled most like `word`."""
        return close_matches(word.lower() if self.lowercase else word, self.vectors.index_to_key[:SUGGEST_FROM], n)

    def resolve(self, words: list[str]) -> list[WordStatus]:
        """Statuses for `words`; any word with no vector is an error naming every such word, with suggestions."""
        statuses = [self.status(w) for w in words]
        missing = [s.word for s in statuses if s.key is None]
        if missing:
            hints = []
            for word in missing:
                close = self.suggest(word)
                hints.append(f"{word!r}: " + (", ".join(close) if close else "no close spelling"))
            raise EmbedlabError(
                f"not in the vocabulary of {self.name}: {', '.join(repr(w) for w in missing)}.",
                "closest spellings in the vocabulary - " + "; ".join(hints),
            )
        return statuses

    def vec(self, word: str, norm: bool = False) -> np.ndarray:
        """The vector of one word (a copy); fastText builds one for unknown words. Use for arithmetic."""
        (status,) = self.resolve([word])
        return np.array(self.vectors.get_vector(status.key, norm=norm), dtype=np.float32)

    # ------------------------------------------------------------ similarity

    def neighbors(self, word: str, k: int = 10) -> Neighbors:
        """The k nearest words to `word` by cosine, the word itself excluded."""
        _check_k(k)
        (status,) = self.resolve([word])
        found = self.vectors.most_similar(status.key, topn=k + 1)
        near = [(w, float(s)) for w, s in found if w != status.key][:k]
        return Neighbors(self.name, [status], near, notes=self._notes([status]))

    def most_similar(
        self,
        positive: list[str | np.ndarray] | None = None,
        negative: list[str | np.ndarray] | None = None,
        topn: int = 10,
    ) -> list[tuple[str, float]]:
        """gensim's most_similar: mean of unit vectors (+positive, -negative), input words excluded."""
        _check_k(topn)
        positive, negative = list(positive or []), list(negative or [])
        if not positive and not negative:
            raise EmbedlabError("most_similar needs at least one positive or negative word.")
        found = self.vectors.most_similar(positive=self._keys(positive), negative=self._keys(negative), topn=topn)
        return [(w, float(s)) for w, s in found]

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10) -> list[tuple[str, float]]:
        """The words closest to any vector, e.g. `lab.vec('king') - lab.vec('man') + lab.vec('woman')`."""
        _check_k(topn)
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != (self.dim,):
            raise EmbedlabError(f"expected a vector of length {self.dim}, got shape {vector.shape}.")
        return [(w, float(s)) for w, s in self.vectors.similar_by_vector(vector, topn=topn)]

    def analogy(
        self, a: str, b: str, c: str, k: int = 5, method: str = "3cosadd", exclude: str = "case-variants"
    ) -> Neighbors:
        """A is to B as C is to ?  (man : king :: woman : ?).

        `exclude="case-variants"` (embedlab's default) leaves out the three input words in every letter case
        (`Woman`, `WOMAN` ... for `woman`), which vocabularies with cased entries (WordLlama, fastText) would
        otherwise often answer. `exclude="inputs"` is gensim's `most_similar` / `most_similar_cosmul` exactly:
        only the three input keys themselves are left out.
        """
        _check_k(k)
        if method not in METHODS:
            raise EmbedlabError(f"unknown analogy method {method!r}.", f"choose one of {', '.join(METHODS)}.")
        if exclude not in EXCLUDE:
            raise EmbedlabError(
                f"unknown exclude={exclude!r}.", f"choose one of {', '.join(EXCLUDE)}.", param="exclude"
            )
        words = [a, b, c]
        if any(not isinstance(w, str) or not w.strip() for w in words):
            raise EmbedlabError("an analogy needs three words A B C; one is missing or empty.", "e.g. man king woman.")
        lowered = [w.strip().lower() for w in words]
        repeated = sorted({w for w in lowered if lowered.count(w) > 1})
        if repeated:
            raise EmbedlabError(
                f"the analogy repeats {', '.join(repr(w) for w in repeated)}.", "give three different words A B C."
            )
        statuses = self.resolve([w.strip() for w in words])
        ka, kb, kc = (s.key for s in statuses)
        search = self.vectors.most_similar if method == "3cosadd" else self.vectors.most_similar_cosmul
        with warnings.catch_warnings():  # gensim's most_similar_cosmul calls its own deprecated init_sims
            warnings.simplefilter("ignore", DeprecationWarning)
            found = search(positive=[kb, kc], negative=[ka], topn=k + 20)
        dropped = lowered if exclude == "case-variants" else []
        near = [(w, float(s)) for w, s in found if w.lower() not in dropped][:k]
        return Neighbors(self.name, statuses, near, method=method, notes=self._notes(statuses))

    def _keys(self, items: list[str | np.ndarray]) -> list[str | np.ndarray]:
        words = [i for i in items if isinstance(i, str)]
        keys = iter(s.key for s in self.resolve(words))
        return [next(keys) if isinstance(i, str) else np.asarray(i, dtype=np.float32) for i in items]

    @staticmethod
    def _notes(statuses: list[WordStatus]) -> list[str]:
        return [
            f"{s.word!r} is out of vocabulary; its vector is {FROM_SUBWORDS}"
            for s in statuses
            if s.status == FROM_SUBWORDS
        ]

    # ------------------------------------------------------------ OOV

    def oov(self, words: list[str]) -> list[WordStatus]:
        """The words of `words` this model has no vocabulary entry for (fastText: built from subwords)."""
        return [s for s in (self.status(w) for w in words) if s.status != IN_VOCABULARY]

    def oov_report(self, texts: Any, top: int = 20) -> dict[str, Any]:
        """Out-of-vocabulary rate of an iterable of texts, by tokens and by distinct words."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(tokenize(text, lowercase=False))
        tokens = sum(counts.values())
        if tokens == 0:
            raise EmptyInputError("the text has no words.", "check the file and text_column.", param="text_column")
        missing: Counter[str] = Counter()
        for word, n in counts.items():
            if self.status(word).status != IN_VOCABULARY:
                missing[word] = n
        oov_tokens = sum(missing.values())
        return {
            "model": self.name,
            "tokens": tokens,
            "oov_tokens": oov_tokens,
            "oov_rate": round(oov_tokens / tokens, 6),
            "types": len(counts),
            "oov_types": len(missing),
            "oov_type_rate": round(len(missing) / len(counts), 6),
            "oov_handling": FROM_SUBWORDS if self.subwords else "no vector",
            "top_oov": [{"word": w, "count": n} for w, n in missing.most_common(top)],
        }

    def embed_words(self, words: list[str]) -> tuple[list[str], np.ndarray, list[WordStatus]]:
        """Vectors of the words that have one, plus the statuses of the OOV words (dropped or from subwords)."""
        kept: list[str] = []
        rows: list[np.ndarray] = []
        unusual: list[WordStatus] = []
        for word in words:
            status = self.status(word)
            if status.status != IN_VOCABULARY:
                unusual.append(status)
            if status.key is not None:
                kept.append(word)
                rows.append(self.vectors.get_vector(status.key))
        matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), dtype=np.float32)
        return kept, matrix, unusual


def _check_k(k: int) -> None:
    if k < 1:
        raise EmbedlabError(f"k must be at least 1, got {k}.")


STATIC_HINT = "static models are word2vec:DIR, fasttext:DIR, doc2vec:DIR, vectors:PATH and wordllama."


def is_static_spec(spec: str | Path) -> bool:
    """Whether `spec` names a static word-vector model (not a sentence encoder)."""
    try:
        return parse(spec).word_vectors
    except EmbedlabError:
        return False


def load(spec: str | Path) -> WordVectors:
    """Open a static word-vector model by name (see the module docs)."""
    try:
        parsed = parse(spec)
    except NotFoundError:
        raise NotFoundError(f"{str(spec).strip()!r} is not a static word-vector model.", STATIC_HINT) from None
    if parsed.kind == "wordllama":
        return wordllama_words()
    if parsed.kind in KINDS:
        return saved_words(str(parsed.path), parsed.kind)
    if parsed.kind in ("vectors", "file"):
        path = Path(str(parsed.path)).expanduser()
        return WordVectors(load_keyed_vectors(path), f"vectors:{path.name}")
    raise EmbedlabError(f"{parsed.name!r} is not a static word-vector model.", STATIC_HINT, param="model")


def saved_words(path: str | Path, kind: str) -> WordVectors:
    """The word vectors of an embedlab model folder."""
    folder, manifest = read_manifest(path, kind)
    vectors = load_word_vectors(folder, kind)
    lowercase = bool(manifest["options"].get("lowercase", True))
    return WordVectors(vectors, f"{kind}:{folder.name}", subwords=kind == "fasttext", lowercase=lowercase)


def wordllama_words() -> WordVectors:
    """WordLlama's whole-word tokens ('▁king' -> 'king') as a word-vector model.

    A word that the tokenizer splits into several pieces has no single vector: it is out of vocabulary.
    """
    from gensim.models import KeyedVectors

    from embedlab.encoders import WordLlamaEncoder

    encoder = WordLlamaEncoder()
    vocabulary = encoder.vocabulary
    rows = [i for i, token in enumerate(vocabulary) if token.startswith("\u2581") and len(token) > 1]
    vectors = KeyedVectors(encoder.dim)
    vectors.add_vectors([vocabulary[i][1:] for i in rows], np.asarray(encoder.token_vectors[rows], dtype=np.float32))
    return WordVectors(vectors, "wordllama")


def export_vectors(model: str | Path | WordVectors, output: str | Path, binary: bool = False) -> dict[str, Any]:
    """Write a model's word vectors in word2vec text or binary format (to a temp name, then renamed)."""
    words = model if isinstance(model, WordVectors) else load(model)
    output = Path(output).expanduser()
    if output.is_dir():
        raise EmbedlabError(f"{output} is a folder.", "give a file name such as vectors.txt or vectors.bin.")
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(output) as temp:
        words.vectors.save_word2vec_format(str(temp), binary=binary)
    return {
        "model": words.name,
        "path": str(output),
        "format": "word2vec-binary" if binary else "word2vec",
        "words": len(words),
        "dim": words.dim,
    }
