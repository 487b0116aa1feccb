"""The transformer encoder against sentence-transformers and transformers themselves."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from embedlab import EmbedlabError, load
from embedlab.encoders import Pooling, TransformerEncoder

SENTENCES = [
    "The Eiffel Tower is in Paris.",
    "A man is eating food.",
    "Bushfires are burning near Sydney.",
]


def test_minilm_matches_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(minilm.folder), device="cpu").encode(SENTENCES, normalize_embeddings=True)
    ours = minilm.encode(SENTENCES)
    assert ours.dtype == np.float32 and ours.shape == (3, 384)
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_recipe_names_model_version_and_pooling(minilm):
    recipe = minilm.recipe
    assert recipe["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert recipe["pooling"] == "mean" and recipe["max_tokens"] == 256 and recipe["long_text"] == "window"
    assert recipe["version"].startswith("sha256:")


@pytest.mark.parametrize("mode", ["cls", "max"])
def test_pooling_modes_follow_their_definition(minilm, mode):
    encoder = load("minilm", pooling=mode)
    assert encoder.recipe["pooling"] == mode
    batch = minilm.tokenizer(SENTENCES[:1], return_tensors="pt")
    with torch.no_grad():
        tokens = minilm.model(**batch).last_hidden_state[0]
    expected = tokens[0] if mode == "cls" else tokens.max(dim=0).values
    got = encoder.encode(SENTENCES[:1], normalize=False)[0]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)


def test_pooling_rejects_unknown_mode():
    with pytest.raises(EmbedlabError, match="mean, cls, max"):
        Pooling("sum")


def test_long_text_is_windowed_and_reported(minilm):
    long_text = " ".join(SENTENCES * 60)  # about 600 tokens, over the 256-token limit
    vectors = minilm.encode([long_text, SENTENCES[0]])
    assert minilm.last_stats["windowed"] == 1 and minilm.last_stats["long_texts"] == 1
    truncating = load("minilm", long_text="truncate")
    cut = truncating.encode([long_text])
    assert truncating.last_stats["truncated"] == 1
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(minilm.folder), device="cpu").encode([long_text], normalize_embeddings=True)
    np.testing.assert_allclose(cut, reference, atol=1e-5)  # truncation is exactly what ST does
    assert not np.allclose(vectors[0], cut[0], atol=1e-3)  # windowing used the rest of the text


def test_windows_cover_every_token(minilm):
    ids = minilm.tokenizer(["word " * 1000], add_special_tokens=False)["input_ids"][0]
    pieces, owner = minilm.windows(["word " * 1000])
    inner = [p[1:-1] for p in pieces]
    assert set(owner) == {0} and all(len(p) <= minilm.max_tokens for p in pieces)
    assert sum(len(p) for p in inner) >= len(ids)
    assert inner[0] == ids[: len(inner[0])] and inner[-1] == ids[-len(inner[-1]) :]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A tiny randomly initialised BERT saved like any local model folder."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "dog", "sat", "on", "mat", "a"]
    (folder / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    return folder


def test_local_folder_loads_with_its_own_settings(tiny_bert):
    encoder = load(str(tiny_bert), pooling="cls")
    assert isinstance(encoder, TransformerEncoder)
    assert encoder.dim == 16 and encoder.max_tokens == 64
    vectors = encoder.encode(["the cat sat on the mat", "a dog"])
    assert vectors.shape == (2, 16) and np.isfinite(vectors).all()
    assert encoder.recipe["model"] == str(tiny_bert.resolve())
    again = load(str(tiny_bert), pooling="cls").encode(["the cat sat on the mat", "a dog"])
    np.testing.assert_array_equal(vectors, again)


def test_pickled_weights_are_refused(tiny_bert, tmp_path):
    import shutil

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_bert, folder)
    (folder / "model.safetensors").unlink()
    torch.save({}, folder / "pytorch_model.bin")
    with pytest.raises(EmbedlabError, match="safetensors"):
        load(str(folder))


def test_hub_id_without_network_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbedlabError, match="local folder"):
        load("embedlab-tests/no-such-model")
