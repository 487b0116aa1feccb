"""Saved word models as collection encoders: the collection reopens them by absolute path."""

from __future__ import annotations

from pathlib import Path

from embedlab import load
from embedlab.store import Store


def test_word2vec_and_doc2vec_collections_reopen(tmp_path, w2v_dir: Path, d2v_dir: Path, lee_records, monkeypatch):
    store = Store(tmp_path / "store")
    for name, spec in (("w", f"word2vec:{w2v_dir}"), ("d", f"doc2vec:{d2v_dir}")):
        store.create(name, load(spec)).add_records(lambda: iter(lee_records[:20]), 20)
    monkeypatch.chdir(tmp_path)  # a relative folder name would no longer resolve
    for name in ("w", "d"):
        reopened = Store(tmp_path / "store").collection(name)
        assert reopened.config["model"].split(":", 1)[1] == str((w2v_dir if name == "w" else d2v_dir).resolve())
        assert reopened.similar("lee-1", k=3)
