"""Train word2vec, fastText and doc2vec with gensim, save them as safe model folders and load them back.

A model folder holds `embedlab-model.json` (kind, options, corpus, vocabulary size, training time and
the SHA-256 of every file) and:

- word2vec: `vectors.bin` (word2vec binary format) and `counts.npy` (word frequencies);
- fasttext: `model.bin` (Facebook fastText binary format, with the subword buckets for OOV words);
- doc2vec: `vectors.bin`, `counts.npy`, `docvecs.npy` + `doctags.json` (document vectors),
  `documents.jsonl` (the start of each training document) and `model.gensim`, gensim's full model for
  `infer`. Only that last file is a pickle; it is signed (see `embedlab.words.trust`) and unpickled
  only after its signature checks out.
"""

from __future__ import annotations

import json
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders.base import Encoder, file_sha256
from embedlab.encoders.static import tokenize
from embedlab.errors import EmbedlabError, close_matches
from embedlab.words import trust
from embedlab.words.corpus import Corpus

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


@dataclass
class TrainOptions:
    """The usual gensim knobs. `sg` picks skip-gram (word2vec/fastText) or PV-DBOW with word training (doc2vec).

    fastText hashes character n-grams into `buckets` rows (gensim's default 2,000,000 makes a file of
    buckets x dim x 4 bytes, 800 MB at dim 100; a small corpus needs far fewer).
    """

    dim: int = 100
    window: int = 5
    min_count: int = 5
    epochs: int = 5
    sg: bool = False
    negative: int = 5
    workers: int = 3
    seed: int = 1
    min_n: int = 3
    max_n: int = 6
    buckets: int = 2_000_000
    lowercase: bool = True

    def validate(self) -> None:
        for name in ("dim", "window", "min_count", "epochs", "workers"):
            if getattr(self, name) < 1:
                raise EmbedlabError(f"{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}.")
        if self.negative < 1:
            raise EmbedlabError(f"negative must be at least 1, got {self.negative}.", "5-20 is usual.")
        if self.buckets < 1:
            raise EmbedlabError(f"buckets must be at least 1, got {self.buckets}.")
        if not 1 <= self.min_n <= self.max_n:
            raise EmbedlabError(f"fastText needs 1 <= min-n <= max-n, got {self.min_n} and {self.max_n}.")


@dataclass
class TrainResult:
    """What `train` reports."""

    kind: str
    path: str
    vocabulary: int
    documents: int
    corpus_words: int
    seconds: float
    words_per_second: float
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[int, int, float], None]  # (epochs done, epochs in all, words per second)


