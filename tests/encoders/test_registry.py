from __future__ import annotations

import pytest

from embedlab import EmbedlabError, list_models, load


def test_unknown_model_lists_close_names():
    with pytest.raises(EmbedlabError) as caught:
        load("minilmm")
    assert "Did you mean: minilm" in caught.value.message
    assert "embedlab models" in caught.value.hint


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_model_name(name):
    with pytest.raises(EmbedlabError, match="empty"):
        load(name)


def test_missing_path_is_not_a_model(tmp_path):
    with pytest.raises(EmbedlabError, match="not a model folder"):
        load(str(tmp_path / "nothing-here"))


def test_prefix_without_path():
    with pytest.raises(EmbedlabError, match="vectors:PATH"):
        load("vectors:")


def test_list_models_marks_offline_models():
    rows = {m.name: m for m in list_models()}
    assert rows["minilm"].dim == 384 and rows["minilm"].offline
    assert rows["wordllama"].dim == 256
    assert not rows["ORG/NAME"].offline


def test_wrong_option_is_a_clear_error():
    with pytest.raises(EmbedlabError, match="does not take these options"):
        load("tfidf", pooling="mean")
