"""Word2vec, fastText and doc2vec model folders saved by `embedlab train`, loaded as encoders.

A model folder holds `embedlab-model.json` (kind, options, corpus, vocabulary size, training time and
the SHA-256 of every file) and:

- word2vec: `vectors.bin` (word2vec binary format) and `counts.npy` (word frequencies);
- fasttext: `model.bin` (Facebook fastText binary format, with the subword buckets for OOV words);
- doc2vec: `vectors.bin`, `counts.npy`, `docvecs.npy` + `doctags.json` (document vectors),
  `documents.jsonl` (the start of each training document) and `model.gensim`, gensim's full model for
  `infer`. Only that last file is a pickle; it is signed (see `embedlab.encoders.trust`) and unpickled
  only after its signature checks out.

Training lives in `embedlab.words.models`; loading lives here so that `embedlab.load("word2vec:DIR")`
needs nothing above the encoders.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders import trust
from embedlab.encoders.base import Encoder
from embedlab.encoders.static import tokenize
from embedlab.errors import DamagedError, EmbedlabError, EmptyInputError, NotFoundError, close_matches
from embedlab.io.files import file_sha256

KINDS = ("word2vec", "fasttext", "doc2vec")
MANIFEST = "embedlab-model.json"
FORMAT = "embedlab-words/1"
SNIPPET = 200
FILES = {
    "word2vec": ("vectors.bin", "counts.npy"),
    "fasttext": ("model.bin",),
    "doc2vec": ("vectors.bin", "counts.npy", "docvecs.npy", "doctags.json", "documents.jsonl", "model.gensim"),
}


def stable_hash(text: str) -> int:
    """Seeds gensim's initial vectors the same way in every process (Python's `hash` is salted per run)."""
    return zlib.crc32(text.encode("utf-8"))


def infer_vector(model: Any, words: list[str], seed: int = 0, epochs: int | None = None) -> np.ndarray:
    """gensim's `Doc2Vec.infer_vector`, with the starting vector seeded by `stable_hash`.

    gensim seeds the starting vector with `pseudorandom_weak_vector(size, seed_string=' '.join(words))`,
    whose `hashfxn` is Python's `hash`: salted per process (PYTHONHASHSEED), and not the model's own
    `hashfxn`, which gensim does not save anyway. So the same text gave another vector in every process.
    gensim offers no argument for it, so this is its loop (gensim 4.x, `doc2vec.py`), calling its
    compiled training routines, with the one seed changed: the start comes from crc32 of the words, and
    the negative-sampling draws from `RandomState(seed)`.
    """
    from gensim import matutils
    from gensim.models.doc2vec_inner import train_document_dbow, train_document_dm, train_document_dm_concat
    from gensim.models.keyedvectors import pseudorandom_weak_vector

    model.random = np.random.RandomState(seed)
    alpha, min_alpha = model.alpha, model.min_alpha
    epochs = epochs or model.epochs
    size = model.dv.vector_size
    doctag_vectors = pseudorandom_weak_vector(size, seed_string=" ".join(words), hashfxn=stable_hash)
    doctag_vectors = doctag_vectors.reshape(1, size)
    doctags_lockf = np.ones(1, dtype=np.float32)
    work = np.zeros(model.layer1_size, dtype=np.float32)
    neu1 = matutils.zeros_aligned(model.layer1_size, dtype=np.float32)
    alpha_delta = (alpha - min_alpha) / max(epochs - 1, 1)
    common = dict(learn_words=False, learn_hidden=False, doctag_vectors=doctag_vectors, doctags_lockf=doctags_lockf)
    for _ in range(epochs):
        if model.sg:
            train_document_dbow(model, words, [0], alpha, work, **common)
        elif model.dm_concat:
            train_document_dm_concat(model, words, [0], alpha, work, neu1, **common)
        else:
            train_document_dm(model, words, [0], alpha, work, neu1, **common)
        alpha -= alpha_delta
    return np.asarray(doctag_vectors[0], dtype=np.float32)


def read_manifest(path: str | Path, kind: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Check a model folder (manifest, kind, every file present and unchanged) and return it with its manifest."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise NotFoundError(
            f"model folder {folder} does not exist.",
            "train one with embedlab.words.train(kind, corpus, output) (`embedlab train KIND CORPUS -o DIR`).",
        )
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise NotFoundError(
            f"{folder} is not an embedlab model folder (no {MANIFEST}).",
            "train one with embedlab.words.train (`embedlab train`); for a word2vec/GloVe file use vectors:PATH.",
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        found = manifest["kind"]
        files = manifest["files"]
        if manifest.get("format") != FORMAT or found not in KINDS or not isinstance(files, dict):
            raise ValueError("unknown format or kind")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise DamagedError(f"{manifest_path} is damaged ({exc}).", "retrain the model.") from None
    if kind is not None and found != kind:
        raise EmbedlabError(f"{folder} holds a {found} model, not {kind}.", f"load it as {found}:{folder}.")
    for name in FILES[found]:
        file = folder / name
        if not file.is_file():
            raise DamagedError(f"model folder {folder} is missing {name}.", "retrain the model.")
        if file_sha256(file) != files.get(name):
            raise DamagedError(
                f"{file} was changed or damaged since embedlab saved it (checksum differs).", "retrain the model."
            )
    return folder, manifest


def load_word_vectors(folder: Path, kind: str) -> Any:
    """The model's word vectors as gensim KeyedVectors (FastTextKeyedVectors for fastText), read without pickle."""
    try:
        if kind == "fasttext":
            from gensim.models.fasttext import load_facebook_vectors

            return load_facebook_vectors(str(folder / "model.bin"))
        from gensim.models import KeyedVectors

        return KeyedVectors.load_word2vec_format(str(folder / "vectors.bin"), binary=True, unicode_errors="strict")
    except (ValueError, EOFError, IndexError, UnicodeDecodeError, OSError) as exc:
        raise DamagedError(f"the vectors in {folder} cannot be read ({exc}).", "retrain the model.") from exc


