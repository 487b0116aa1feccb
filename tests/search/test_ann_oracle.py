"""The HNSW index really answers unfiltered semantic search above the threshold, and never filtered search.

A planted index whose answers differ from exact search shows which path ran.
"""

from __future__ import annotations

import numpy as np

from embedlab.search import engine as engine_module
from embedlab.search.ann import AnnIndex


def test_unfiltered_search_uses_the_index_and_filtered_search_does_not(store, wordllama, lee_records, monkeypatch):
    monkeypatch.setattr(engine_module, "ANN_THRESHOLD", 100)
    news = store.create("news", wordllama)
    news.add_records(lambda: iter(lee_records), len(lee_records))
    index = news.engine.fresh_ann()
    assert index is not None
    query = wordllama.encode(["bushfires near Sydney"])[0]
    exact_ids, vectors = news.vectors()
    exact = [str(exact_ids[i]) for i in np.argsort(-(vectors @ query))[:5]]

    # plant: the same graph, but every row labelled with the id of another item
    planted = np.roll(index.ids, 7)
    news.engine._ann = AnnIndex(index.index, planted, index.table_version)
    rows = {str(i): r for r, i in enumerate(index.ids)}
    expected_planted = [str(planted[rows[i]]) for i in exact]
    assert [h.id for h in news.search(query, k=5)] == expected_planted  # the index answered
    assert [h.id for h in news.search(query, k=5, where="doc > 0")] == exact  # filtered: exact, not the index


def test_below_the_threshold_there_is_no_index(store, wordllama, lee_records):
    news = store.create("small", wordllama)
    news.add_records(lambda: iter(lee_records[:50]), 50)
    assert news.engine.fresh_ann() is None and not (store.side("small") / "ann").exists()
