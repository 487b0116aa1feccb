"""train_classifier on the real Pang & Lee sentiment sentences: learning, saving, reloading, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import EmbedlabError
from embedlab.finetune import TrainingInterrupted, load_head, stratified_split, train_classifier
from embedlab.finetune.training import classification_metrics
from tests.finetune.conftest import margin


def reloaded_test_metrics(path: Path, dataset, encoder, seed: int = 0) -> dict:
    head = load_head(path, encoder)
    rows = stratified_split(dataset.labels, seed).test
    predicted = head.predict([dataset.texts[i] for i in rows])
    return classification_metrics([dataset.labels[i] for i in rows], predicted, head.classes)


@pytest.mark.parametrize("head", ["logreg", "mlp"])
def test_head_learns_and_reloads_the_same(head, sentiment, cached_minilm, tmp_path):
    result = train_classifier(sentiment, tmp_path / head, model="minilm", head=head, encoder=cached_minilm)
    n = result.validation["examples"]
    baseline = result.baseline["accuracy"]
    assert baseline == pytest.approx(0.5)  # 100 pos / 100 neg, stratified
    for part in (result.validation, result.test):
        assert part["accuracy"] > baseline + margin(baseline, n), part
        assert part["macro_f1"] > result.baseline["macro_f1"] + 0.2
    assert np.sum(result.test["confusion"]) == result.split["test"] == 40
    assert reloaded_test_metrics(tmp_path / head, sentiment, cached_minilm) == result.test
    config = json.loads((tmp_path / head / "head.json").read_text())
    assert config["encoder"]["name"] == "minilm" and config["encoder"]["recipe"]["version"].startswith("sha256:")
    assert not list((tmp_path / head).glob("*.pkl")) and not list((tmp_path / head).glob("*.joblib"))


def test_logreg_is_saved_as_arrays_and_predicts_new_text(sentiment, cached_minilm, tmp_path):
    train_classifier(sentiment, tmp_path / "h", encoder=cached_minilm)
    assert {p.name for p in (tmp_path / "h").iterdir()} == {"head.json", "coef.npy", "intercept.npy"}
    head = load_head(tmp_path / "h", cached_minilm)
    assert head.predict(["a gorgeous, moving and funny film", "tedious, silly and far too long"]) == ["pos", "neg"]


def test_changed_recipe_is_refused(sentiment, cached_minilm, tmp_path):
    train_classifier(sentiment, tmp_path / "h", encoder=cached_minilm)
    config_path = tmp_path / "h" / "head.json"
    config = json.loads(config_path.read_text())
    config["encoder"]["recipe"]["pooling"] = "cls"
    config_path.write_text(json.dumps(config))
    with pytest.raises(EmbedlabError, match="not the one this head was trained on: its pooling was 'cls'"):
        load_head(tmp_path / "h", cached_minilm)


def test_ctrl_c_keeps_best_head_so_far(sentiment, cached_minilm, tmp_path):
    def interrupt(epoch: int, epochs: int, info: dict) -> None:
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stop:
        train_classifier(sentiment, tmp_path / "h", head="linear", encoder=cached_minilm, progress=interrupt)
    assert stop.value.path == tmp_path / "h"
    config = json.loads((tmp_path / "h" / "head.json").read_text())
    assert config["interrupted"] is True and config["training"]["epochs_run"] == 3
    assert len(load_head(tmp_path / "h", cached_minilm).predict(["fine"])) == 1


def test_existing_output_is_refused_and_kept(sentiment, cached_minilm, tmp_path):
    out = tmp_path / "h"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(EmbedlabError, match="already exists"):
        train_classifier(sentiment, out, encoder=cached_minilm)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    train_classifier(sentiment, out, encoder=cached_minilm, overwrite=True)
    assert (out / "head.json").is_file() and not (out / "mine.txt").exists()


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        writer.writerows(rows)
    return path


def test_rows_without_label_are_counted_and_skipped(sentiment, cached_minilm, tmp_path):
    labelled = list(zip(sentiment.texts, sentiment.labels, strict=True))
    pairs = labelled[:30] + labelled[-30:]  # 30 neg, 30 pos
    rows = [(t, "" if i % 10 == 0 else y) for i, (t, y) in enumerate(pairs)] + [(" ", "pos")]
    data = write_csv(tmp_path / "reviews.csv", rows)
    result = train_classifier(
        data, tmp_path / "h", label_column="sentiment", text_column="review", encoder=cached_minilm
    )
    assert result.skipped == {"missing_label": 6, "empty_text": 1}
    assert sum(result.split.values()) == 54


def test_one_class_only_is_refused(sentiment, cached_minilm, tmp_path):
    rows = [(t, "pos") for t, y in zip(sentiment.texts, sentiment.labels, strict=True) if y == "pos"]
    data = write_csv(tmp_path / "pos.csv", rows)
    with pytest.raises(EmbedlabError, match="only one class \\('pos'\\)"):
        train_classifier(data, tmp_path / "h", label_column="sentiment", text_column="review", encoder=cached_minilm)
    assert not (tmp_path / "h").exists()


def test_corpus_fitted_models_are_refused(sentiment, tmp_path):
    with pytest.raises(EmbedlabError, match="fitted to a corpus"):
        train_classifier(sentiment, tmp_path / "h", model="tfidf")
    assert not (tmp_path / "h").exists()


def test_not_a_head_folder(tmp_path):
    with pytest.raises(EmbedlabError, match="not a trained head folder"):
        load_head(tmp_path)


def test_fasttext_lines_without_label_are_counted_and_skipped(sentiment, tmp_path):
    from embedlab.finetune.data import read_labelled

    lines = [f"__label__{y} {t}" for t, y in zip(sentiment.texts, sentiment.labels, strict=True)]
    lines = lines[:20] + lines[-20:]  # both classes
    lines[3] = "a line somebody forgot to label"
    lines[7] = "__label__pos"
    path = tmp_path / "reviews.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_labelled(path)
    assert data.skipped == {"missing_label": 1, "empty_text": 1} and len(data.texts) == 38


def test_a_file_with_no_labelled_row_is_refused(tmp_path):
    from embedlab.finetune.data import read_labelled

    path = tmp_path / "unlabelled.txt"
    path.write_text("a review nobody labelled\nanother one\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="2 without label"):
        read_labelled(path)