def load_counts(folder: Path, kind: str, vectors: Any) -> np.ndarray:
    """Training-corpus frequency of each word, in vocabulary order."""
    if kind == "fasttext":
        return np.array([vectors.get_vecattr(w, "count") for w in vectors.index_to_key], dtype=np.int64)
    counts = np.load(folder / "counts.npy", allow_pickle=False)
    if counts.shape != (len(vectors),):
        raise DamagedError(f"{folder / 'counts.npy'} does not match the vocabulary.", "retrain the model.")
    return counts


class SavedWordsEncoder(Encoder):
    """A word2vec or fastText model folder as an encoder: a text is the mean (or SIF mean) of its word vectors.

    fastText builds vectors for out-of-vocabulary words from their character n-grams; `last_stats` counts them.
    """

    modality = "text"
    config_keys = ("weighting", "sif_a")
    word_vectors = True

    def __init__(self, path: str | Path, kind: str, weighting: str = "mean", sif_a: float = 1e-3) -> None:
        super().__init__()
        if weighting not in ("mean", "sif"):
            raise EmbedlabError(f"unknown weighting {weighting!r}.", "choose mean or sif.", param="weighting")
        self.folder, self.manifest = read_manifest(path, kind)
        self.kind = kind
        self.vectors = load_word_vectors(self.folder, kind)
        counts = load_counts(self.folder, kind, self.vectors).astype(np.float64)
        self._word_prob = counts / max(counts.sum(), 1.0)
        self.weighting = weighting
        self.sif_a = sif_a
        self.lowercase = bool(self.manifest["options"].get("lowercase", True))
        self.name = f"{kind}:{self.folder.name}"

    @property
    def spec_name(self) -> str:
        return f"{self.kind}:{self.folder.resolve()}"

    @property
    def dim(self) -> int:
        return int(self.vectors.vector_size)

    def identity(self) -> dict[str, Any]:
        main = FILES[self.kind][0]
        return {
            "model": str(self.folder.resolve()),
            "version": "sha256:" + self.manifest["files"][main][:16],
            "pooling": "sif-weighted mean of word vectors" if self.weighting == "sif" else "mean of word vectors",
            "oov": "vectors from character n-grams" if self.kind == "fasttext" else "skipped",
            "lowercase": self.lowercase,
            "max_tokens": None,
            "long_text": "all words used",
        }

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        subwords = self.kind == "fasttext"
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        tokens = oov = from_subwords = empty = 0
        for row, text in enumerate(texts):
            rows: list[np.ndarray] = []
            weights: list[float] = []
            for word in tokenize(text, self.lowercase):
                tokens += 1
                index = self.vectors.key_to_index.get(word)
                if index is None:
                    oov += 1
                    if not subwords:
                        continue
                    from_subwords += 1
                    rows.append(self.vectors.get_vector(word))
                    weights.append(1.0)
                else:
                    rows.append(self.vectors.vectors[index])
                    weights.append(self.sif_a / (self.sif_a + self._word_prob[index]))
            if not rows:
                empty += 1
                continue
            matrix = np.vstack(rows)
            out[row] = np.asarray(weights) @ matrix / len(rows) if self.weighting == "sif" else matrix.mean(axis=0)
        self.last_stats.update(
            tokens=tokens,
            oov_tokens=oov,
            oov_rate=oov / tokens if tokens else 0.0,
            oov_built_from_subwords=from_subwords,
            texts_without_known_words=empty,
        )
        return out


