"""The search engine reuses the table's version while the table's `_versions` folder is unchanged; a
commit by another writer (here another Store object, and another process) must still be seen at once."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from embedlab.store import Store


def test_a_commit_by_another_writer_is_seen_by_the_next_search(tmp_path, lee_records, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "50")
    texts = [r.text for r in lee_records]
    reader = Store(tmp_path).create("news", "wordllama")
    reader.add(texts[:100], ids=[f"a{i}" for i in range(100)])
    engine = reader.engine
    assert engine.fresh_ann() is not None and engine.versions_folder.is_dir()
    before = engine.table_version()
    writer = Store(tmp_path).collection("news")
    writer.add([texts[150]], ids=["new"])
    middle = engine.table_version()
    assert middle > before and middle == int(engine.table.version)  # an add commits once or more
    assert engine.fresh_ann().table_version == middle  # the writer's extended index, reloaded
    assert reader.search(texts[150], k=1)[0].id == "new"
    script = (
        "import sys; from embedlab.store import Store\n"
        f"Store({str(tmp_path)!r}).collection('news').add([{texts[160]!r}], ids=['other'])\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert engine.table_version() == int(engine.table.version) > middle
    assert reader.search(texts[160], k=1)[0].id == "other"


def test_without_a_versions_folder_lancedb_is_asked_every_time(tmp_path, lee_records):
    collection = Store(tmp_path).create("news", "wordllama")
    collection.add([r.text for r in lee_records[:20]])
    engine = collection.engine
    engine.versions_folder = tmp_path / "nowhere"
    first = engine.table_version()
    collection.add([lee_records[30].text])
    assert engine.table_version() == int(engine.table.version) > first
    assert np.isfinite(collection.search(lee_records[30].text, k=1)[0].score)
