"""A trainable embedding layer: bag-of-embeddings text classifier (`nn.Embedding`, mean-pooled, linear head).

The vocabulary is built from the training texts (words seen at least `min_count` times). The embedding table
starts from pretrained static vectors when `init` names them (`vectors:PATH` word2vec/GloVe file, `wordllama`,
`word2vec:DIR`, `fasttext:DIR`; words the vectors lack start random) or at random, and is trained end to end
with the head unless `freeze`. `compare=True` also trains the other set-ups on the same split (random init,
pretrained frozen, pretrained fine-tuned) so the difference can be read off one table.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embedlab.encoders import load
from embedlab.encoders.static import TOKEN, tokenize
from embedlab.errors import EmbedlabError
from embedlab.finetune.classifier import TrainResult
from embedlab.finetune.data import LabelledData, Split, read_labelled, stratified_split
from embedlab.finetune.training import (
    FORMAT,
    FORMAT_VERSION,
    HEAD_FILE,
    Fit,
    Progress,
    TrainingInterrupted,
    check_lr,
    classification_metrics,
    fit_classifier,
    majority_baseline,
    prepare_output,
    write_folder,
    write_json,
)

PAD = "<pad>"
MAX_WORDS = 256
RANDOM_STD = 0.1


class BagModel(torch.nn.Module):
    """Word ids (batch, words; 0 = padding) -> mean of their embeddings -> class logits."""

    def __init__(self, vocab_size: int, dim: int, classes: int) -> None:
        super().__init__()
        self.config = {"vocab_size": vocab_size, "dim": dim, "classes": classes}
        self.embedding = torch.nn.Embedding(vocab_size, dim, padding_idx=0)
        self.head = torch.nn.Linear(dim, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = (ids != 0).unsqueeze(-1).to(self.embedding.weight.dtype)
        pooled = (self.embedding(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled)


def build_vocabulary(texts: list[str], min_count: int = 1) -> list[str]:
    """Words of the texts seen at least `min_count` times, most frequent first; index 0 is padding."""
    counts = Counter(word for text in texts for word in tokenize(text))
    return [PAD, *(word for word, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if n >= min_count)]


def word_ids(texts: list[str], vocabulary: list[str]) -> torch.Tensor:
    """Padded (texts, words) id matrix; words outside the vocabulary are left out."""
    index = {word: i for i, word in enumerate(vocabulary)}
    rows = [[index[w] for w in tokenize(text) if w in index][:MAX_WORDS] for text in texts]
    ids = torch.zeros((len(rows), max(1, max((len(r) for r in rows), default=1))), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return ids


def pretrained_rows(init: str, vocabulary: list[str], seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Embedding rows for the vocabulary from static vectors; words they lack get random rows of the same scale."""
    encoder = load(init)
    if not encoder.word_vectors:
        raise EmbedlabError(
            f"{init} has no static word vectors to start an embedding layer from.",
            "use vectors:PATH (word2vec/GloVe file), wordllama, word2vec:DIR or fasttext:DIR; "
            "to adapt a transformer use `embedlab train contrastive`.",
        )
    matrix = encoder.encode(vocabulary[1:], normalize=False)
    found = np.linalg.norm(matrix, axis=1) > 0
    rng = np.random.default_rng(seed)
    std = float(matrix[found].std()) if found.any() else RANDOM_STD
    matrix[~found] = rng.normal(0.0, std, size=(int((~found).sum()), matrix.shape[1]))
    table = np.vstack([np.zeros((1, matrix.shape[1])), matrix]).astype(np.float32)
    info = {
        "vectors": init,
        "recipe": encoder.recipe,
        "words_found": int(found.sum()),
        "words_random": int((~found).sum()),
    }
    return table, info


def _variant(
    table: np.ndarray | None,
    freeze: bool,
    vocab_size: int,
    dim: int,
    classes: int,
    data: tuple[torch.Tensor, torch.Tensor],
    split: Split,
    knobs: dict[str, Any],
    progress: Progress | None,
) -> tuple[BagModel, Fit]:
    torch.manual_seed(knobs["seed"])
    net = BagModel(vocab_size, dim, classes)
    if table is not None:
        net.embedding.weight.data.copy_(torch.from_numpy(table))
    else:
        torch.nn.init.normal_(net.embedding.weight, 0.0, RANDOM_STD)
        net.embedding.weight.data[0] = 0
    net.embedding.weight.requires_grad = not freeze
    x, y = data
    fit = fit_classifier(
        net, (x[split.train], y[split.train]), (x[split.validation], y[split.validation]), progress=progress, **knobs
    )
    net.cpu()
    return net, fit


