"""The Encoder protocol every model in embedlab follows.

An encoder turns items into a float32 array of shape (n, dim). What it can take is declared, not
guessed: `modality` is "text", "image" or "text+image" (`supports_text` / `supports_images` read it).
What it was built with is declared once in `config_keys` (as sentence-transformers modules do):
`config` reads those attributes, `spec()` is the `ModelSpec` that builds the same encoder again, and
`recipe` records them next to the model's identity (name, weights hash, dim).

Encoders that learn from a corpus (count, tfidf) set `requires_fit`; as in scikit-learn, `fit(texts)`
returns the encoder, and using it before `fit` raises `NotFittedError`. For every other encoder `fit`
is a no-op that returns self, so callers write `if not encoder.fitted: encoder.fit(texts)` without
asking what kind of model they hold.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from embedlab.errors import EmbedlabError, NotFittedError, UnsupportedInputError
from embedlab.io.files import file_sha256

if TYPE_CHECKING:
    from embedlab.encoders.spec import ModelSpec

MODALITIES = ("text", "image", "text+image")
WORD = re.compile(r"\w+|[^\w\s]")

__all__ = ["MODALITIES", "Encoder", "batched", "file_sha256", "l2_normalize", "text_pieces", "validate_texts"]

# Texts longer than this many characters are embedded piece by piece (`text_pieces`), so the memory one
# text costs stays bounded (a few MB) whatever its length; shorter texts take each encoder's normal path.
LONG_CHARS = 20_000
PIECE_CHARS = 10_000


class Encoder(ABC):
    """Turns items (texts, words, images ...) into a float32 array of shape (n, dim).

    Subclasses set `kind` (the registry name), `modality` and `config_keys`, and implement `dim`,
    `identity` and `_encode`. After each `encode` call `last_stats` says what happened to the inputs
    (long texts split into windows, out-of-vocabulary words, empty texts ...).
    """

    name: str = "encoder"
    kind: ClassVar[str] = "encoder"
    modality: ClassVar[str] = "text"
    config_keys: ClassVar[tuple[str, ...]] = ()
    requires_fit: ClassVar[bool] = False
    word_vectors: ClassVar[bool] = False  # a text's vector is built from static per-word vectors
    # trained so that the first d values of a vector are a good d-dim vector (Matryoshka); only such
    # models may be asked for fewer `dimensions` (the server refuses it for every other model)
    truncatable_dims: ClassVar[bool] = False
    sizes_batches: ClassVar[bool] = False  # `_encode` takes batch_size=None and sizes batches itself
    default_batch_size: ClassVar[int] = 32

    def __init__(self) -> None:
        self.last_stats: dict[str, Any] = {}
        self._fitted = not self.requires_fit

    # ---- capabilities --------------------------------------------------------------------
    @property
    def supports_text(self) -> bool:
        return self.modality in ("text", "text+image")

    @property
    def supports_images(self) -> bool:
        return self.modality in ("image", "text+image")

    # ---- fitting ---------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        """False only for an encoder that must learn from a corpus and has not yet."""
        return self._fitted

    def fit(self, texts: Iterable[str]) -> Encoder:
        """Learn what the encoder needs from a corpus; returns self. A no-op for pretrained models."""
        return self

    def check_fitted(self) -> None:
        if not self.fitted:
            raise NotFittedError(
                f"the {self.name} encoder has not been fitted.",
                "call .fit(texts) on a corpus first (a collection fits it on the items it indexes).",
            )

    # ---- identity, options, recipe ----------------------------------------------------------
    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of each vector."""

    @property
    def spec_name(self) -> str:
        """The name `embedlab.load` takes to build this encoder again (absolute paths for local files)."""
        return self.name

    @property
    def config(self) -> dict[str, Any]:
        """The options this encoder was built with: the attributes named in `config_keys`."""
        return {key: getattr(self, key) for key in self.config_keys}

    def spec(self) -> ModelSpec:
        """The name and options that build this encoder again with `embedlab.load`."""
        from embedlab.encoders.spec import ModelSpec

        try:
            return ModelSpec(self.spec_name, self.config)
        except EmbedlabError:  # an encoder that exists only in memory (e.g. one being fine-tuned)
            return ModelSpec(self.spec_name, self.config, kind="unsaved")

    def load_spec(self) -> tuple[str, dict[str, Any]]:
        """`spec()` as a (name, options) pair."""
        spec = self.spec()
        return spec.name, dict(spec.options)

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What the vectors depend on besides the options: model id, weights version, and any fixed facts."""

    @property
    def recipe(self) -> dict[str, Any]:
        """Everything needed to make the same vectors again: the model, its version, every option, the dim."""
        self.check_fitted()
        return {"encoder": self.kind, **self.identity(), **self.config, "dim": self.dim}

    # ---- encoding -----------------------------------------------------------------------------
    @abstractmethod
    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        """Encode validated texts into a raw (unnormalised) float32 array (batch_size None: see `sizes_batches`)."""

    def encode(
        self,
        items: str | Sequence[str],
        batch_size: int | None = None,
        normalize: bool = True,
        show_progress: bool = False,
    ) -> np.ndarray:
        """Embed `items`; returns float32 of shape (n, dim), unit length rows when `normalize`.

        Without `batch_size`, encoders that size their own batches (`sizes_batches`, e.g. transformers by a
        token budget) do so; the others use `default_batch_size` (32).
        """
        texts = validate_texts(items)
        if not self.supports_text:
            raise UnsupportedInputError(
                f"model {self.name} embeds images only; it cannot embed text.",
                "pass images (pathlib.Path, bytes or PIL images), or use a model that embeds text.",
            )
        if batch_size is None and not self.sizes_batches:
            batch_size = self.default_batch_size
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise EmbedlabError(f"batch_size must be at least 1, got {batch_size}.", param="batch_size")
        self.check_fitted()
        self.last_stats = {"items": len(texts)}
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._encode(texts, batch_size, show_progress), dtype=np.float32)  # type: ignore[arg-type]
        return l2_normalize(vectors) if normalize else vectors

    # ---- tokens ---------------------------------------------------------------------------------
    @property
    def token_limit(self) -> int | None:
        """The most tokens one text may have before the long-text policy applies (None: no limit)."""
        return None

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens in each text as the model counts them (special tokens not counted); words for
        models without a tokenizer."""
        return [len(WORD.findall(text)) for text in texts]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, modality={self.modality!r})"


