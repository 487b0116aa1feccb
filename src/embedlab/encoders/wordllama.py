"""WordLlama: static token vectors cut from an LLM's embedding table (the `wordllama` package)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from importlib.metadata import version
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders.base import Encoder, text_pieces
from embedlab.errors import EmbedlabError, ModelUnavailableError

CONFIG = "l2_supercat"
# wordllama pads each batch to its longest text and gathers (batch, tokens, dim) floats at once: one
# 50 MB line took 23 GB. Texts over this many characters are averaged piece by piece here instead.
LONG_CHARS = 2_000
# the package ships l2_supercat_256 only; its vectors are trained for truncation (Matryoshka) to 64 and 128.
# WordLlama's 512 and 1024-dim files exist upstream but are not bundled, and nothing is downloaded here.
DIMS = (64, 128, 256)
UPSTREAM_DIMS = (512, 1024)
# Texts are pooled in groups of about this many tokens: the (tokens, dim) float32 block gathered for one
# group stays near 32 MiB at 256-d, however the texts' lengths mix (wordllama pads 64 texts to the longest).
POOL_TOKENS = 32_768


def import_wordllama() -> Any:
    """Import the wordllama package without letting it reconfigure logging.

    wordllama 0.4.0 calls `logging.basicConfig(level=INFO)` on import, which would make every
    library's INFO messages (faiss, httpx ...) appear in the user's terminal or notebook.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import wordllama

    root.handlers[:] = handlers
    root.setLevel(level)
    return wordllama


def wordllama_cache_dir() -> Path:
    """A cache folder whose `tokenizers/` holds the tokenizer config the package ships.

    wordllama 0.4.0 looks for its bundled tokenizer under `wordllama/tokenizer/` (singular) while the
    wheel installs it under `wordllama/tokenizers/`, then falls back to a download. Copying the shipped
    file into the cache folder it checks next makes loading work offline with the package's own file.
    """
    package = Path(import_wordllama().__file__).parent
    from embedlab.io.files import cache_home

    cache = cache_home() / "wordllama"
    (cache / "tokenizers").mkdir(parents=True, exist_ok=True)
    for shipped in (package / "tokenizers").glob("*.json"):
        target = cache / "tokenizers" / shipped.name
        if not target.exists() or target.stat().st_size != shipped.stat().st_size:
            shutil.copyfile(shipped, target)
    return cache


class WordLlamaEncoder(Encoder):
    """Texts as the average of their WordLlama token vectors (no length limit, nothing truncated)."""

    kind = "wordllama"
    modality = "text"
    config_keys = ("dim",)
    word_vectors = True

    def __init__(self, dim: int = 256) -> None:
        super().__init__()
        WordLlama = import_wordllama().WordLlama

        if dim in UPSTREAM_DIMS:
            raise EmbedlabError(
                f"wordllama's {dim}-dim vectors are not bundled: the package ships the 256-dim file only.",
                f"choose one of {DIMS} (64 and 128 are the 256-dim vectors truncated, as WordLlama was trained).",
                param="dim",
            )
        if dim not in DIMS:
            raise EmbedlabError(f"wordllama has no {dim}-dim vectors.", f"choose one of {DIMS}.", param="dim")
        try:
            self.model = WordLlama.load(
                config=CONFIG,
                dim=256,
                trunc_dim=None if dim == 256 else dim,
                cache_dir=wordllama_cache_dir(),
                disable_download=True,
            )
        except FileNotFoundError as exc:
            raise ModelUnavailableError(
                f"wordllama files are missing: {exc}", "reinstall the package: pip install --force-reinstall wordllama"
            ) from exc
        self._dim = int(self.model.embedding.shape[1])
        self.name = "wordllama" if dim == 256 else f"wordllama-{dim}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def spec_name(self) -> str:
        return "wordllama"

    def identity(self) -> dict[str, Any]:
        return {
            "model": f"{CONFIG}_256" + ("" if self._dim == 256 else f" truncated to {self._dim}"),
            "version": f"wordllama {version('wordllama')}",
            "pooling": "mean of token vectors",
            "max_tokens": None,
            "long_text": "all tokens used",
        }

    @property
    def vocabulary(self) -> list[str]:
        """Token strings, in row order of `token_vectors`."""
        vocab = self.model.tokenizer.get_vocab()
        tokens = [""] * len(vocab)
        for token, index in vocab.items():
            if index < len(tokens):
                tokens[index] = token
        return tokens

    @property
    def token_vectors(self) -> np.ndarray:
        """The static embedding table, one row per token."""
        return self.model.embedding

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encode = self.model.tokenizer.encode  # in the calling thread, as `mean_token_vectors` explains
        return [len(encode(text, add_special_tokens=False).ids) for text in texts]

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        empty = sum(1 for t in texts if not t.strip())
        self.last_stats.update(empty_texts=empty)
        short = [i for i, text in enumerate(texts) if len(text) <= LONG_CHARS]
        if len(short) == len(texts):
            return self.mean_token_vectors(texts)
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if short:
            out[short] = self.mean_token_vectors([texts[i] for i in short])
        for i, text in enumerate(texts):
            if len(text) > LONG_CHARS:
                out[i] = self.mean_token_vector(text)
        return out

    def mean_token_vectors(self, texts: list[str]) -> np.ndarray:
        """The mean token vector of each text: what wordllama's `embed(texts, norm=False)` gives (a text
        without tokens gets zeros), computed without its thread pool.

        wordllama tokenizes each batch with `Tokenizer.encode_batch`, which runs on the Rust `tokenizers`
        library's pool of threads. Each of those threads allocates from its own glibc arena, and over a long
        ingest those arenas kept growing: benchmarks/ingest_memory.py (100,000 lines, both in one run) ended
        1.20x above its memory after the first 10% with the pool and 1.05x tokenizing one text at a time
        here, at the same CPU time per item; 1,000,000 lines end 1.18x above (docs/scale.md). `Tokenizer.encode` of one text runs in the calling thread; the tokens of a group
        of texts are then summed with one `np.add.reduceat`, without padding every text to the longest.
        """
        table = self.model.embedding
        encode = self.model.tokenizer.encode
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        start = 0
        while start < len(texts):
            rows: list[list[int]] = []
            tokens = 0
            while start + len(rows) < len(texts) and (not rows or tokens < POOL_TOKENS):
                ids = encode(texts[start + len(rows)], add_special_tokens=False).ids
                rows.append(ids)
                tokens += len(ids)
            lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
            if tokens:
                flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=tokens)
                np.clip(flat, 0, table.shape[0] - 1, out=flat)
                kept = np.flatnonzero(lengths)  # reduceat cannot sum an empty run: texts without tokens stay 0
                firsts = (np.cumsum(lengths) - lengths)[kept]
                sums = np.add.reduceat(table[flat], firsts, axis=0, dtype=np.float32)
                out[start + kept] = sums / lengths[kept, None].astype(np.float32)
            start += len(rows)
        return out

    def mean_token_vector(self, text: str) -> np.ndarray:
        """The mean of a long text's token vectors (what wordllama's `embed` gives), summed piece by piece so
        the memory it takes does not grow with the text."""
        table = self.model.embedding
        total = np.zeros(table.shape[1], dtype=np.float64)
        count = 0
        for piece in text_pieces(text):
            ids = np.asarray(self.model.tokenizer.encode(piece, add_special_tokens=False).ids, dtype=np.int64)
            np.clip(ids, 0, table.shape[0] - 1, out=ids)
            total += table[ids].sum(axis=0, dtype=np.float64)
            count += len(ids)
        return (total / max(count, 1)).astype(np.float32)
