"""The main job, end to end, on bundled models and data: what `embedlab demo` (and `make demo`) runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedlab.datasets import landmarks, lee_news, movies
from embedlab.encoders import load
from embedlab.search import SearchResult
from embedlab.store import IngestSummary, Store

NEWS_QUERIES = {
    "semantic": ["wildfires threatening houses", "peace negotiations in the Middle East", "a sports team wins"],
    "keyword": ["Qantas", "bushfire Sydney", "Taliban Kandahar"],
    "hybrid": ["airline staff walk off the job", "bank interest rates", "refugees arriving by boat"],
}
SIMILARITY_TEXTS = [
    "How do I bake bread at home?",
    "What is a good recipe for homemade bread?",
    "Bushfires are burning near Sydney.",
    "Firefighters battle blazes in New South Wales.",
]
LANDMARK_QUERY = "Famous structures in Asia"


@dataclass
class DemoReport:
    """Everything the demo computed, for printing or --json."""

    ingest: dict[str, IngestSummary] = field(default_factory=dict)
    searches: list[dict[str, Any]] = field(default_factory=list)
    recommendation: dict[str, Any] = field(default_factory=dict)
    similarity: dict[str, Any] = field(default_factory=dict)
    landmarks: dict[str, Any] = field(default_factory=dict)
    movies: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def hits(results: list[SearchResult]) -> list[dict[str, Any]]:
            return [r.as_dict() for r in results]

        return {
            "ingest": {name: s.as_dict() for name, s in self.ingest.items()},
            "searches": [{**s, "results": hits(s["results"])} for s in self.searches],
            "recommendation": {**self.recommendation, "results": hits(self.recommendation["results"])},
            "similarity": self.similarity,
            "landmarks": {**self.landmarks, "results": hits(self.landmarks["results"])},
            "movies": {**self.movies, "results": hits(self.movies["results"])},
        }


def run(store: Store, k: int = 3, show_progress: bool = False) -> DemoReport:
    """Index the bundled news corpus with minilm, search it three ways, recommend, compare texts,
    and reproduce the tutorial's landmark search and TF-IDF movie recommendation."""
    report = DemoReport()
    encoder = load("minilm")
    news = store.create("demo-news", encoder)
    records = lee_news()
    report.ingest["demo-news"] = news.add_records(lambda: iter(records), len(records), show_progress)
    for mode, queries in NEWS_QUERIES.items():
        for query in queries:
            report.searches.append({"mode": mode, "query": query, "results": news.search(query, k=k, mode=mode)})
    seed = news.get("lee-1")
    report.recommendation = {"id": seed.id, "text": seed.text, "results": news.similar(seed.id, k=k)}

    vectors = encoder.encode(SIMILARITY_TEXTS)
    report.similarity = {"texts": SIMILARITY_TEXTS, "cosine": (vectors @ vectors.T).round(3).tolist()}

    places = store.create("demo-landmarks", encoder)
    rows = landmarks()
    report.ingest["demo-landmarks"] = places.add_records(lambda: iter(rows), len(rows))
    report.landmarks = {"query": LANDMARK_QUERY, "results": places.search(LANDMARK_QUERY, k=2)}

    films = store.create("demo-movies", "tfidf")
    titles = movies()
    report.ingest["demo-movies"] = films.add_records(lambda: iter(titles), len(titles))
    report.movies = {"id": "dark-knight", "results": films.similar("dark-knight", k=2)}
    return report
