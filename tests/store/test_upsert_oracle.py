"""Upserts: a changed text replaces its row (no duplicate id) and only changed or new texts are embedded."""

from __future__ import annotations

import numpy as np


class Counting:
    """Wraps an encoder's encode to record every text it embeds."""

    def __init__(self, encoder, monkeypatch):
        self.seen: list[str] = []
        original = encoder.encode

        def encode(items, *args, **kwargs):
            self.seen.extend(items)
            return original(items, *args, **kwargs)

        monkeypatch.setattr(encoder, "encode", encode)


def test_changed_text_replaces_the_row_and_unchanged_texts_are_not_embedded(store, wordllama, monkeypatch):
    news = store.create("news", wordllama)
    news.add(["Bushfires burn near Sydney.", "The bank cut rates.", "Cricket in Perth."], ids=["a", "b", "c"])
    spy = Counting(wordllama, monkeypatch)
    summary = news.add(
        ["Bushfires burn near Sydney.", "Floods hit Brisbane.", "Cricket in Perth.", "New item."],
        ids=["a", "b", "c", "d"],
    )
    assert spy.seen == ["Floods hit Brisbane.", "New item."]  # exactly the changed and the new texts
    assert (summary.added, summary.updated, summary.unchanged, summary.total) == (1, 1, 2, 4)
    ids, vectors = news.vectors()
    assert sorted(ids.tolist()) == ["a", "b", "c", "d"]  # no duplicate id
    row = {str(i): v for i, v in zip(ids, vectors, strict=True)}
    np.testing.assert_allclose(row["b"], wordllama.encode(["Floods hit Brisbane."])[0], atol=1e-6)
    assert news.get("b").text == "Floods hit Brisbane."
    assert news.search("floods in Brisbane", k=1)[0].id == "b"
