"""Contrastive fine-tuning of a sentence encoder on (anchor, positive[, negative]) pairs with in-batch negatives.

The loss is MultipleNegativesRankingLoss (Henderson et al., 2017; as in sentence-transformers): for a batch of
pairs, each anchor must score its own positive above every other positive (and every hard negative) in the
batch, with cosine similarity times `scale` as logits. It runs as a plain PyTorch loop over the model of an
embedlab `TransformerEncoder`, with the encoder's own pooling. The result is a sentence-transformers folder
(model.safetensors, tokenizer, sentence_bert_config.json, 1_Pooling/config.json, modules.json) that both
`embedlab.load(PATH)` and `sentence_transformers.SentenceTransformer(PATH)` load.

Before and after training the encoder is scored on held-out pairs as a retrieval task (each anchor is a query,
the held-out positives are the corpus; MRR@10 and nDCG@10 through `embedlab.evaluate.retrieval`).
Bundled pairs: Lee background news, anchor = a story's first sentence, positive = the rest of the story;
the held-out split is made of whole stories.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embedlab.encoders import Encoder, TransformerEncoder, load
from embedlab.errors import EmbedlabError
from embedlab.finetune.data import Pairs, read_pairs
from embedlab.finetune.training import (
    Progress,
    TrainingInterrupted,
    check_lr,
    device,
    prepare_output,
    write_folder,
    write_json,
)

LEE = "lee"
LEE_SOURCE = "Lee background news (gensim test data lee_background.cor): first sentence -> rest of the story"
MANIFEST = "embedlab_finetune.json"
TRAINABLE = (
    "contrastive training needs a transformer sentence encoder: minilm, or a local BERT-style model folder "
    "(config.json, tokenizer files, model.safetensors)"
)


def lee_pairs(max_words: int | None = None) -> Pairs:
    """One pair per distinct Lee background story: its first sentence and the rest (cut to `max_words` words)."""
    from embedlab.datasets import lee_story_pairs

    anchors: list[str] = []
    positives: list[str] = []
    for _, anchor, rest in lee_story_pairs():
        positive = " ".join(rest.split()[:max_words]) if max_words else rest
        if anchor in anchors or positive in positives:
            continue  # the corpus repeats a few stories; keep one so a held-out story is never also trained on
        anchors.append(anchor)
        positives.append(positive)
    return Pairs(anchors, positives, None, LEE_SOURCE)


def load_pairs(source: str | Path | Pairs, max_words: int | None = None) -> Pairs:
    """`lee` (bundled), a CSV/TSV/JSONL/Parquet pair file, or pairs already in memory."""
    if isinstance(source, Pairs):
        return source
    return lee_pairs(max_words) if str(source) == LEE else read_pairs(source)


def holdout_split(pairs: Pairs, fraction: float, seed: int) -> tuple[Pairs, Pairs]:
    """Seeded random split of whole pairs (for `lee`: whole stories) into train and held-out."""
    if not 0 < fraction < 1:
        raise EmbedlabError(f"holdout must be a fraction between 0 and 1, got {fraction}.", param="holdout")
    order = np.random.default_rng(seed).permutation(len(pairs))
    cut = int(round(len(pairs) * fraction))
    if cut < 2 or len(pairs) - cut < 2:
        raise EmbedlabError(
            f"{len(pairs)} pairs cannot be split {1 - fraction:.0%}/{fraction:.0%} into train and held-out.",
            "give more pairs or change holdout.",
            param="holdout",
        )
    return pairs.subset(np.sort(order[cut:])), pairs.subset(np.sort(order[:cut]))


def trainable_encoder(model: str | Encoder) -> TransformerEncoder:
    """The encoder to fine-tune; static or sparse models are refused with the kinds that can be trained."""
    encoder = load(model) if isinstance(model, str) else model
    if not isinstance(encoder, TransformerEncoder):
        kind = encoder.recipe.get("encoder", type(encoder).__name__)
        raise EmbedlabError(
            f"{encoder.name} ({kind}) cannot be fine-tuned contrastively: it has no trainable sentence encoder.",
            f"{TRAINABLE}. Static vectors (wordllama, vectors:PATH, word2vec:DIR) can be adapted with "
            "train_bag(init=MODEL) (`embedlab train bag --init MODEL`).",
        )
    return encoder


def retrieval_metrics(encoder: Encoder, pairs: Pairs, name: str = "model") -> dict[str, float]:
    """Held-out pairs as retrieval: anchor i is a query whose one relevant document is positive i."""
    from embedlab.evaluate.core import DatasetInfo, sha256_texts
    from embedlab.evaluate.retrieval import RetrievalSet, score

    queries = {f"q{i}": text for i, text in enumerate(pairs.anchors)}
    corpus = {f"d{i}": text for i, text in enumerate(pairs.positives)}
    info = DatasetInfo(
        "held-out pairs", pairs.source, pairs.source, sha256_texts(pairs.anchors + pairs.positives), len(pairs)
    )
    dataset = RetrievalSet(info, corpus, queries, {f"q{i}": {f"d{i}": 1} for i in range(len(pairs))})
    metrics = score(encoder, name, dataset, k=10)[0].metrics
    return {key: metrics[key] for key in ("MRR@10", "nDCG@10", "recall@10")}


@dataclass
class ContrastiveResult:
    """A fine-tuned encoder folder and its held-out scores before and after."""

    path: Path
    base_model: str
    train_pairs: int
    heldout_pairs: int
    before: dict[str, float]
    after: dict[str, float]
    training: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def train_contrastive(
    pairs: str | Path | Pairs,
    output: str | Path,
    model: str | Encoder = "minilm",
    heldout: str | Path | Pairs | None = None,
    holdout: float = 0.2,
    epochs: int = 1,
    batch_size: int = 16,
    lr: float = 2e-5,
    max_tokens: int = 128,
    train_layers: int | None = None,
    max_words: int | None = None,
    scale: float = 20.0,
    seed: int = 0,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ContrastiveResult:
    """Fine-tune `model` with in-batch negatives on `pairs`; score held-out pairs before and after; save the folder.

    `heldout` gives the evaluation pairs; without it a seeded `holdout` fraction of `pairs` is kept out of training.
    `train_layers` trains only the top N transformer layers (faster on a CPU); `max_tokens` cuts training texts.
    """
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("max_tokens", max_tokens)):
        if value < 1 or (name == "batch_size" and value < 2):
            raise EmbedlabError(
                f"{name}={value} is too small.", "in-batch negatives need batch_size=2 or more.", param=name
            )
    check_lr(lr)
    output = prepare_output(output, overwrite)
    encoder = trainable_encoder(model)
    data = load_pairs(pairs, max_words)
    if heldout is None:
        train, evaluation = holdout_split(data, holdout, seed)
    else:
        train, evaluation = data, load_pairs(heldout, max_words)
    if len(train) < 2 or len(evaluation) < 2:
        raise EmbedlabError(
            f"{len(train)} training and {len(evaluation)} held-out pair(s).",
            "in-batch negatives need at least 2 pairs to train on, and scoring needs at least 2 held-out pairs.",
        )
    base_name = model if isinstance(model, str) else encoder.name
    started = time.perf_counter()
    before = retrieval_metrics(encoder, evaluation, base_name)
    net, log = _train(encoder, train, epochs, batch_size, lr, max_tokens, train_layers, scale, seed, progress)
    result = ContrastiveResult(output, str(base_name), len(train), len(evaluation), before, {}, log)

    def fill(folder: Path) -> None:
        save_sentence_transformer(net, encoder, folder)
        if not log["interrupted"]:
            tuned = TransformerEncoder(folder, name=output.name)
            result.after = retrieval_metrics(tuned, evaluation, output.name)
        result.seconds = time.perf_counter() - started
        write_json(
            folder / MANIFEST,
            {
                "base_model": str(base_name),
                "base_recipe": encoder.recipe,
                "loss": f"MultipleNegativesRankingLoss (in-batch negatives, scale {scale}), cosine similarity",
                "train_pairs": {"count": len(train), "source": train.source, "negatives": train.negatives is not None},
                "heldout_pairs": {"count": len(evaluation), "source": evaluation.source},
                "training": log,
                "before": before,
                "after": result.after,
            },
        )

    write_folder(output, overwrite, fill)
    if log["interrupted"]:
        raise TrainingInterrupted(output, f"the weights after step {log['steps_done']} of {log['steps']}")
    return result


def _train(
    encoder: TransformerEncoder,
    pairs: Pairs,
    epochs: int,
    batch_size: int,
    lr: float,
    max_tokens: int,
    train_layers: int | None,
    scale: float,
    seed: int,
    progress: Progress | None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The training loop on a copy of the encoder's model (the encoder itself is left unchanged)."""
    torch.manual_seed(seed)
    dev = device()
    net = copy.deepcopy(encoder.model).to(dev)
    _select_layers(net, train_layers)
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    tokenizer, pooling = encoder.tokenizer, encoder.pool
    limit = min(max_tokens, encoder.max_tokens)

    def embed(texts: list[str]) -> torch.Tensor:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt").to(dev)
        tokens = net(**batch).last_hidden_state
        return torch.nn.functional.normalize(pooling(tokens, batch["attention_mask"]), dim=-1)

    rng = np.random.default_rng(seed)
    per_epoch = sum(1 for start in range(0, len(pairs), batch_size) if len(pairs) - start >= 2)
    steps, done, losses = per_epoch * epochs, 0, []
    interrupted, started = False, time.perf_counter()
    last = _trainable_state(net)  # weights after the last completed step: what Ctrl-C keeps
    net.train()
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(pairs))
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                if len(rows) < 2:
                    continue
                batch = pairs.subset(rows)
                anchors = embed(batch.anchors)
                candidates = embed(batch.positives + (batch.negatives or []))
                logits = scale * anchors @ candidates.T
                loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(rows), device=dev))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                last = _trainable_state(net)
                done += 1
                losses.append(float(loss.detach()))
                if progress:
                    progress(done, steps, {"epoch": epoch, "loss": losses[-1]})
    except KeyboardInterrupt:
        interrupted = True
        net.load_state_dict(last, strict=False)
    net.eval()
    log = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "max_tokens": limit,
        "train_layers": train_layers or "all",
        "steps": steps,
        "steps_done": done,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "interrupted": interrupted,
        "seconds": time.perf_counter() - started,
        "device": str(dev),
    }
    return net.cpu(), log


