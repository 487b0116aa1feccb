"""Encoders: every model is loaded by name with `embedlab.load(name)` and follows one protocol (`Encoder`).

Names are parsed once, in `embedlab.encoders.spec` (`ModelSpec`): `minilm` (default), `wordllama`, `tfidf`,
`count`, `vectors:PATH`, `word2vec:DIR`, `fasttext:DIR`, `doc2vec:DIR`, `image:DIR`, `clip:DIR`, a local
model folder, or a Hugging Face hub id. New kinds are added with `register(ModelKind(...))`.

The encoder classes are imported on first use, so `import embedlab` loads neither torch nor gensim.
"""

from __future__ import annotations

import importlib
from typing import Any

from embedlab.encoders.base import Encoder, l2_normalize
from embedlab.encoders.spec import (
    MINILM_ID,
    REGISTRY,
    ModelInfo,
    ModelKind,
    ModelSpec,
    get_kind,
    list_models,
    load,
    parse,
    register,
    register_prefix,
)

DEFAULT_MODEL = "minilm"

_LAZY = {
    "CountEncoder": "embedlab.encoders.sparse",
    "SparseEncoder": "embedlab.encoders.sparse",
    "TfidfEncoder": "embedlab.encoders.sparse",
    "StaticVectorsEncoder": "embedlab.encoders.static",
    "Pooling": "embedlab.encoders.transformer",
    "TransformerEncoder": "embedlab.encoders.transformer",
    "WordLlamaEncoder": "embedlab.encoders.wordllama",
    "SavedWordsEncoder": "embedlab.encoders.words",
    "Doc2VecEncoder": "embedlab.encoders.words",
    "ImageEncoder": "embedlab.encoders.image",
    "ClipEncoder": "embedlab.encoders.image",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'embedlab.encoders' has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL",
    "MINILM_ID",
    "REGISTRY",
    "ClipEncoder",
    "CountEncoder",
    "Doc2VecEncoder",
    "Encoder",
    "ImageEncoder",
    "ModelInfo",
    "ModelKind",
    "ModelSpec",
    "Pooling",
    "SavedWordsEncoder",
    "SparseEncoder",
    "StaticVectorsEncoder",
    "TfidfEncoder",
    "TransformerEncoder",
    "WordLlamaEncoder",
    "get_kind",
    "l2_normalize",
    "list_models",
    "load",
    "parse",
    "register",
    "register_prefix",
]
