"""Semantic textual similarity: Spearman (and Pearson) correlation between cosine similarity and human
scores of sentence pairs, on a user-given file in the STS benchmark's formats.

No installed package ships an STS benchmark with human scores (we looked: sentence-transformers,
gensim, transformers, scikit-learn ship none; mteb and datasets download them from the hub), so this
task reads the file you give with --data:

- the original STS-B distribution (sts-train/dev/test.csv): tab-separated, no header,
  `genre  file  year  id  score  sentence1  sentence2  [source fields...]`;
- headed TSV (GLUE STS-B, sentence-transformers' stsbenchmark.tsv.gz, SICK): a header row naming
  `sentence1`/`sentence2` (or `sentence_A`/`sentence_B`) and `score` (or `label`, `relatedness_score`).

`.gz` files are read directly. count/tfidf are fitted on the file's own sentences.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError
from embedlab.evaluate.core import TEXT, DatasetInfo, Result, Task, cosine_pairs, sha256_files, text_encoder
from embedlab.io.records import line_error

FIRST = ("sentence1", "sentence_a")
SECOND = ("sentence2", "sentence_b")
SCORES = ("score", "label", "relatedness_score", "similarity")
FORMAT = (
    "STS-B lines 'genre<TAB>file<TAB>year<TAB>id<TAB>score<TAB>sentence1<TAB>sentence2', "
    "or a TSV header naming sentence1, sentence2 and score"
)


@dataclass
class SentencePairs:
    info: DatasetInfo
    first: list[str]
    second: list[str]
    scores: np.ndarray


def _columns(header: list[str]) -> tuple[int, int, int] | None:
    names = [name.strip().lower() for name in header]

    def find(options: tuple[str, ...]) -> int | None:
        return next((names.index(o) for o in options if o in names), None)

    found = find(FIRST), find(SECOND), find(SCORES)
    if all(i is None for i in found):
        return None
    if any(i is None for i in found):
        missing = [label for label, i in zip(("sentence1", "sentence2", "score"), found, strict=True) if i is None]
        raise EmbedlabError(
            f"the header row names no {' or '.join(missing)} column; columns are: {', '.join(header)}.",
            f"expected {FORMAT}.",
        )
    return found  # type: ignore[return-value]


def read_sts(path: Path) -> SentencePairs:
    """Parse an STS-B/SICK style file; errors name the line and field."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(
            f"dataset file {path} does not exist.", "pass an STS-B style .tsv/.csv file as data=.", param="data"
        )
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise EmbedlabError(f"{path} is not a gzip file ({exc}).", "decompress it or fix the name.") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EmbedlabError(f"{path} is not UTF-8 text ({exc}).", f"expected {FORMAT}.") from exc
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise EmbedlabError(f"{path} is empty.", f"expected {FORMAT}.")
    columns = _columns(rows[0])
    start = 2 if columns else 1
    i1, i2, iscore = columns or (5, 6, 4)
    first, second, scores = [], [], []
    for number, fields in enumerate(rows[start - 1 :], start=start):
        if not fields or not "".join(fields).strip():
            continue
        if len(fields) <= max(i1, i2, iscore):
            raise line_error(
                path, number, f"has {len(fields)} tab-separated fields, needs {max(i1, i2, iscore) + 1}", FORMAT
            )
        try:
            value = float(fields[iscore])
        except ValueError:
            raise line_error(
                path, number, f"field {iscore + 1} (score) {fields[iscore]!r} is not a number", FORMAT
            ) from None
        if not np.isfinite(value):
            raise line_error(path, number, f"field {iscore + 1} (score) is {fields[iscore]!r}", FORMAT)
        for index in (i1, i2):
            if not fields[index].strip():
                raise line_error(path, number, f"field {index + 1} (sentence) is empty", FORMAT)
        first.append(fields[i1].strip())
        second.append(fields[i2].strip())
        scores.append(value)
    if len(scores) < 3:
        raise EmbedlabError(
            f"{path} holds {len(scores)} scored pairs; a correlation needs at least 3.", f"expected {FORMAT}."
        )
    info = DatasetInfo(path.name, str(path), "user file (STS-B format)", sha256_files([path]), len(scores))
    return SentencePairs(info, first, second, np.asarray(scores, dtype=np.float64))


def load(data: Path | None = None) -> SentencePairs:
    if data is None:
        raise EmbedlabError(
            "sts needs a dataset file: no installed package ships an STS benchmark with human scores.",
            "download STS-B (sts-test.csv) or SICK once and pass its path as data= "
            "(`embedlab evaluate sts --data sts-test.csv -m minilm`); to try it, write_lee_sts(path) "
            "(`embedlab datasets lee-sts lee-sts.tsv`) writes a real human-rated sample.",
        )
    return read_sts(data)


def score(encoder: Encoder, model: str, dataset: SentencePairs) -> list[Result]:
    started = time.perf_counter()
    sentences = list(dict.fromkeys(dataset.first + dataset.second))
    position = {s: i for i, s in enumerate(sentences)}
    cached = text_encoder(encoder, sentences)
    vectors = cached.encode(sentences)
    left = np.array([position[s] for s in dataset.first])
    right = np.array([position[s] for s in dataset.second])
    sims = cosine_pairs(vectors, left, right)
    return [
        Result(
            "sts",
            model,
            dataset.info,
            {
                "spearman": float(stats.spearmanr(dataset.scores, sims)[0]),
                "pearson": float(stats.pearsonr(dataset.scores, sims)[0]),
            },
            {"pairs": len(sims), "sentences": len(sentences)},
            cached.recipe,
            {"cache": cached.cache_state},
            time.perf_counter() - started,
        )
    ]


TASK = Task(
    "sts",
    TEXT,
    "Spearman correlation with human sentence-similarity scores (an STS-B/SICK format data file)",
    (),
    load,
    score,
)


def write_lee_sts(path: str | Path) -> int:
    """Write Lee's 1,225 rated document pairs as an STS-B file (original layout); returns the pair count.

    No STS benchmark ships in an installed package, so this is a real human-rated sample to try `sts` on:
    each pair of Lee's 50 documents (gensim's test data) with its mean rating scaled to STS-B's 0-5.
    Scored with `sts`, it gives the same figures as `docsim`.
    """
    from embedlab.evaluate.lee import lee_corpus
    from embedlab.io.files import atomic_write

    corpus = lee_corpus()
    left, right, ratings = corpus.pairs()
    rows = [
        f"main-news\tlee\t2005\t{n:04d}\t{5 * r:.3f}\t{corpus.documents[a]}\t{corpus.documents[b]}\n"
        for n, (a, b, r) in enumerate(zip(left, right, ratings, strict=True))
    ]
    with atomic_write(Path(path).expanduser()) as temp:
        Path(temp).write_text("".join(rows), encoding="utf-8")
    return len(rows)