class Doc2VecModel:
    """A saved doc2vec folder: document vectors and tags load without pickle; `infer` needs the signed full model."""

    def __init__(self, path: str | Path) -> None:
        self.folder, self.manifest = read_manifest(path, "doc2vec")
        self.tags: list[str] = json.loads((self.folder / "doctags.json").read_text(encoding="utf-8"))
        self.doc_vectors = np.load(self.folder / "docvecs.npy", allow_pickle=False)
        if self.doc_vectors.shape[0] != len(self.tags):
            raise DamagedError(f"{self.folder} document vectors do not match their tags.", "retrain the model.")
        self.lowercase = bool(self.manifest["options"].get("lowercase", True))
        self._unit = _unit_rows(self.doc_vectors)
        self._model: Any = None

    @property
    def model(self) -> Any:
        """gensim's Doc2Vec, unpickled only after the signature check."""
        if self._model is None:
            from gensim.models import Doc2Vec

            path = self.folder / "model.gensim"
            trust.verify(path, self.manifest.get("signature"))
            self._model = Doc2Vec.load(str(path))
        return self._model

    def texts(self) -> dict[str, str]:
        """The start of each training document, by tag."""
        out: dict[str, str] = {}
        with open(self.folder / "documents.jsonl", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                out[row["tag"]] = row["text"]
        return out

    def infer(self, text: str, seed: int = 0, epochs: int | None = None) -> np.ndarray:
        """A vector for a new document; the same text and seed always give the same vector."""
        words = tokenize(text, self.lowercase)
        if not words:
            raise EmptyInputError("the document to infer has no words.", "pass some text.")
        return infer_vector(self.model, words, seed, epochs)

    def neighbors_of_vector(
        self, vector: np.ndarray, k: int = 10, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """The k training documents closest (cosine) to a vector."""
        scores = self._unit @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
        order = [i for i in np.argsort(-scores) if self.tags[i] != exclude][:k]
        return [(self.tags[i], float(scores[i])) for i in order]

    def neighbors(self, tag: str, k: int = 10) -> list[tuple[str, float]]:
        """The k training documents closest to the training document `tag`."""
        try:
            index = self.tags.index(tag)
        except ValueError:
            close = close_matches(tag, self.tags)
            raise NotFoundError(
                f"no training document has the tag {tag!r}." + (f" Did you mean: {', '.join(close)}?" if close else ""),
                f"tags look like {', '.join(self.tags[:3])}; for a new text use infer() (`embedlab infer`).",
            ) from None
        return self.neighbors_of_vector(self.doc_vectors[index], k, exclude=tag)


def open_doc2vec(name: str | Path) -> Doc2VecModel:
    """A saved doc2vec model by name: `doc2vec:DIR`, or a folder saved by `embedlab train doc2vec`."""
    from embedlab.encoders.spec import parse

    spec = parse(name)
    if spec.kind != "doc2vec":
        raise EmbedlabError(f"{name} is not a doc2vec model.", "write doc2vec:DIR.", param="model")
    return Doc2VecModel(str(spec.path))


class Doc2VecEncoder(Encoder):
    """A saved doc2vec model as an encoder: every text is inferred with a fixed seed (repeatable)."""

    kind = "doc2vec"
    modality = "text"
    config_keys = ("seed",)
    word_vectors = True

    def __init__(self, path: str | Path, seed: int = 0) -> None:
        super().__init__()
        self.doc2vec = Doc2VecModel(path)
        self.seed = seed
        self.name = f"doc2vec:{self.doc2vec.folder.name}"

    @property
    def spec_name(self) -> str:
        return f"doc2vec:{self.doc2vec.folder.resolve()}"

    @property
    def dim(self) -> int:
        return int(self.doc2vec.doc_vectors.shape[1])

    def identity(self) -> dict[str, Any]:
        return {
            "model": str(self.doc2vec.folder.resolve()),
            "version": "sha256:" + self.doc2vec.manifest["files"]["model.gensim"][:16],
            "pooling": f"doc2vec infer_vector (crc32-seeded start), seed {self.seed}",
            "max_tokens": 10_000,
            "long_text": "words past 10000 ignored",
        }

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        empty = 0
        for row, text in enumerate(texts):
            if tokenize(text, self.doc2vec.lowercase):
                out[row] = self.doc2vec.infer(text, self.seed)
            else:
                empty += 1
        self.last_stats.update(texts_without_words=empty)
        return out


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)
