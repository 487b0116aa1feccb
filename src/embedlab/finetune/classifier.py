"""Task heads on frozen embeddings: scikit-learn logistic regression, or a small PyTorch head (linear or MLP).

The texts are embedded once with the chosen encoder (unit-length vectors), split train/validation/test
(stratified, seeded), and the head is fitted on the train part. Logistic regression picks its C on the
validation part; a torch head stops early on the validation loss and keeps its best weights. Saved heads are
never pickled: logistic regression as `coef.npy`/`intercept.npy`, torch heads as `head.safetensors`, both with
`head.json` (classes, architecture, and the encoder's name and recipe so `predict` re-embeds the same way).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embedlab.encoders import Encoder, load
from embedlab.errors import EmbedlabError, UnsupportedInputError
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

HEADS = ("logreg", "linear", "mlp")
LOGREG_C = (0.1, 1.0, 10.0, 100.0)


class TorchHead(torch.nn.Module):
    """Linear layer (hidden=0) or one hidden ReLU layer with dropout, from embeddings to class logits."""

    def __init__(self, dim: int, classes: int, hidden: int = 0, dropout: float = 0.1) -> None:
        super().__init__()
        self.config = {"dim": dim, "classes": classes, "hidden": hidden, "dropout": dropout}
        if hidden:
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(dim, hidden),
                torch.nn.ReLU(),
                torch.nn.Dropout(dropout),
                torch.nn.Linear(hidden, classes),
            )
        else:
            self.layers = torch.nn.Sequential(torch.nn.Linear(dim, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


@dataclass
class TrainResult:
    """A trained head: where it is, how it scored on the held-out test part, and against what baseline."""

    path: Path
    kind: str
    model: str
    data: str
    source: str
    classes: list[str]
    split: dict[str, int]
    skipped: dict[str, int]
    test: dict[str, Any]
    validation: dict[str, Any]
    baseline: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def frozen_encoder(model: str, encoder: Encoder | None, options: dict[str, Any]) -> Encoder:
    """Load (or take) the encoder and refuse the kinds whose vectors cannot be reproduced from a name alone."""
    encoder = encoder if encoder is not None else load(model, **options)
    if encoder.requires_fit:
        raise EmbedlabError(
            f"{model} is fitted to a corpus, so a saved head could not re-embed new texts the same way.",
            "use a pretrained model (minilm, wordllama, vectors:PATH, a model folder), "
            "or compare tfidf with `embedlab evaluate classify`.",
        )
    if not encoder.supports_text:
        raise UnsupportedInputError(
            f"{model} embeds {encoder.modality}, not text.", "pick a text model (embedlab models).", param="model"
        )
    return encoder


def train_classifier(
    data: str | Path | LabelledData,
    output: str | Path,
    model: str = "minilm",
    head: str = "logreg",
    label_column: str = "label",
    text_column: str | None = None,
    seed: int = 0,
    validation: float = 0.2,
    test: float = 0.2,
    epochs: int = 200,
    lr: float = 1e-2,
    hidden: int = 256,
    batch_size: int = 32,
    patience: int = 10,
    overwrite: bool = False,
    encoder: Encoder | None = None,
    encoder_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Embed the texts with `model` (frozen), train `head` on the train part, evaluate on the test part, save."""
    if head not in HEADS:
        raise EmbedlabError(f"unknown head {head!r}.", f"choose one of {', '.join(HEADS)}.")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("patience", patience)):
        if value < 1:
            raise EmbedlabError(f"{name} must be at least 1, got {value}.")
    check_lr(lr)
    output = prepare_output(output, overwrite)
    dataset = data if isinstance(data, LabelledData) else read_labelled(data, label_column, text_column)
    split = stratified_split(dataset.labels, seed, validation, test)
    options = dict(encoder_options or {})
    encoder = frozen_encoder(model, encoder, options)
    started = time.perf_counter()
    vectors = encoder.encode(dataset.texts, normalize=True)
    classes = dataset.classes
    y = np.array([classes.index(label) for label in dataset.labels])
    labels = np.asarray(dataset.labels)
    fit: Fit | None = None
    if head == "logreg":
        chosen, save = _fit_logreg(vectors, y, split, seed)
        predict = chosen.predict
        details: dict[str, Any] = {"classifier": f"scikit-learn LogisticRegression(C={chosen.C}, max_iter=2000)"}
    else:
        torch.manual_seed(seed)  # the head's initial weights
        net = TorchHead(encoder.dim, len(classes), hidden if head == "mlp" else 0)
        tensors = torch.from_numpy(vectors), torch.from_numpy(y).long()
        fit = fit_classifier(
            net,
            (tensors[0][split.train], tensors[1][split.train]),
            (tensors[0][split.validation], tensors[1][split.validation]),
            epochs,
            lr,
            batch_size,
            patience,
            seed,
            weight_decay=1e-4,
            progress=progress,
        )
        net.cpu()

        def predict(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return net(torch.from_numpy(x)).argmax(1).numpy()

        def save(folder: Path) -> dict[str, Any]:
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "head.safetensors"))
            return {"architecture": net.config, "training": {"lr": lr, "batch_size": batch_size, **fit.as_dict()}}

        details = {"classifier": f"PyTorch {head} head", "fit": fit.as_dict()}

    def metrics(rows: np.ndarray) -> dict[str, Any]:
        return classification_metrics(labels[rows].tolist(), [classes[i] for i in predict(vectors[rows])], classes)

    test_metrics, val_metrics = metrics(split.test), metrics(split.validation)
    baseline = majority_baseline(labels[split.train].tolist(), labels[split.test].tolist(), classes)
    result = TrainResult(
        output, head, model, dataset.name, dataset.source, classes, split.sizes(), dataset.skipped,
        test_metrics, val_metrics, baseline, details, time.perf_counter() - started,
    )  # fmt: skip

    def fill(folder: Path) -> None:
        saved = save(folder)
        write_json(
            folder / HEAD_FILE,
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "kind": head,
                "classes": classes,
                "encoder": {**encoder.spec().to_dict(), "recipe": encoder.recipe},
                **saved,
                "interrupted": bool(fit and fit.interrupted),
                "data": {"name": dataset.name, "source": dataset.source, "seed": seed, "split": split.sizes()},
                "test": test_metrics,
                "baseline": baseline,
            },
        )

    write_folder(output, overwrite, fill)
    if fit is not None and fit.interrupted:
        raise TrainingInterrupted(output, f"the best head so far (epoch {fit.best_epoch} of {fit.epochs_run})")
    return result


def _fit_logreg(vectors: np.ndarray, y: np.ndarray, split: Split, seed: int) -> tuple[Any, Any]:
    """Logistic regression with C chosen on the validation part; returns it and its saver."""
    from sklearn.linear_model import LogisticRegression

    best, best_score = None, -1.0
    for c in LOGREG_C:
        candidate = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(vectors[split.train], y[split.train])
        score = float((candidate.predict(vectors[split.validation]) == y[split.validation]).mean())
        if score > best_score:
            best, best_score = candidate, score

    def save(folder: Path) -> dict[str, Any]:
        np.save(folder / "coef.npy", best.coef_.astype(np.float64), allow_pickle=False)
        np.save(folder / "intercept.npy", best.intercept_.astype(np.float64), allow_pickle=False)
        return {"architecture": {"C": best.C, "classes_": best.classes_.tolist(), "validation_accuracy": best_score}}

    return best, save
