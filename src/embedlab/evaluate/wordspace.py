"""A word model's vocabulary and vectors, whatever encoder holds them.

Word tasks (wordsim, analogy) need a static word model: a list of words in frequency order and one
vector per word. This adapter gets them from

- `wordllama`: its SentencePiece vocabulary; a word is in the vocabulary when it is one whole-word
  token (`'▁king'` gives `king`); token ids follow the tokenizer's merge order, most frequent first;
- `vectors:PATH` and any encoder exposing gensim `KeyedVectors` as `.vectors`, `.keyed_vectors` or
  `.wv` (so the word2vec / fastText models of the words lab work as they are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedlab.encoders.base import Encoder

WHOLE_WORD = re.compile(r"^▁([^\W_](?:[\w'-]*[^\W_])?)$")


@dataclass
class WordSpace:
    """Words in frequency order and their vectors (row i belongs to words[i])."""

    words: list[str]
    vectors: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.words)

    def lookup(self, restrict_vocab: int | None = None, case_insensitive: bool = True) -> dict[str, int]:
        """Word -> row among the first `restrict_vocab` words; upper-cased keys when case-insensitive,
        the most frequent spelling winning (gensim's `evaluate_word_*` semantics)."""
        limit = len(self.words) if restrict_vocab is None else min(restrict_vocab, len(self.words))
        table: dict[str, int] = {}
        for row in range(limit):
            key = self.words[row].upper() if case_insensitive else self.words[row]
            table.setdefault(key, row)
        return table

    def unit_vectors(self, restrict_vocab: int | None = None) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero), float32."""
        block = np.asarray(self.vectors[:restrict_vocab], dtype=np.float32)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        return block / np.where(norms == 0, 1.0, norms)


def keyed_vectors_of(encoder: Any) -> Any | None:
    """The gensim KeyedVectors an encoder exposes, if any."""
    from gensim.models import KeyedVectors

    for attribute in ("keyed_vectors", "vectors", "wv"):
        value = getattr(encoder, attribute, None)
        if isinstance(value, KeyedVectors):
            return value
    return None


def word_space(encoder: Encoder) -> WordSpace | None:
    """The encoder's words and vectors, or None when it has no word vocabulary (e.g. minilm, tfidf)."""
    from embedlab.encoders.wordllama import WordLlamaEncoder

    if isinstance(encoder, WordLlamaEncoder):
        rows, words = [], []
        for row, token in enumerate(encoder.vocabulary):
            match = WHOLE_WORD.match(token)
            if match:
                rows.append(row)
                words.append(match.group(1))
        vectors = np.asarray(encoder.token_vectors)[rows]
        return WordSpace(words, vectors, "wordllama whole-word tokens")
    keyed = keyed_vectors_of(encoder)
    if keyed is not None:
        return WordSpace(list(keyed.index_to_key), np.asarray(keyed.vectors), "gensim KeyedVectors")
    return None
