"""static:DIR (model2vec StaticModel folders) and `embedlab distill`'s checks.

A real distillation takes minutes on 2 cores (benchmarks/encode_throughput.py --static runs one); here the
folder is built with model2vec's own StaticModel from minilm's real tokenizer and input token embeddings.
"""

from __future__ import annotations

import numpy as np
import pytest

from embedlab import load
from embedlab.encoders.spec import parse
from embedlab.errors import AlreadyExistsError, EmbedlabError, NotFoundError


@pytest.fixture(scope="module")
def static_folder(tmp_path_factory, minilm):
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    folder = tmp_path_factory.mktemp("static") / "minilm-tokens"
    tokenizer = Tokenizer.from_file(str(minilm.folder / "tokenizer.json"))
    table = minilm.model.get_input_embeddings().weight.detach().numpy().astype(np.float32)
    StaticModel(table, tokenizer, normalize=True).save_pretrained(str(folder))
    return folder


def test_static_folder_loads_and_encodes(static_folder):
    spec = parse(f"static:{static_folder}")
    assert spec.kind == "static"
    encoder = load(f"static:{static_folder}")
    vectors = encoder.encode(["The fire spread quickly.", "Fires spread fast.", "Interest rates rose.", ""])
    assert vectors.shape == (4, 384) and encoder.dim == 384
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # shared tokens: fire, spread
    assert np.allclose(vectors[3], 0) and encoder.last_stats["empty_texts"] == 1
    long = encoder.encode(["word " * 3000])  # no 512-token cut: every token is averaged
    assert np.isfinite(long).all()
    recipe = encoder.recipe
    assert recipe["encoder"] == "static" and recipe["version"].startswith("sha256:") and recipe["dim"] == 384
    again = load(encoder.spec())
    assert np.allclose(again.encode(["The fire spread quickly."]), vectors[:1])


def test_static_needs_a_model_folder(tmp_path):
    with pytest.raises(NotFoundError):
        load(f"static:{tmp_path}")
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(EmbedlabError, match="could not load"):
        load(f"static:{tmp_path}")


def test_distill_refuses_models_it_cannot_distill_before_working(tmp_path):
    from embedlab.encoders.distilled import distill

    with pytest.raises(EmbedlabError) as info:
        distill("wordllama", tmp_path / "out")
    assert info.value.param == "model"
    with pytest.raises(EmbedlabError) as info:
        distill("minilm", tmp_path / "out", dims=1)
    assert info.value.param == "dims"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("keep me")
    with pytest.raises(AlreadyExistsError):
        distill("minilm", tmp_path / "taken")
    assert (tmp_path / "taken" / "file").read_text() == "keep me"


def test_distill_cli_errors(run_cli, tmp_path):
    code, _, err = run_cli("distill", "tfidf", "-o", str(tmp_path / "x"))
    assert code == 2 and "distill needs a local transformer" in err
