"""train_bag: an nn.Embedding layer from WordLlama vectors or random, frozen or fine-tuned, on Pang & Lee."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from embedlab.errors import EmbedlabError
from embedlab.finetune import TrainingInterrupted, load_head, stratified_split, train_bag
from embedlab.finetune.bag import build_vocabulary, pretrained_rows
from embedlab.finetune.training import classification_metrics
from tests.finetune.conftest import margin


@pytest.fixture(scope="module")
def frozen_bag(sentiment, tmp_path_factory):
    out = tmp_path_factory.mktemp("bag") / "frozen"
    return out, train_bag(sentiment, out, init="wordllama", freeze=True, seed=1, compare=True)


def test_bag_learns_above_majority(frozen_bag):
    _, result = frozen_bag
    held_out = (
        result.validation["accuracy"] * result.split["validation"] + result.test["accuracy"] * result.split["test"]
    )
    n = result.split["validation"] + result.split["test"]
    baseline = result.baseline["accuracy"]
    assert held_out / n > baseline + margin(baseline, n), (result.validation, result.test)


def test_frozen_keeps_vectors_and_compare_reports_three_setups(frozen_bag, sentiment):
    path, result = frozen_bag
    assert set(result.details["comparison"]) == {
        "wordllama, frozen",
        "wordllama, fine-tuned",
        "random init, trained",
    }
    vocabulary = json.loads((path / "vocabulary.json").read_text())["words"]
    assert vocabulary[0] == "<pad>" and len(vocabulary) - 1 == result.details["vocabulary"]
    table, info = pretrained_rows("wordllama", vocabulary, seed=1)
    assert info["words_found"] == len(vocabulary) - 1
    saved = load_file(str(path / "bag.safetensors"))["embedding.weight"]
    np.testing.assert_array_equal(saved, table)  # --freeze: the pretrained rows are unchanged


def test_bag_reloads_and_predicts_the_same(frozen_bag, sentiment):
    path, result = frozen_bag
    head = load_head(path)
    rows = stratified_split(sentiment.labels, seed=1).test
    predicted = head.predict([sentiment.texts[i] for i in rows])
    assert classification_metrics([sentiment.labels[i] for i in rows], predicted, head.classes) == result.test


def test_fine_tuning_changes_the_vectors_and_ctrl_c_keeps_a_checkpoint(sentiment, tmp_path):
    def interrupt(epoch: int, epochs: int, info: dict) -> None:
        if epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stop:
        train_bag(sentiment, tmp_path / "b", init="wordllama", progress=interrupt)
    assert "saved to" in str(stop.value) and stop.value.path == tmp_path / "b"
    config = json.loads((tmp_path / "b" / "head.json").read_text())
    assert config["interrupted"] is True and config["training"]["epochs_run"] == 4
    vocabulary = json.loads((tmp_path / "b" / "vocabulary.json").read_text())["words"]
    table, _ = pretrained_rows("wordllama", vocabulary, seed=0)
    saved = load_file(str(tmp_path / "b" / "bag.safetensors"))["embedding.weight"]
    assert not np.allclose(saved, table)  # trained end to end
    # the reloaded head reproduces the test accuracy recorded when it was saved (same seeded split)
    split = stratified_split(sentiment.labels, seed=0)
    predicted = load_head(tmp_path / "b").predict([sentiment.texts[i] for i in split.test])
    accuracy = np.mean([p == sentiment.labels[i] for p, i in zip(predicted, split.test, strict=True)])
    assert accuracy == pytest.approx(config["test"]["accuracy"])


def test_vocabulary_and_bad_inputs(sentiment, tmp_path):
    assert build_vocabulary(["the cat", "The dog the"])[:2] == ["<pad>", "the"]
    with pytest.raises(EmbedlabError, match="freeze needs pretrained vectors"):
        train_bag(sentiment, tmp_path / "b", freeze=True)
    with pytest.raises(EmbedlabError, match="no static word vectors"):
        train_bag(sentiment, tmp_path / "b", init="tfidf")
    assert not (tmp_path / "b").exists()