def train(
    kind: str,
    corpus: Corpus | str | Path,
    output: str | Path,
    options: TrainOptions | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a `kind` model on a streamed corpus and save it to the folder `output` (written whole or not at all)."""
    if kind not in KINDS:
        raise EmbedlabError(f"unknown model kind {kind!r}.", f"choose one of {', '.join(KINDS)}.")
    options = options or TrainOptions()
    options.validate()
    corpus = corpus if isinstance(corpus, Corpus) else Corpus(corpus, lowercase=options.lowercase)
    output = Path(output).expanduser()
    check_output_dir(output, overwrite)

    model = _new_model(kind, options)
    stream = corpus.tagged() if kind == "doc2vec" else corpus
    model.build_vocab(stream, progress_per=1 << 62, keep_raw_vocab=True)
    if model.corpus_count == 0 or not model.corpus_total_words:
        raise EmbedlabError(f"the corpus {corpus.description} has no words.", "check the file and --text-column.")
    if len(model.wv) == 0:
        top = max(model.raw_vocab.values(), default=0)
        raise EmbedlabError(
            f"no word occurs {options.min_count} times or more in the corpus "
            f"({len(model.raw_vocab)} distinct words, the most frequent {top} times).",
            f"lower --min-count (to {max(1, top)} or less) or give a larger corpus.",
        )
    model.raw_vocab = {}
    words = int(model.corpus_total_words)
    started = time.perf_counter()
    model.train(
        stream,
        total_examples=model.corpus_count,
        total_words=words,
        epochs=options.epochs,
        callbacks=[_EpochCallback(options.epochs, words, started, progress)],
    )
    seconds = time.perf_counter() - started
    result = TrainResult(
        kind,
        str(output),
        len(model.wv),
        int(model.corpus_count),
        words,
        round(seconds, 3),
        round(words * options.epochs / max(seconds, 1e-9), 1),
        asdict(options),
    )
    manifest = {
        "format": FORMAT,
        "kind": kind,
        "options": asdict(options),
        "corpus": corpus.description,
        "vocabulary": result.vocabulary,
        "documents": result.documents,
        "corpus_words": words,
        "training_seconds": result.seconds,
        "gensim": version("gensim"),
    }
    _write_folder(output, overwrite, lambda folder: _save(kind, model, corpus, folder, manifest))
    return result


def check_output_dir(output: Path, overwrite: bool) -> None:
    """Refuse to replace a file, or a non-empty folder unless `overwrite`."""
    if output.exists() and not output.is_dir():
        raise EmbedlabError(f"{output} is a file, not a folder.", "choose a new folder name for the model.")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise EmbedlabError(f"{output} already exists and is not empty.", "choose a new folder or pass --overwrite.")


def _new_model(kind: str, options: TrainOptions) -> Any:
    from gensim.models import Doc2Vec, FastText, Word2Vec

    common = dict(
        vector_size=options.dim,
        window=options.window,
        min_count=options.min_count,
        epochs=options.epochs,
        negative=options.negative,
        workers=options.workers,
        seed=options.seed,
        hashfxn=stable_hash,
    )
    if kind == "word2vec":
        return Word2Vec(sg=int(options.sg), **common)
    if kind == "fasttext":
        return FastText(sg=int(options.sg), min_n=options.min_n, max_n=options.max_n, bucket=options.buckets, **common)
    return Doc2Vec(dm=0 if options.sg else 1, dbow_words=1 if options.sg else 0, **common)


class _EpochCallback:
    """gensim callback: reports epochs done and words per second after each epoch."""

    def __init__(self, epochs: int, words: int, started: float, progress: Progress | None) -> None:
        self.epochs, self.words, self.started, self.progress = epochs, words, started, progress
        self.done = 0

    def on_epoch_begin(self, model: Any) -> None:
        pass

    def on_epoch_end(self, model: Any) -> None:
        self.done += 1
        if self.progress:
            elapsed = max(time.perf_counter() - self.started, 1e-9)
            self.progress(self.done, self.epochs, self.words * self.done / elapsed)

    def on_train_begin(self, model: Any) -> None:
        pass

    def on_train_end(self, model: Any) -> None:
        pass


def _save(kind: str, model: Any, corpus: Corpus, folder: Path, manifest: dict[str, Any]) -> None:
    if kind == "fasttext":
        from gensim.models.fasttext import save_facebook_model

        save_facebook_model(model, str(folder / "model.bin"))
    else:
        model.wv.save_word2vec_format(str(folder / "vectors.bin"), binary=True)
        counts = np.array([model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key], dtype=np.int64)
        np.save(folder / "counts.npy", counts, allow_pickle=False)
    if kind == "doc2vec":
        np.save(folder / "docvecs.npy", np.asarray(model.dv.vectors, dtype=np.float32), allow_pickle=False)
        tags = [str(t) for t in model.dv.index_to_key]
        (folder / "doctags.json").write_text(json.dumps(tags, ensure_ascii=False), encoding="utf-8")
        seen: set[str] = set()
        with open(folder / "documents.jsonl", "w", encoding="utf-8") as handle:
            for document in corpus.documents():
                if document.tag not in seen:
                    seen.add(document.tag)
                    handle.write(json.dumps({"tag": document.tag, "text": document.text[:SNIPPET]}) + "\n")
        model.callbacks = ()
        model.save(str(folder / "model.gensim"), separately=[])
        manifest["signature"] = trust.sign(folder / "model.gensim")
    manifest["files"] = {name: file_sha256(folder / name) for name in FILES[kind]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _write_folder(output: Path, overwrite: bool, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling folder, then rename it into place; on any error nothing is left behind."""
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.with_name(f".{output.name}.partial-{time.time_ns()}")
    temp.mkdir()
    try:
        fill(temp)
        if output.exists():
            old = output.with_name(f".{output.name}.old-{time.time_ns()}")
            output.rename(old)
            temp.rename(output)
            shutil.rmtree(old)
        else:
            temp.rename(output)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


# ---------------------------------------------------------------- loading


def read_manifest(path: str | Path, kind: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Check a model folder (manifest, kind, every file present and unchanged) and return it with its manifest."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise EmbedlabError(
            f"model folder {folder} does not exist.", "train one with `embedlab train KIND CORPUS -o DIR`."
        )
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise EmbedlabError(
            f"{folder} is not an embedlab model folder (no {MANIFEST}).",
            "train one with `embedlab train`; for a word2vec/GloVe file use vectors:PATH.",
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        found = manifest["kind"]
        files = manifest["files"]
        if manifest.get("format") != FORMAT or found not in KINDS or not isinstance(files, dict):
            raise ValueError("unknown format or kind")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise EmbedlabError(f"{manifest_path} is damaged ({exc}).", "retrain the model.") from None
    if kind is not None and found != kind:
        raise EmbedlabError(f"{folder} holds a {found} model, not {kind}.", f"load it as {found}:{folder}.")
    for name in FILES[found]:
        file = folder / name
        if not file.is_file():
            raise EmbedlabError(f"model folder {folder} is missing {name}.", "retrain the model.")
        if file_sha256(file) != files.get(name):
            raise EmbedlabError(
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
        raise EmbedlabError(f"the vectors in {folder} cannot be read ({exc}).", "retrain the model.") from exc


def load_counts(folder: Path, kind: str, vectors: Any) -> np.ndarray:
    """Training-corpus frequency of each word, in vocabulary order."""
    if kind == "fasttext":
        return np.array([vectors.get_vecattr(w, "count") for w in vectors.index_to_key], dtype=np.int64)
    counts = np.load(folder / "counts.npy", allow_pickle=False)
    if counts.shape != (len(vectors),):
        raise EmbedlabError(f"{folder / 'counts.npy'} does not match the vocabulary.", "retrain the model.")
    return counts


class SavedWordsEncoder(Encoder):
    """A word2vec or fastText model folder as an encoder: a text is the mean (or SIF mean) of its word vectors.

    fastText builds vectors for out-of-vocabulary words from their character n-grams; `last_stats` counts them.
    """

    modality = "text"

    def __init__(self, path: str | Path, kind: str, weighting: str = "mean", sif_a: float = 1e-3) -> None:
        super().__init__()
        if weighting not in ("mean", "sif"):
            raise EmbedlabError(f"unknown weighting {weighting!r}.", "choose mean or sif.")
        self.folder, self.manifest = read_manifest(path, kind)
        self.kind = kind
        self.vectors = load_word_vectors(self.folder, kind)
        counts = load_counts(self.folder, kind, self.vectors).astype(np.float64)
        self._word_prob = counts / max(counts.sum(), 1.0)
        self.weighting = weighting
        self.sif_a = sif_a
        self.lowercase = bool(self.manifest["options"].get("lowercase", True))
        self.name = f"{kind}:{self.folder.name}"

    def load_spec(self) -> tuple[str, dict[str, Any]]:
        return f"{self.kind}:{self.folder.resolve()}", {"weighting": self.weighting, "sif_a": self.sif_a}

    @property
    def dim(self) -> int:
        return int(self.vectors.vector_size)

    @property
    def recipe(self) -> dict[str, Any]:
        main = FILES[self.kind][0]
        return {
            "encoder": self.kind,
            "model": str(self.folder.resolve()),
            "version": "sha256:" + self.manifest["files"][main][:16],
            "pooling": "sif-weighted mean of word vectors" if self.weighting == "sif" else "mean of word vectors",
            "oov": "vectors from character n-grams" if self.kind == "fasttext" else "skipped",
            "lowercase": self.lowercase,
            "max_tokens": None,
            "long_text": "all words used",
            "dim": self.dim,
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
            raise EmbedlabError(f"{self.folder} document vectors do not match their tags.", "retrain the model.")
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
            raise EmbedlabError("the document to infer has no words.", "pass some text.")
        model = self.model
        model.random = np.random.RandomState(seed)
        return np.asarray(model.infer_vector(words, epochs=epochs), dtype=np.float32)

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
            raise EmbedlabError(
                f"no training document has the tag {tag!r}." + (f" Did you mean: {', '.join(close)}?" if close else ""),
                f"tags look like {', '.join(self.tags[:3])}; for a new text use `embedlab infer`.",
            ) from None
        return self.neighbors_of_vector(self.doc_vectors[index], k, exclude=tag)


class Doc2VecEncoder(Encoder):
    """A saved doc2vec model as an encoder: every text is inferred with a fixed seed (repeatable)."""

    modality = "text"

    def __init__(self, path: str | Path, seed: int = 0) -> None:
        super().__init__()
        self.doc2vec = Doc2VecModel(path)
        self.seed = seed
        self.name = f"doc2vec:{self.doc2vec.folder.name}"

    def load_spec(self) -> tuple[str, dict[str, Any]]:
        return f"doc2vec:{self.doc2vec.folder.resolve()}", {"seed": self.seed}

    @property
    def dim(self) -> int:
        return int(self.doc2vec.doc_vectors.shape[1])

    @property
    def recipe(self) -> dict[str, Any]:
        return {
            "encoder": "doc2vec",
            "model": str(self.doc2vec.folder.resolve()),
            "version": "sha256:" + self.doc2vec.manifest["files"]["model.gensim"][:16],
            "pooling": f"doc2vec infer_vector, seed {self.seed}",
            "max_tokens": 10_000,
            "long_text": "words past 10000 ignored",
            "dim": self.dim,
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
