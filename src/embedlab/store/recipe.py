"""The recipe a collection's vectors were made with, and the check that keeps two recipes from mixing.

A stored recipe is the encoder's recipe (model, version, every option, dim) plus `normalize: true`:
collections always store unit-length vectors.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from embedlab.encoders import Encoder, ModelSpec, get_kind
from embedlab.errors import ModelMismatchError

LEGACY_KEYS = ("window_overlap",)  # recipes of embedlab 0.1.0 named the transformer's overlap so


def vector_recipe(encoder: Encoder) -> dict[str, Any]:
    """The recipe of vectors stored by a collection: the encoder's, normalised to unit length."""
    return {**encoder.recipe, "normalize": True}


def upgrade(stored: dict[str, Any], spec: ModelSpec) -> dict[str, Any]:
    """A recipe written by an earlier embedlab, completed with the options it did not record.

    Early recipes did not list every option; the collection's own `model_options` (or, failing that,
    the constructor's default) says what was used, so such collections keep opening.
    """
    try:
        cls = get_kind(spec.kind).cls
    except Exception:  # an unknown kind, or a kind whose class cannot be imported: nothing to complete
        return stored
    upgraded = {k: v for k, v in stored.items() if k not in LEGACY_KEYS}
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    for key in cls.config_keys:
        if key not in upgraded and key != "dim":
            value = spec.options.get(key, defaults.get(key))
            upgraded[key] = list(value) if isinstance(value, tuple) else value
    return upgraded


# Forward passes whose vectors agree within VECTOR_TOLERANCE (cosine >= 1 - 1e-4 on every text, tested on real
# sentences in tests/encoders/test_backends.py): they may add to each other's collections. Every other backend
# or precision (onnx-int8, fp16, bf16) is a recipe of its own, so int8 vectors never mix silently with fp32 ones.
VECTOR_TOLERANCE = 1e-4
INTERCHANGEABLE = {("onnx", "fp32"): ("torch", "fp32")}


def forward_pass(recipe: dict[str, Any]) -> dict[str, Any]:
    """The recipe with its backend and precision replaced by the one they are interchangeable with.

    Recipes written before backends existed have neither key: they were torch, fp32."""
    if recipe.get("encoder") != "transformer":
        return recipe
    key = (recipe.get("backend") or "torch", recipe.get("precision") or "fp32")
    backend, precision = INTERCHANGEABLE.get(key, key)
    return {**recipe, "backend": backend, "precision": precision}


def same(stored: dict[str, Any], current: dict[str, Any], spec: ModelSpec | None = None) -> bool:
    """Whether two recipes describe the same vectors (an old stored recipe is completed first).

    Backends whose vectors agree within VECTOR_TOLERANCE count as the same (torch and onnx, both fp32)."""
    if stored == current or forward_pass(stored) == forward_pass(current):
        return True
    return spec is not None and forward_pass(upgrade(stored, spec)) == forward_pass(current)


def mismatch(name: str, stored: dict[str, Any], current: dict[str, Any], model: str) -> ModelMismatchError:
    """The error for adding vectors of another recipe to collection `name`."""
    return ModelMismatchError(
        f"collection {name!r} holds vectors of another recipe; adding these would mix two spaces.\n"
        f"  collection: {json.dumps(stored, sort_keys=True, default=str)}\n"
        f"  requested:  {json.dumps(current, sort_keys=True, default=str)}",
        f"add with model={model}, or build a new collection with reembed(store, {name!r}, NEW_NAME, MODEL) "
        f"(`embedlab reembed {name} NEW_NAME --model MODEL`).",
        param="model",
    )


def changed(name: str, stored: dict[str, Any], current: dict[str, Any]) -> ModelMismatchError:
    """The error for a model that changed since a collection's vectors were made."""
    return ModelMismatchError(
        f"the model of collection {name!r} changed since its vectors were made.\n"
        f"  stored recipe:  {json.dumps(stored, sort_keys=True, default=str)}\n"
        f"  current recipe: {json.dumps(current, sort_keys=True, default=str)}",
        f"rebuild the vectors with reembed(store, {name!r}, NEW_NAME, MODEL) "
        f"(`embedlab reembed {name} NEW_NAME --model MODEL`), or install the model version in the stored recipe.",
    )
