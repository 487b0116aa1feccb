"""Train word2vec, fastText and doc2vec with gensim and save them as safe model folders.

The folder format, and loading a folder back as an encoder, live in `embedlab.encoders.words`
(load a trained folder with `embedlab.load("word2vec:DIR")`, `fasttext:DIR` or `doc2vec:DIR`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders import trust
from embedlab.encoders.words import FILES, FORMAT, KINDS, MANIFEST, stable_hash
from embedlab.errors import EmbedlabError, EmptyInputError
from embedlab.io.files import check_output_dir, file_sha256, write_folder
from embedlab.words.corpus import Corpus

SNIPPET = 200

__all__ = ["FILES", "KINDS", "MANIFEST", "TrainOptions", "TrainResult", "train"]


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
                raise EmbedlabError(f"{name} must be at least 1, got {getattr(self, name)}.", param=name)
        if self.negative < 1:
            raise EmbedlabError(
                f"negative must be at least 1, got {self.negative}.", "5-20 is usual.", param="negative"
            )
        if self.buckets < 1:
            raise EmbedlabError(f"buckets must be at least 1, got {self.buckets}.", param="buckets")
        if not 1 <= self.min_n <= self.max_n:
            raise EmbedlabError(
                f"fastText needs 1 <= min_n <= max_n, got {self.min_n} and {self.max_n}.", param="min_n"
            )


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
        raise EmptyInputError(
            f"the corpus {corpus.description} has no words.", "check the file and text_column.", param="text_column"
        )
    if len(model.wv) == 0:
        top = max(model.raw_vocab.values(), default=0)
        raise EmbedlabError(
            f"no word occurs {options.min_count} times or more in the corpus "
            f"({len(model.raw_vocab)} distinct words, the most frequent {top} times).",
            f"lower min_count (to {max(1, top)} or less) or give a larger corpus.",
            param="min_count",
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
    write_folder(output, overwrite, lambda folder: _save(kind, model, corpus, folder, manifest))
    return result


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