def validate_texts(items: str | Sequence[str]) -> list[str]:
    """Accept one string or a sequence of strings; refuse anything else with a clear message."""
    if isinstance(items, str):
        return [items]
    if isinstance(items, np.ndarray):
        items = items.tolist()
    if not isinstance(items, Sequence):
        raise EmbedlabError(
            f"expected a string or a list of strings, got {type(items).__name__}.",
            "pass e.g. encoder.encode(['first text', 'second text']).",
        )
    texts = list(items)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise EmbedlabError(
                f"item {i} is a {type(text).__name__}, not a string.", "convert every item to str first."
            )
    return texts


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length; all-zero rows stay zero (no NaN)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def text_pieces(text: str, size: int = PIECE_CHARS) -> Iterator[str]:
    """Consecutive pieces of about `size` characters that together are `text`, each cut where a run of
    whitespace starts, so that word tokenizers (BERT WordPiece, byte-level BPE, regex word splitters) give
    the same tokens piece by piece as for the whole text. A stretch of 1,000 characters without whitespace
    is cut where it is (rare outside of binary junk; a token may then split in two)."""
    start, end = 0, len(text)
    while start < end:
        stop = min(start + size, end)
        if stop < end:
            cut, floor = stop, max(start, stop - 1000)
            while cut > floor and not (text[cut].isspace() and not text[cut - 1].isspace()):
                cut -= 1
            stop = cut if cut > floor else stop
        yield text[start:stop]
        start = stop


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
