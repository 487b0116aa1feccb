"""Word similarity: Spearman (and Pearson) correlation between cosine similarity and human ratings.

Bundled data (gensim's test data): WordSim-353 (Finkelstein et al., 2002) and SimLex-999 (Hill, Reichart
& Korhonen, 2015). Semantics follow gensim's `KeyedVectors.evaluate_word_pairs`: case-insensitive lookup
(most frequent spelling wins), vocabulary restricted to the first `restrict_vocab` words, pairs with an
out-of-vocabulary word left out of the correlation but counted and listed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from embedlab.datasets import gensim_test_data
from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError
from embedlab.evaluate.core import WORD, DatasetInfo, Result, Task, sha256_files
from embedlab.evaluate.wordspace import word_space
from embedlab.io.records import line_error

BUNDLED = {
    "wordsim353.tsv": ("WordSim-353", "Finkelstein et al. (2002), Placing Search in Context; via gensim test data"),
    "simlex999.txt": ("SimLex-999", "Hill, Reichart & Korhonen (2015), SimLex-999; via gensim test data"),
}
FORMAT = "'word1<TAB>word2<TAB>score' per line ('#' lines are comments)"


@dataclass
class WordPairs:
    info: DatasetInfo
    pairs: list[tuple[str, str, float]]


def read_pairs(path: Path, name: str | None = None, citation: str = "user file") -> WordPairs:
    """Parse a word-pair similarity file; errors name the line and field."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(f"dataset file {path} does not exist.", "pass a word-pairs file as data=.", param="data")
    pairs = []
    with open(path, encoding="utf-8", errors="strict") as handle:
        try:
            lines = handle.read().splitlines()
        except UnicodeDecodeError as exc:
            raise EmbedlabError(f"{path} is not UTF-8 text ({exc}).", f"give {FORMAT}.") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise line_error(path, number, f"has {len(fields)} tab-separated fields, not 3", FORMAT)
        try:
            score = float(fields[2])
        except ValueError:
            raise line_error(path, number, f"field 3 (score) {fields[2]!r} is not a number", FORMAT) from None
        pairs.append((fields[0].strip(), fields[1].strip(), score))
    if not pairs:
        raise EmbedlabError(f"{path} holds no word pairs.", f"give {FORMAT}.")
    return WordPairs(DatasetInfo(name or path.name, str(path), citation, sha256_files([path]), len(pairs)), pairs)


def load(data: Path | None = None) -> list[WordPairs]:
    if data is not None:
        return [read_pairs(data)]
    return [read_pairs(gensim_test_data(file), name, citation) for file, (name, citation) in BUNDLED.items()]


def score(encoder: Encoder, model: str, datasets: list[WordPairs], restrict_vocab: int | None = None) -> list[Result]:
    space = word_space(encoder)
    assert space is not None
    lookup = space.lookup(restrict_vocab)
    unit = space.unit_vectors(restrict_vocab)
    results = []
    for dataset in datasets:
        started = time.perf_counter()
        human, left, right, oov = [], [], [], []
        for a, b, value in dataset.pairs:
            ia, ib = lookup.get(a.upper()), lookup.get(b.upper())
            if ia is None or ib is None:
                oov.append(f"{a} {b}")
                continue
            human.append(value)
            left.append(ia)
            right.append(ib)
        if len(human) < 3:
            raise EmbedlabError(
                f"{model}: only {len(human)} of {len(dataset.pairs)} pairs of {dataset.info.name} have both words "
                "in the vocabulary; a correlation needs at least 3.",
                "use a model with a larger vocabulary, or raise restrict_vocab.",
            )
        model_sims = np.einsum("ij,ij->i", unit[left], unit[right]).astype(np.float64)
        spearman = stats.spearmanr(human, model_sims)[0]
        pearson = stats.pearsonr(human, model_sims)[0]
        results.append(
            Result(
                "wordsim",
                model,
                dataset.info,
                {"spearman": float(spearman), "pearson": float(pearson)},
                {"pairs": len(dataset.pairs), "used": len(human), "oov": len(oov)},
                {**encoder.recipe, "words": space.source, "restrict_vocab": restrict_vocab},
                {"oov_pairs": oov},
                time.perf_counter() - started,
            )
        )
    return results


TASK = Task(
    "wordsim",
    WORD,
    "Spearman correlation with human word-similarity ratings (WordSim-353, SimLex-999)",
    ("restrict_vocab",),
    load,
    score,
)
