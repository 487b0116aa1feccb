"""The recipe check that keeps two vector spaces from mixing (embedlab.store.recipe), against recipes written out by
hand: what an old recipe is completed with, which backends count as one forward pass, and what the errors say."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from embedlab.encoders import ModelSpec
from embedlab.encoders.spec import REGISTRY, ModelKind, register
from embedlab.errors import ModelMismatchError
from embedlab.store import recipe as recipes

MINILM = {
    "encoder": "transformer",
    "model_id": "sentence-transformers/all-MiniLM-L6-v2",
    "pooling": "mean",
    "max_tokens": 256,
    "long_text": "window",
    "overlap": 64,
    "backend": "torch",
    "precision": "fp32",
    "dim": 384,
    "normalize": True,
}


def test_vector_recipe_is_the_encoders_recipe_at_unit_length(wordllama):
    stored = recipes.vector_recipe(wordllama)
    assert stored == {"encoder": "wordllama", **wordllama.identity(), "dim": 256, "normalize": True}
    assert stored["normalize"] is True


def test_an_old_minilm_recipe_is_completed_with_the_collections_options_then_the_constructors_defaults():
    # embedlab 0.1.0 wrote the overlap as `window_overlap` and recorded neither pooling nor the backend
    old = {"encoder": "transformer", "model_id": MINILM["model_id"], "dim": 384, "window_overlap": 32}
    spec = ModelSpec("minilm", {"pooling": "cls", "overlap": 32})
    assert recipes.upgrade(old, spec) == {
        "encoder": "transformer",
        "model_id": MINILM["model_id"],
        "dim": 384,  # kept, not replaced by a default
        "pooling": "cls",  # the collection's own option
        "overlap": 32,
        "max_tokens": None,  # TransformerEncoder's defaults for what neither says
        "long_text": "window",
        "backend": "torch",
        "precision": None,
    }
    assert old["window_overlap"] == 32  # the stored recipe itself is not changed


def test_upgrade_keeps_what_the_recipe_already_says_and_never_invents_a_dim():
    stored = {"encoder": "transformer", "pooling": "max", "long_text": "truncate"}
    upgraded = recipes.upgrade(stored, ModelSpec("minilm", {"pooling": "cls"}))
    assert upgraded["pooling"] == "max" and upgraded["long_text"] == "truncate"
    assert "dim" not in upgraded


@dataclass
class _Tuples:
    """A kind whose option default is a tuple: recipes are JSON, so an upgrade writes it as a list."""

    config_keys = ("sizes", "dim")

    def __init__(self, sizes: tuple[int, ...] = (1, 2), dim: int = 7, other: str = "x") -> None:
        self.sizes, self.dim = sizes, dim


@pytest.fixture
def tuple_kind():
    register(ModelKind("oracle-tuples", f"{__name__}:_Tuples", "a test kind"))
    yield ModelSpec("oracle-tuples")
    del REGISTRY["oracle-tuples"]


def test_tuple_options_are_completed_as_lists(tuple_kind):
    assert recipes.upgrade({"encoder": "t"}, tuple_kind) == {"encoder": "t", "sizes": [1, 2]}
    spec = ModelSpec("oracle-tuples", {"sizes": (3, 4, 5)})
    assert recipes.upgrade({}, spec) == {"sizes": [3, 4, 5]}


def test_a_recipe_of_an_unknown_kind_is_returned_as_it_is():
    stored = {"encoder": "gone", "window_overlap": 3}
    spec = ModelSpec("gone-model", kind="no-such-kind")
    assert recipes.upgrade(stored, spec) is stored


@pytest.mark.parametrize(
    ("backend", "precision", "seen_as"),
    [
        ("onnx", "fp32", ("torch", "fp32")),  # the one interchangeable pair
        (None, None, ("torch", "fp32")),  # recipes written before backends existed
        ("torch", None, ("torch", "fp32")),
        (None, "fp32", ("torch", "fp32")),
        ("onnx", "int8", ("onnx", "int8")),  # every other precision is a recipe of its own
        ("torch", "fp16", ("torch", "fp16")),
        ("onnx", None, ("torch", "fp32")),
    ],
)
def test_forward_pass_of_transformer_recipes(backend, precision, seen_as):
    stored = {**MINILM, "backend": backend, "precision": precision}
    if backend is None:
        del stored["backend"]
    assert recipes.forward_pass(stored) == {**MINILM, "backend": seen_as[0], "precision": seen_as[1]}


def test_forward_pass_leaves_other_encoders_alone():
    stored = {"encoder": "wordllama", "dim": 256, "backend": "onnx", "precision": "fp32"}
    assert recipes.forward_pass(stored) is stored
    assert recipes.forward_pass({"dim": 3}) == {"dim": 3}


def test_same_recipes():
    onnx = {**MINILM, "backend": "onnx"}
    int8 = {**MINILM, "backend": "onnx", "precision": "int8"}
    assert recipes.same(MINILM, dict(MINILM))
    assert recipes.same(onnx, MINILM) and recipes.same(MINILM, onnx)
    assert not recipes.same(int8, MINILM)
    assert not recipes.same({**MINILM, "pooling": "cls"}, MINILM)
    wordllama = {"encoder": "wordllama", "dim": 256}
    assert recipes.same(wordllama, {"encoder": "wordllama", "dim": 256})
    assert not recipes.same(wordllama, {"encoder": "wordllama", "dim": 64})


def test_an_old_recipe_is_the_same_only_once_completed_with_its_spec():
    old = {k: v for k, v in MINILM.items() if k not in ("pooling", "backend", "precision")}
    current = {**MINILM, "precision": None}  # what upgrade fills in: TransformerEncoder's default precision
    assert not recipes.same(old, current)  # without the spec nothing says which pooling it used
    assert recipes.same(old, current, ModelSpec("minilm", {"pooling": "mean"}))
    assert not recipes.same(old, current, ModelSpec("minilm", {"pooling": "cls"}))
    # the completed recipe is compared by forward pass too: an old recipe matches an onnx fp32 one
    assert recipes.same(
        old, {**current, "backend": "onnx", "precision": "fp32"}, ModelSpec("minilm", {"pooling": "mean"})
    )


def test_the_mismatch_error_shows_both_recipes_and_the_way_out():
    stored, current = {**MINILM, "pooling": "cls"}, MINILM
    error = recipes.mismatch("news", stored, current, "minilm")
    assert isinstance(error, ModelMismatchError)
    assert error.param == "model"
    text = str(error)
    assert "collection 'news' holds vectors of another recipe" in text
    assert f"  collection: {json.dumps(stored, sort_keys=True)}" in text
    assert f"  requested:  {json.dumps(current, sort_keys=True)}" in text
    assert "add with model=minilm" in text
    assert "reembed(store, 'news', NEW_NAME, MODEL)" in text
    assert "`embedlab reembed news NEW_NAME --model MODEL`" in text


def test_the_changed_model_error_shows_both_recipes_and_the_way_out():
    stored, current = MINILM, {**MINILM, "model_version": "other"}
    error = recipes.changed("news", stored, current)
    assert isinstance(error, ModelMismatchError)
    text = str(error)
    assert "the model of collection 'news' changed since its vectors were made" in text
    assert f"  stored recipe:  {json.dumps(stored, sort_keys=True)}" in text
    assert f"  current recipe: {json.dumps(current, sort_keys=True)}" in text
    assert "rebuild the vectors with reembed(store, 'news', NEW_NAME, MODEL)" in text
    assert "install the model version in the stored recipe" in text


def test_recipes_with_values_json_cannot_write_are_still_shown():
    from pathlib import Path

    # a local model's recipe may hold a Path: the error shows it as text instead of failing to be made
    local = {"encoder": "transformer", "model": Path("/models/mini")}
    for stored, current in ((local, {}), ({}, local), (local, local)):
        for error in (recipes.mismatch("n", stored, current, "m"), recipes.changed("n", stored, current)):
            assert str(error).count('"model": "/models/mini"') == (stored is local) + (current is local)
