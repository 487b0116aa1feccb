"""Typed errors: callers branch on the class (or `code`), never on the message; the CLI exits 2 for all of them."""

from __future__ import annotations

import pytest

from embedlab import errors, load
from embedlab.errors import (
    AlreadyExistsError,
    EmbedlabError,
    EmptyInputError,
    ModelMismatchError,
    NotFittedError,
    NotFoundError,
    UnsupportedInputError,
)
from embedlab.store import Store, reembed


def test_every_error_is_an_embedlab_error_and_a_value_error() -> None:
    classes = [getattr(errors, name) for name in errors.__all__ if name.endswith("Error")]
    codes = {cls.code for cls in classes}
    assert len(codes) == len(classes)  # one code per class
    assert all(issubclass(cls, EmbedlabError) and issubclass(cls, ValueError) for cls in classes)


def test_the_library_raises_the_right_type(store: Store, wordllama) -> None:
    with pytest.raises(NotFoundError) as missing:
        store.collection("nope")
    assert missing.value.param == "collection"
    news = store.create("news", wordllama)
    news.add(["Bushfires burn near Sydney.", "The bank cut rates."], ids=["fire", "bank"])
    with pytest.raises(NotFoundError):
        news.get("flood")
    with pytest.raises(ModelMismatchError, match="another recipe"):
        store.create("news", "wordllama", dim=64)
    with pytest.raises(AlreadyExistsError):
        reembed(store, "news", "news", "wordllama")
    with pytest.raises(EmptyInputError):
        store.create("empty", wordllama).add([" ", ""])
    with pytest.raises(UnsupportedInputError, match="keyword search needs a text query"):
        news.search(news.vector("fire"), mode="keyword")
    with pytest.raises(NotFittedError):
        load("tfidf").encode(["x"])
    assert news.search("wildfire", k=1)[0].id == "fire"


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (["search", "nope", "x"], "no collection"),
        (["embed", "minilmm", "x"], "unknown model"),
        (["similarity", "tfidf", "a cat", "a dog", "--pooling", "cls"], "does not take these options"),
    ],
)
def test_the_cli_exits_2_with_the_message(run_cli, args: list[str], kind: str) -> None:
    code, out, err = run_cli(*args)
    assert code == 2 and kind in err and "Traceback" not in err and out == ""


def test_a_long_list_is_cut_with_an_ellipsis_and_the_count():
    from embedlab.errors import shorten

    assert shorten(["a", "b"], 3) == "a, b"
    assert shorten([str(i) for i in range(12)], 3) == "0, 1, 2, … (12 in all)"
