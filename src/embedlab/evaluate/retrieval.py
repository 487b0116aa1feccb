"""Retrieval: nDCG@10, MRR@10 and recall@k on a BEIR-format folder, searched through an embedlab collection.

A BEIR folder holds `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl` (`_id`, `text`) and
`qrels/<split>.tsv` (header `query-id  corpus-id  score`, integer relevance). The corpus is indexed into
a temporary collection (`Store(tmp).create(...)` + `add_records`) and every query goes through
`Collection.search`. Gains are linear in the relevance grade and a hit whose id equals the query id is
dropped, as in BEIR's `EvaluateRetrieval` (pytrec_eval). Queries without a relevant document are skipped.

Bundled set ("Lee similar documents"): each of Lee's 50 news documents is a query against the other 49;
a document is relevant when the averaged human rating of the pair (Lee, Pincombe & Welsh, 2005) is at
least 0.6 (3 on the 1-5 scale), graded 1/2/3 by the nearest point of that scale (3/4/5), halves
rounded up: 1 for ratings 0.6-0.69, 2 for 0.7-0.89, 3 for 0.9-1.0. 39 documents have at least one
relevant partner. It is built from gensim's test data at run time; `write_beir` saves it as a BEIR folder.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError
from embedlab.evaluate.core import TEXT, DatasetInfo, Result, Task, sha256_files, text_encoder
from embedlab.evaluate.lee import CITATION as LEE_CITATION
from embedlab.evaluate.lee import lee_corpus
from embedlab.io.records import json_objects, line_error
from embedlab.store import Record, Store

NDCG_AT = 10
MRR_AT = 10
LEE_THRESHOLD = 0.6


@dataclass
class RetrievalSet:
    info: DatasetInfo
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _read_jsonl(path: Path, what: str) -> dict[str, str]:
    if not path.is_file():
        raise EmbedlabError(f"{path} does not exist.", "a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/.")
    items: dict[str, str] = {}
    expected = '{"_id": "...", "title": "...", "text": "..."}' if what == "corpus" else '{"_id": "...", "text": "..."}'
    for number, obj in json_objects(path, expected):
        if "_id" not in obj:
            raise line_error(path, number, "has no '_id' field", expected)
        text = obj.get("text")
        if not isinstance(text, str):
            raise line_error(path, number, "field 'text' is missing or not a string", expected)
        title = obj.get("title") or ""
        items[str(obj["_id"])] = f"{title} {text}".strip() if isinstance(title, str) else text
    if not items:
        raise EmbedlabError(f"{path} holds no {what}.", f"expected one JSON object per line: {expected}.")
    return items


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    expected = "a header 'query-id<TAB>corpus-id<TAB>score' then one judgement per line, score an integer"
    if not path.is_file():
        raise EmbedlabError(
            f"{path} does not exist.", "a BEIR folder holds qrels/test.tsv (or pass split=).", param="split"
        )
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for number, fields in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if not fields:
                continue
            if number == 1 and fields[0].strip().lower() in ("query-id", "query_id", "qid"):
                continue
            if len(fields) != 3:
                raise line_error(path, number, f"has {len(fields)} tab-separated fields, not 3", expected)
            try:
                grade = int(fields[2])
            except ValueError:
                raise line_error(path, number, f"field 3 (score) {fields[2]!r} is not an integer", expected) from None
            qrels.setdefault(fields[0].strip(), {})[fields[1].strip()] = grade
    if not qrels:
        raise EmbedlabError(f"{path} holds no judgements.", f"expected {expected}.")
    return qrels


def read_beir(folder: Path, split: str = "test") -> RetrievalSet:
    """Read a BEIR folder; errors name the file, line and field."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise EmbedlabError(f"{folder} is not a folder.", "pass a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).")
    files = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    corpus, queries, qrels = _read_jsonl(files[0], "corpus"), _read_jsonl(files[1], "queries"), _read_qrels(files[2])
    for query, judged in qrels.items():
        if query not in queries:
            raise EmbedlabError(f"{files[2]}: query {query!r} is not in queries.jsonl.", "fix the qrels or queries.")
        missing = [doc for doc in judged if doc not in corpus]
        if missing:
            raise EmbedlabError(
                f"{files[2]}: document {missing[0]!r} (query {query!r}) is not in corpus.jsonl.", "fix the qrels."
            )
    info = DatasetInfo(f"{folder.name} ({split})", str(folder), "user BEIR folder", sha256_files(files), len(qrels))
    return RetrievalSet(info, corpus, queries, qrels)


def lee_grade(rating: float) -> int:
    """The relevance grade of an averaged Lee rating (0..1): the nearest point of the raters' 1-5 scale, halves
    rounded up (not Python's round-half-to-even), minus 2: 0.6 <= r < 0.7 -> 1, 0.7 <= r < 0.9 -> 2, r >= 0.9 -> 3."""
    return math.floor(rating * 5 + 0.5 + 1e-9) - 2


