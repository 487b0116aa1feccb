"""Document similarity: Pearson and Spearman correlation between cosine similarity and the human ratings
of the 1,225 pairs of Lee's 50 news documents. Works for every text encoder; count/tfidf are fitted on
the 50 documents themselves."""

from __future__ import annotations

import time
from pathlib import Path

from scipy import stats

from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError
from embedlab.evaluate.core import TEXT, Result, Task, cosine_pairs, text_encoder
from embedlab.evaluate.lee import LeeCorpus, lee_corpus


def load(data: Path | None = None) -> LeeCorpus:
    if data is not None:
        raise EmbedlabError(
            "docsim runs on the Lee corpus that ships with gensim; it takes no data file.",
            "for your own scored sentence or document pairs use the sts task with data=FILE.",
        )
    return lee_corpus()


def score(encoder: Encoder, model: str, dataset: LeeCorpus) -> list[Result]:
    started = time.perf_counter()
    cached = text_encoder(encoder, dataset.documents)
    vectors = cached.encode(dataset.documents)
    left, right, human = dataset.pairs()
    sims = cosine_pairs(vectors, left, right)
    return [
        Result(
            "docsim",
            model,
            dataset.info,
            {"pearson": float(stats.pearsonr(human, sims)[0]), "spearman": float(stats.spearmanr(human, sims)[0])},
            {"pairs": len(human), "documents": len(dataset.documents)},
            cached.recipe,
            {"cache": cached.cache_state},
            time.perf_counter() - started,
        )
    ]


TASK = Task(
    "docsim",
    TEXT,
    "Pearson/Spearman with human ratings of Lee's 50 news documents (1,225 pairs)",
    (),
    load,
    score,
)
