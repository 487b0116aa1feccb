"""The one model-name parser: every form the README and docs use, the registry, and option checking."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embedlab import EmbedlabError, load
from embedlab.encoders import REGISTRY, Encoder, ModelKind, ModelSpec, list_models, parse, register
from embedlab.encoders.spec import ALIASES
from embedlab.errors import NotFoundError


@pytest.mark.parametrize(
    ("name", "kind", "path"),
    [
        ("minilm", "minilm", None),
        ("all-MiniLM-L6-v2", "minilm", None),
        ("sentence-transformers/all-MiniLM-L6-v2", "minilm", None),
        ("wordllama", "wordllama", None),
        ("wordllama-256", "wordllama", None),
        ("tfidf", "tfidf", None),
        ("count", "count", None),
        ("vectors:glove.txt", "vectors", "glove.txt"),
        ("vectors:PATH", "vectors", "PATH"),
        ("word2vec:models/lee-w2v", "word2vec", "models/lee-w2v"),
        ("fasttext:models/lee-ft", "fasttext", "models/lee-ft"),
        ("doc2vec:models/lee-d2v", "doc2vec", "models/lee-d2v"),
        ("clip:models/clip", "clip", "models/clip"),
        ("clip:~/models/clip-b32", "clip", "~/models/clip-b32"),
        ("image:DIR", "image", "DIR"),
        ("  minilm  ", "minilm", None),
        ("sentence-transformers/all-mpnet-base-v2", "hub", "sentence-transformers/all-mpnet-base-v2"),
        ("openai/clip-vit-base-patch32", "hub", "openai/clip-vit-base-patch32"),
    ],
)
def test_every_documented_form(name: str, kind: str, path: str | None) -> None:
    spec = parse(name)
    assert (spec.kind, spec.path, spec.name) == (kind, path, name.strip())


def test_local_folders_and_files(tmp_path: Path) -> None:
    bert = tmp_path / "bert"
    bert.mkdir()
    trained = tmp_path / "trained"
    trained.mkdir()
    (trained / "embedlab-model.json").write_text(json.dumps({"kind": "doc2vec"}), encoding="utf-8")
    vectors = tmp_path / "glove.txt"
    vectors.write_text("king 0.1 0.2\n", encoding="utf-8")
    assert parse(str(bert)).kind == "folder"
    assert parse(str(trained)).kind == "doc2vec"  # a folder saved by `embedlab train` is recognised by its manifest
    assert parse(str(vectors)).kind == "file" and parse(str(vectors)).word_vectors
    assert not parse(str(bert)).word_vectors and parse("fasttext:x").word_vectors and parse("wordllama").word_vectors
    with pytest.raises(EmbedlabError, match="is not a model folder"):
        load(str(vectors))  # a vectors file is not a sentence encoder: the hint says vectors:PATH
    with pytest.raises(NotFoundError, match="does not exist"):
        parse(str(tmp_path / "missing"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("vectors:", "write it as vectors:PATH"),
        ("word2vec:", "write it as word2vec:DIR"),
        ("vectors", "write it as vectors:PATH"),
        ("minilmm", "Did you mean: minilm"),
        ("./nothing-here", "does not exist"),
        ("two words", "unknown model"),
    ],
)
def test_names_that_can_never_load(name: str, message: str) -> None:
    with pytest.raises(EmbedlabError, match=message):
        parse(name)


def test_a_spec_round_trips_and_rebuilds_the_same_encoder() -> None:
    encoder = load("wordllama", dim=64)
    spec = encoder.spec()
    assert spec == ModelSpec("wordllama", {"dim": 64}) and ModelSpec.from_dict(spec.to_dict()) == spec
    again = spec.load()
    assert again.recipe == encoder.recipe and again.dim == 64
    np.testing.assert_array_equal(again.encode(["a cat"]), encoder.encode(["a cat"]))


def test_options_are_checked_by_name_before_construction() -> None:
    with pytest.raises(EmbedlabError, match="does not take these options: pooling") as caught:
        load("tfidf", pooling="mean")
    assert "lowercase" in caught.value.hint and caught.value.param == "pooling"


class Broken(Encoder):
    """An encoder whose constructor has a bug: the TypeError must reach the caller as it is."""

    kind = "broken"
    config_keys = ("size",)

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        len(size)  # type: ignore[arg-type]  # TypeError: object of type 'int' has no len()

    @property
    def dim(self) -> int:
        return 1

    def identity(self) -> dict:
        return {}

    def _encode(self, texts, batch_size, show_progress):
        return np.ones((len(texts), 1))


class Ones(Broken):
    kind = "ones"

    def __init__(self, size: int = 1) -> None:
        Encoder.__init__(self)
        self.size = size
        self.name = "ones"


@pytest.fixture
def registered():
    added = []

    def add(kind: ModelKind) -> ModelKind:
        added.append(kind.name)
        return register(kind)

    yield add
    for name in added:
        REGISTRY.pop(name, None)
        for alias in [a for a, n in ALIASES.items() if n == name]:
            ALIASES.pop(alias)


def test_a_type_error_inside_a_constructor_is_not_relabelled(registered) -> None:
    registered(ModelKind("broken", f"{__name__}:Broken", "a test kind"))
    with pytest.raises(TypeError, match="has no len"):
        load("broken")


def test_registered_kinds_load_and_are_listed(registered) -> None:
    registered(ModelKind("ones", f"{__name__}:Ones", "all-ones vectors", dim=1, aliases=("uno",)))
    rows = {m.name: m for m in list_models()}
    assert rows["ones"].options == ("size",) and rows["ones"].description == "all-ones vectors"
    encoder = load("uno", size=3)
    assert encoder.recipe == {"encoder": "ones", "size": 3, "dim": 1} and encoder.spec() == ModelSpec(
        "ones", {"size": 3}
    )


def test_list_models_is_the_registry() -> None:
    rows = [m.name for m in list_models()]
    assert rows == [kind.listed_as or kind.name for kind in REGISTRY.values()]
    assert {"minilm", "vectors:PATH", "word2vec:DIR", "clip:DIR", "DIR", "ORG/NAME"} <= set(rows)
    options = {m.name: m.options for m in list_models()}
    assert options["minilm"] == (
        "pooling",
        "max_tokens",
        "long_text",
        "overlap",
        "backend",
        "precision",
        "device",
        "batch_tokens",
    )
    assert options["vectors:PATH"] == ("weighting", "lowercase", "sif_a")


def test_every_option_of_every_kind_is_a_constructor_parameter() -> None:
    from embedlab.encoders.spec import _signature_check

    _signature_check()