def _trainable_state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in net.named_parameters() if p.requires_grad}


def _select_layers(net: torch.nn.Module, train_layers: int | None) -> None:
    """Train only the top `train_layers` transformer layers (BERT-style `encoder.layer.N` names)."""
    if train_layers is None:
        return
    total = int(getattr(net.config, "num_hidden_layers", 0))
    if not 1 <= train_layers <= total:
        raise EmbedlabError(
            f"train_layers must be 1..{total} for this model, got {train_layers}.", param="train_layers"
        )
    keep = tuple(f"encoder.layer.{i}." for i in range(total - train_layers, total))
    for name, param in net.named_parameters():
        param.requires_grad = name.startswith(keep)
    if not any(p.requires_grad for p in net.parameters()):
        raise EmbedlabError(
            "this model's layers are not named encoder.layer.N.",
            "train all layers (leave train_layers unset).",
            param="train_layers",
        )


def save_sentence_transformer(net: torch.nn.Module, encoder: TransformerEncoder, folder: Path) -> None:
    """Write a sentence-transformers folder: weights (safetensors), tokenizer, pooling and module configs."""
    net.save_pretrained(str(folder), safe_serialization=True)
    encoder.tokenizer.save_pretrained(str(folder))
    mode = encoder.pooling
    write_json(folder / "sentence_bert_config.json", {"max_seq_length": encoder.max_tokens, "do_lower_case": False})
    (folder / "1_Pooling").mkdir()
    write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": encoder.dim,
            "pooling_mode_cls_token": mode == "cls",
            "pooling_mode_mean_tokens": mode == "mean",
            "pooling_mode_max_tokens": mode == "max",
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "2_Normalize").mkdir()
    (folder / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
