"""Word analogies "a is to b as c is to ?" on the Google analogy set (Mikolov et al., 2013).

Two ways to answer: 3CosAdd (argmax cos(x, b - a + c), gensim's `most_similar`) and 3CosMul
(Levy & Goldberg, 2014, gensim's `most_similar_cosmul`). Candidates and questions are restricted to the
first `restrict_vocab` words like gensim's `evaluate_word_analogies`: lookup is case-insensitive, the
three question words (in any spelling) are never an answer, and questions with an out-of-vocabulary word
are counted and reported, not scored. Sections whose name starts with 'gram' are syntactic, the others
semantic. The cosines of the distinct question words with the vocabulary are computed once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.datasets import gensim_test_data
from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError
from embedlab.evaluate.core import WORD, DatasetInfo, Result, Task, sha256_files
from embedlab.evaluate.wordspace import word_space
from embedlab.io.records import line_error

CITATION = "Mikolov et al. (2013), Efficient Estimation of Word Representations; via gensim test data"
FORMAT = "': section' header lines and 'a b c expected' lines of four words"
METHODS = ("3CosAdd", "3CosMul")
DEFAULT_RESTRICT = 30_000
BATCH = 512
TABLE_LIMIT = 64_000_000  # cosines kept at once (256 MB of float32)


@dataclass
class Analogies:
    info: DatasetInfo
    sections: list[tuple[str, list[tuple[str, str, str, str]]]]


def read_analogies(path: Path, name: str | None = None, citation: str = "user file") -> Analogies:
    """Parse a questions-words file; errors name the line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(f"dataset file {path} does not exist.", "pass an analogy file as data=.", param="data")
    sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise EmbedlabError(f"{path} is not UTF-8 text ({exc}).", f"give {FORMAT}.") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        words = line.split()
        if len(words) != 4:
            raise line_error(path, number, f"has {len(words)} words, not 4", FORMAT)
        if not sections:
            raise line_error(path, number, "comes before any ': section' line", FORMAT)
        sections[-1][1].append((words[0], words[1], words[2], words[3]))
    total = sum(len(q) for _, q in sections)
    if total == 0:
        raise EmbedlabError(f"{path} holds no analogy questions.", f"give {FORMAT}.")
    return Analogies(DatasetInfo(name or path.name, str(path), citation, sha256_files([path]), total), sections)


def load(data: Path | None = None) -> Analogies:
    if data is not None:
        return read_analogies(data)
    return read_analogies(gensim_test_data("questions-words.txt"), "Google analogies", CITATION)


def answer(unit: np.ndarray, groups: np.ndarray, questions: np.ndarray) -> dict[str, np.ndarray]:
    """Predicted row for each question (rows a, b, c) by each method; no spelling of a, b or c is an answer.

    The cosines of the few distinct question words with the vocabulary are computed once (about 900 words
    for the Google set); 3CosAdd's cos(x, b - a + c) ranks like cos(x,b) + cos(x,c) - cos(x,a) on unit rows.
    """
    words, inverse = np.unique(questions, return_inverse=True)
    inverse = inverse.reshape(questions.shape)
    spellings = [np.flatnonzero(groups == groups[w]) for w in words]  # every row spelling the same word
    width = max(len(rows) for rows in spellings)
    variants = np.array([np.pad(rows, (0, width - len(rows)), mode="edge") for rows in spellings])
    table = unit[words] @ unit.T if len(words) * len(unit) <= TABLE_LIMIT else None
    predicted = {method: np.empty(len(questions), dtype=np.int64) for method in METHODS}
    for start in range(0, len(questions), BATCH):
        batch, local = questions[start : start + BATCH], inverse[start : start + BATCH]
        if table is not None:
            ca, cb, cc = (table[local[:, i]] for i in range(3))
        else:
            ca, cb, cc = (unit[batch[:, i]] @ unit.T for i in range(3))
        excluded = variants[local].reshape(len(batch), -1)
        rows = np.arange(len(batch))[:, None]
        cosmul = ((1 + cb) / 2) * ((1 + cc) / 2) / ((1 + ca) / 2 + 1e-6)  # shifted to [0, 1] as in gensim
        for method, scores in (("3CosAdd", cb + cc - ca), ("3CosMul", cosmul)):
            scores[rows, excluded] = -np.inf
            predicted[method][start : start + len(batch)] = scores.argmax(axis=1)
    return predicted


def score(encoder: Encoder, model: str, dataset: Analogies, restrict_vocab: int | None = None) -> list[Result]:
    started = time.perf_counter()
    space = word_space(encoder)
    assert space is not None
    limit = restrict_vocab or DEFAULT_RESTRICT
    lookup = space.lookup(limit)
    unit = space.unit_vectors(limit)
    groups = np.array([lookup[w.upper()] for w in space.words[: len(unit)]], dtype=np.int64)
    rows, kinds, oov = [], [], []
    per_section: dict[str, dict[str, int]] = {}
    for section, questions in dataset.sections:
        kind = "syntactic" if section.startswith("gram") else "semantic"
        counts = per_section.setdefault(section, {"questions": 0, "oov": 0})
        for question in questions:
            counts["questions"] += 1
            found = [lookup.get(w.upper()) for w in question]
            if any(i is None for i in found):
                counts["oov"] += 1
                oov.append(" ".join(question))
                continue
            rows.append(found)
            kinds.append((kind, section))
    if not rows:
        raise EmbedlabError(
            f"{model}: none of the {dataset.info.items} analogy questions has all four words among the first "
            f"{limit} words of the vocabulary; zero usable questions.",
            "use a model with a larger vocabulary, or raise restrict_vocab.",
        )
    questions = np.array(rows, dtype=np.int64)
    metrics: dict[str, float] = {}
    sections_out: dict[str, dict[str, float | int]] = {s: dict(c) for s, c in per_section.items()}
    answers = answer(unit, groups, questions[:, :3])
    for method in METHODS:
        predicted = answers[method]
        correct = groups[predicted] == questions[:, 3]
        for kind in ("semantic", "syntactic"):
            mask = np.array([k == kind for k, _ in kinds])
            if mask.any():
                metrics[f"{method} {kind}"] = float(correct[mask].mean())
        metrics[f"{method} all"] = float(correct.mean())
        for section in per_section:
            mask = np.array([s == section for _, s in kinds])
            sections_out[section][f"{method} correct"] = int(correct[mask].sum())
    return [
        Result(
            "analogy",
            model,
            dataset.info,
            metrics,
            {"questions": dataset.info.items, "used": len(rows), "oov": len(oov)},
            {**encoder.recipe, "words": space.source, "restrict_vocab": limit},
            {"sections": sections_out, "oov_examples": oov[:20]},
            time.perf_counter() - started,
        )
    ]


TASK = Task(
    "analogy",
    WORD,
    "accuracy on the Google analogy set per section (semantic/syntactic), 3CosAdd and 3CosMul",
    ("restrict_vocab",),
    load,
    score,
)
