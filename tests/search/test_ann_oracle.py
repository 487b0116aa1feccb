"""The HNSW index really answers unfiltered semantic search above the threshold, and filtered search gives the
exact filtered ranking.

A planted index whose answers differ from exact search shows which path ran.
"""

from __future__ import annotations

import numpy as np

from embedlab.search.ann import AnnIndex


def test_unfiltered_search_uses_the_index_and_filtered_search_is_exact(store, wordllama, lee_records, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "100")
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
    # filtered search goes through the index's rows too (a mask over them, issue 16): with the real index
    # back, its results equal an exact search over the rows the filter keeps
    news.engine._ann = index
    kept = [str(i) for i in exact_ids if int(str(i).split("-")[1]) % 2 == 0]
    keep = np.isin(exact_ids, kept)
    order = np.argsort(-(vectors[keep] @ query))[:5]
    filtered = [h.id for h in news.search(query, k=5, where="doc % 2 = 0")]
    assert filtered == [str(exact_ids[keep][i]) for i in order]


def test_below_the_threshold_there_is_no_index(store, wordllama, lee_records):
    news = store.create("small", wordllama)
    news.add_records(lambda: iter(lee_records[:50]), 50)
    assert news.engine.fresh_ann() is None and not (store.side("small") / "ann").exists()