def train_bag(
    data: str | Path | LabelledData,
    output: str | Path,
    init: str | None = None,
    freeze: bool = False,
    dim: int = 100,
    min_count: int = 1,
    label_column: str = "label",
    text_column: str | None = None,
    seed: int = 0,
    validation: float = 0.2,
    test: float = 0.2,
    epochs: int = 200,
    lr: float = 1e-2,
    batch_size: int = 32,
    patience: int = 10,
    compare: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a bag-of-embeddings classifier; save it; with `compare`, also report the other initialisations."""
    if freeze and init is None:
        raise EmbedlabError(
            "freeze needs pretrained vectors to keep fixed.", "pass init=vectors:PATH or init=wordllama.", param="init"
        )
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("patience", patience), ("dim", dim)):
        if value < 1:
            raise EmbedlabError(f"{name} must be at least 1, got {value}.", param=name)
    check_lr(lr)
    output = prepare_output(output, overwrite)
    dataset = data if isinstance(data, LabelledData) else read_labelled(data, label_column, text_column)
    split = stratified_split(dataset.labels, seed, validation, test)
    started = time.perf_counter()
    vocabulary = build_vocabulary([dataset.texts[i] for i in split.train], min_count)
    if len(vocabulary) < 2:
        raise EmbedlabError("the training texts have no words.", "check the text column.")
    classes = dataset.classes
    labels = np.asarray(dataset.labels)
    x = word_ids(dataset.texts, vocabulary)
    y = torch.tensor([classes.index(label) for label in dataset.labels], dtype=torch.long)
    table, init_info = pretrained_rows(init, vocabulary, seed) if init else (None, {"vectors": None})
    width = table.shape[1] if table is not None else dim
    knobs = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "patience": patience, "seed": seed}

    def scores(net: BagModel, rows: np.ndarray) -> dict[str, Any]:
        with torch.no_grad():
            predicted = net(x[rows]).argmax(1).numpy()
        return classification_metrics(labels[rows].tolist(), [classes[i] for i in predicted], classes)

    net, fit = _variant(table, freeze, len(vocabulary), width, len(classes), (x, y), split, knobs, progress)
    chosen = _variant_name(init, freeze)
    comparison = {chosen: {"test": scores(net, split.test), "epochs": fit.epochs_run}}
    if compare and not fit.interrupted:
        others = [(None, False)] + ([(table, True), (table, False)] if table is not None else [])
        for other_table, other_freeze in others:
            name = _variant_name(init if other_table is not None else None, other_freeze)
            if name in comparison:
                continue
            size = width if other_table is not None else dim
            other, other_fit = _variant(
                other_table, other_freeze, len(vocabulary), size, len(classes), (x, y), split, knobs, None
            )
            comparison[name] = {"test": scores(other, split.test), "epochs": other_fit.epochs_run}
    baseline = majority_baseline(labels[split.train].tolist(), labels[split.test].tolist(), classes)
    test_metrics, val_metrics = scores(net, split.test), scores(net, split.validation)
    details = {
        "variant": chosen,
        "vocabulary": len(vocabulary) - 1,
        "init": {k: v for k, v in init_info.items() if k != "recipe"},
        "fit": fit.as_dict(),
        "comparison": comparison,
    }
    result = TrainResult(
        output, "bag", init or "random", dataset.name, dataset.source, classes, split.sizes(), dataset.skipped,
        test_metrics, val_metrics, baseline, details, time.perf_counter() - started,
    )  # fmt: skip

    def fill(folder: Path) -> None:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "bag.safetensors"))
        write_json(folder / "vocabulary.json", {"words": vocabulary})
        write_json(
            folder / HEAD_FILE,
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "kind": "bag",
                "classes": classes,
                "architecture": net.config,
                "tokenizer": {"pattern": TOKEN.pattern, "lowercase": True, "max_words": MAX_WORDS},
                "init": init_info,
                "freeze": freeze,
                "interrupted": fit.interrupted,
                "training": knobs | fit.as_dict(),
                "data": {"name": dataset.name, "source": dataset.source, "seed": seed, "split": split.sizes()},
                "test": test_metrics,
                "baseline": baseline,
                "comparison": comparison,
            },
        )

    write_folder(output, overwrite, fill)
    if fit.interrupted:
        raise TrainingInterrupted(output, f"the best model so far (epoch {fit.best_epoch} of {fit.epochs_run})")
    return result


def _variant_name(init: str | None, freeze: bool) -> str:
    if init is None:
        return "random init, trained"
    return f"{init}, frozen" if freeze else f"{init}, fine-tuned"


@dataclass
class LoadedBag:
    """A saved bag-of-embeddings model."""

    net: BagModel
    vocabulary: list[str]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(self.net(word_ids(texts, self.vocabulary)), dim=1).numpy().astype(np.float64)


def load_bag(path: Path, config: dict[str, Any]) -> LoadedBag:
    """Rebuild the model from bag.safetensors and vocabulary.json."""
    import json

    from safetensors.torch import load_file

    net = BagModel(**config["architecture"])
    net.load_state_dict(load_file(str(path / "bag.safetensors")))
    net.eval()
    vocabulary = json.loads((path / "vocabulary.json").read_text(encoding="utf-8"))["words"]
    return LoadedBag(net, vocabulary)