def lee_retrieval() -> RetrievalSet:
    """The bundled set: Lee documents as queries, human-rated similar documents as relevant."""
    lee = lee_corpus()
    ids = [f"lee-{n}" for n in range(1, len(lee.documents) + 1)]
    corpus = dict(zip(ids, lee.documents, strict=True))
    qrels: dict[str, dict[str, int]] = {}
    for i, query in enumerate(ids):
        for j, doc in enumerate(ids):
            rating = lee.ratings[i, j]
            if i != j and rating >= LEE_THRESHOLD - 1e-9:
                qrels.setdefault(query, {})[doc] = lee_grade(rating)
    info = DatasetInfo(
        "Lee similar documents",
        "built from gensim test data (lee.cor, similarities0-1.txt)",
        f"{LEE_CITATION}; relevant = rating >= {LEE_THRESHOLD}",
        lee.info.sha256,
        len(qrels),
    )
    return RetrievalSet(info, corpus, dict(corpus), qrels)


def write_beir(dataset: RetrievalSet, folder: Path, split: str = "test") -> Path:
    """Save a retrieval set as a BEIR folder."""
    folder = Path(folder)
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as handle:
        for key, text in dataset.corpus.items():
            handle.write(json.dumps({"_id": key, "title": "", "text": text}, ensure_ascii=False) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as handle:
        for key, text in dataset.queries.items():
            handle.write(json.dumps({"_id": key, "text": text}, ensure_ascii=False) + "\n")
    with open(folder / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as handle:
        handle.write("query-id\tcorpus-id\tscore\n")
        for query, judged in dataset.qrels.items():
            for doc, grade in judged.items():
                handle.write(f"{query}\t{doc}\t{grade}\n")
    return folder


def load(data: Path | None = None, split: str = "test") -> RetrievalSet:
    return lee_retrieval() if data is None else read_beir(data, split)


def ndcg(ranked: list[str], judged: dict[str, int], at: int = NDCG_AT) -> float:
    """nDCG with linear gains and log2 discounts (pytrec_eval / BEIR)."""
    dcg = sum(judged.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:at]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:at]
    best = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / best if best > 0 else 0.0


def score(encoder: Encoder, model: str, dataset: RetrievalSet, k: int = 100, split: str = "test") -> list[Result]:
    started = time.perf_counter()
    cached = text_encoder(encoder, list(dataset.corpus.values()))
    queries = [q for q, judged in dataset.qrels.items() if any(g > 0 for g in judged.values())]
    depth = min(max(k, NDCG_AT, MRR_AT) + 1, len(dataset.corpus))
    per_query: dict[str, list[float]] = {"ndcg": [], "mrr": [], "recall@10": [], f"recall@{k}": []}
    with tempfile.TemporaryDirectory(prefix="embedlab-eval-") as tmp:
        collection = Store(tmp).create("evaluate", cached)
        records = [Record(key, text, n, {}) for n, (key, text) in enumerate(dataset.corpus.items(), start=1)]
        collection.add_records(lambda: iter(records), total=len(records))
        cached.remember([dataset.queries[q] for q in queries])
        for query in queries:
            hits = [h.id for h in collection.search(dataset.queries[query], k=depth) if h.id != query]
            judged = dataset.qrels[query]
            relevant = {doc for doc, grade in judged.items() if grade > 0}
            first = next((rank for rank, doc in enumerate(hits[:MRR_AT], start=1) if doc in relevant), None)
            per_query["ndcg"].append(ndcg(hits, judged))
            per_query["mrr"].append(1.0 / first if first else 0.0)
            per_query["recall@10"].append(len(relevant & set(hits[:10])) / len(relevant))
            per_query[f"recall@{k}"].append(len(relevant & set(hits[:k])) / len(relevant))
    metrics = {
        f"nDCG@{NDCG_AT}": float(np.mean(per_query["ndcg"])),
        f"MRR@{MRR_AT}": float(np.mean(per_query["mrr"])),
        "recall@10": float(np.mean(per_query["recall@10"])),
        f"recall@{k}": float(np.mean(per_query[f"recall@{k}"])),
    }
    return [
        Result(
            "retrieval",
            model,
            dataset.info,
            metrics,
            {
                "queries": len(queries),
                "documents": len(dataset.corpus),
                "skipped_queries": len(dataset.qrels) - len(queries),
            },
            cached.recipe,
            {"cache": cached.cache_state, "split": split},
            time.perf_counter() - started,
        )
    ]


TASK = Task(
    "retrieval",
    TEXT,
    "nDCG@10, MRR@10, recall@k on a BEIR folder (bundled: Lee similar documents), via collection search",
    ("k", "split"),
    load,
    score,
)
