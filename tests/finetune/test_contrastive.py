"""Contrastive fine-tuning of minilm on Lee news pairs (first sentence -> rest of the story), held-out stories."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.errors import EmbedlabError
from embedlab.finetune import Pairs, TrainingInterrupted, lee_pairs, read_pairs, train_contrastive
from embedlab.finetune.contrastive import holdout_split

# Small enough for a few seconds of training on a 2-core CPU: the top 2 layers, short texts.
WORDS, TRAIN, HELD_OUT = 30, 96, 40


@pytest.fixture(scope="module")
def tuned(minilm, tmp_path_factory):
    train, held = holdout_split(lee_pairs(max_words=WORDS), 0.2, seed=0)
    train, held = train.subset(range(TRAIN)), held.subset(range(HELD_OUT))
    out = tmp_path_factory.mktemp("contrastive") / "minilm-lee"
    result = train_contrastive(
        train, out, model=minilm, heldout=held, batch_size=16, lr=1e-4, max_tokens=48, train_layers=2, seed=0
    )
    return out, result, train, held


def test_held_out_retrieval_improves_on_stories_not_trained_on(tuned):
    _, result, train, held = tuned
    assert not set(train.anchors) & set(held.anchors)
    assert result.after["MRR@10"] > result.before["MRR@10"]
    assert result.after["nDCG@10"] > result.before["nDCG@10"]
    assert result.training["steps_done"] == TRAIN // 16 and result.training["last_loss"] < result.training["first_loss"]


def test_saved_folder_loads_in_embedlab_and_sentence_transformers(tuned, minilm):
    from sentence_transformers import SentenceTransformer

    from embedlab import load

    path, result, _, held = tuned
    texts = held.anchors[:5]
    ours = load(str(path)).encode(texts)
    theirs = SentenceTransformer(str(path), device="cpu").encode(texts)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert not np.allclose(ours, minilm.encode(texts), atol=1e-3)  # the weights did change
    assert (path / "model.safetensors").is_file() and not list(path.glob("*.bin"))
    manifest = json.loads((path / "embedlab_finetune.json").read_text())
    assert manifest["after"] == result.after and manifest["train_pairs"]["count"] == TRAIN


def test_ctrl_c_keeps_last_step(minilm, tmp_path):
    pairs = lee_pairs(max_words=12).subset(range(12))

    def interrupt(step: int, steps: int, info: dict) -> None:
        if step == 1:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stop:
        train_contrastive(pairs, tmp_path / "m", model=minilm, holdout=0.34, batch_size=4, progress=interrupt)
    assert stop.value.path == tmp_path / "m" and "step 1 of 2" in stop.value.detail
    manifest = json.loads((tmp_path / "m" / "embedlab_finetune.json").read_text())
    assert manifest["training"]["interrupted"] is True
    from embedlab import load

    assert load(str(tmp_path / "m")).encode(["a"]).shape == (1, 384)


def test_triplets_with_hard_negatives(minilm, tmp_path):
    stories = lee_pairs(max_words=15).subset(range(10))
    data = tmp_path / "triplets.jsonl"
    with open(data, "w", encoding="utf-8") as handle:
        for i in range(len(stories)):  # hard negative: the next story's text
            row = {"anchor": stories.anchors[i], "positive": stories.positives[i], "negative": stories.positives[i - 1]}
            handle.write(json.dumps(row) + "\n")
    triplets = read_pairs(data)
    assert triplets.negatives == [stories.positives[i - 1] for i in range(10)]
    result = train_contrastive(data, tmp_path / "m", model=minilm, holdout=0.2, batch_size=4, train_layers=1)
    assert result.train_pairs == 8 and result.heldout_pairs == 2 and result.training["steps_done"] == 2
    manifest = json.loads((tmp_path / "m" / "embedlab_finetune.json").read_text())
    assert manifest["train_pairs"]["negatives"] is True


def test_bad_inputs(minilm, wordllama, tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text('anchor,positive\nfirst sentence,"the rest"\nsecond one,  \n', encoding="utf-8")
    with pytest.raises(EmbedlabError, match="line 3: the positive text is empty"):
        read_pairs(pairs)
    with pytest.raises(EmbedlabError, match="cannot be fine-tuned contrastively") as error:
        train_contrastive(lee_pairs(), tmp_path / "m", model=wordllama)
    assert "minilm" in error.value.hint and "train bag" in error.value.hint
    (tmp_path / "m").mkdir()
    with pytest.raises(EmbedlabError, match="already exists"):
        train_contrastive(lee_pairs(), tmp_path / "m", model=minilm)
    with pytest.raises(EmbedlabError, match="1 training and 1 held-out pair"):
        train_contrastive(Pairs(["a"], ["b"]), tmp_path / "n", model=minilm, heldout=Pairs(["a"], ["b"]))
    assert not (tmp_path / "n").exists()
