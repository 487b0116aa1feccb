"""`embedlab demo`, the main job, end to end."""

from __future__ import annotations

import json


def test_demo_report(demo_store):
    store, report = demo_store
    assert report.ingest["demo-news"].added == 300 and report.ingest["demo-news"].long_texts > 0
    assert len(report.searches) == 9 and all(len(s["results"]) == 3 for s in report.searches)
    cosine = report.similarity["cosine"]
    assert cosine[0][1] > cosine[0][2] and cosine[2][3] > cosine[2][0]  # bread~bread, fire~fire
    assert set(store.names()) == {"demo-news", "demo-landmarks", "demo-movies"}


def test_demo_cli_prints_for_a_newcomer(demo_store, run_cli):
    store, _ = demo_store
    code, out, err = run_cli("demo", "--store", str(store.path))
    assert code == 0, err
    for heading in ("Search", "Recommend", "Similarity matrix", "tutorial examples", "Famous structures in Asia"):
        assert heading in out
    code, out, _ = run_cli("demo", "--store", str(store.path), "--json")
    data = json.loads(out)
    assert [r["id"] for r in data["landmarks"]["results"]] in (["great-wall", "taj-mahal"], ["taj-mahal", "great-wall"])
