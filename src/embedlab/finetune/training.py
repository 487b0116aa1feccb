"""What every kind of fine-tuning shares: the device, the output folder (refused when it exists unless
`overwrite`; written to a temporary sibling then renamed), a PyTorch loop with early stopping that keeps the
best weights and survives Ctrl-C, and the classification metrics."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embedlab.errors import EmbedlabError
from embedlab.io import files

HEAD_FILE = "head.json"
FORMAT = "embedlab-head"
FORMAT_VERSION = 1

# progress(epoch, epochs, {"train_loss": ..., "val_loss": ..., "val_accuracy": ...})
Progress = Callable[[int, int, dict[str, float]], None]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the last checkpoint was saved to `path`."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"training interrupted; {detail} saved to {path}")
        self.path = path
        self.detail = detail


def device() -> torch.device:
    """The GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def check_lr(lr: float) -> None:
    """A learning rate must be a positive finite number (a negative one climbs the loss, NaN ruins the weights)."""
    if not isinstance(lr, int | float) or not math.isfinite(lr) or lr <= 0:
        raise EmbedlabError(
            f"lr={lr} is not a usable learning rate.", "pass a positive number, e.g. lr=0.01.", param="lr"
        )


def prepare_output(output: str | Path, overwrite: bool) -> Path:
    """Refuse an output folder that exists (unless `overwrite`) before any work is done."""
    from embedlab.errors import AlreadyExistsError

    path = Path(output).expanduser()
    if path.exists() and not overwrite:
        raise AlreadyExistsError(
            f"{path} already exists.", "choose a new folder, or pass overwrite=True to replace it.", param="output"
        )
    files.check_output_dir(path, overwrite)
    return path


def write_folder(output: Path, overwrite: bool, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling folder, then rename it into place; on any error nothing is left behind."""
    files.write_folder(output, overwrite, fill)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Fit:
    """What happened in `fit_classifier`: epochs run, the best one, and whether it stopped early or was interrupted."""

    epochs_run: int = 0
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    stopped_early: bool = False
    interrupted: bool = False
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "history"} | {"history": self.history}


def fit_classifier(
    model: torch.nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    validation: tuple[torch.Tensor, torch.Tensor],
    epochs: int,
    lr: float,
    batch_size: int,
    patience: int,
    seed: int,
    weight_decay: float = 0.0,
    progress: Progress | None = None,
) -> Fit:
    """Train `model` (inputs -> logits) with cross-entropy and AdamW; stop after `patience` epochs without a lower
    validation loss and restore the best weights. Ctrl-C stops training, restores the best weights so far and
    returns with `interrupted=True` (the caller saves them)."""
    import time

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    dev = device()
    model.to(dev)
    x_train, y_train = (t.to(dev) for t in train)
    x_val, y_val = (t.to(dev) for t in validation)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    fit = Fit()
    best_state = copy.deepcopy(model.state_dict())
    started = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(len(y_train), generator=generator).to(dev)
            total = 0.0
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                loss = loss_fn(model(x_train[batch]), y_train[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
            model.eval()
            with torch.no_grad():
                logits = model(x_val)
                val_loss = float(loss_fn(logits, y_val))
                val_accuracy = float((logits.argmax(1) == y_val).float().mean())
            row = {
                "epoch": epoch,
                "train_loss": total / len(y_train),
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
            }
            fit.history.append(row)
            fit.epochs_run = epoch
            if val_loss < fit.best_val_loss - 1e-6:
                fit.best_val_loss, fit.best_epoch = val_loss, epoch
                best_state = copy.deepcopy(model.state_dict())
            if progress:
                progress(epoch, epochs, row)
            if epoch - fit.best_epoch >= patience:
                fit.stopped_early = True
                break
    except KeyboardInterrupt:
        fit.interrupted = True
    model.load_state_dict(best_state)
    model.eval()
    fit.seconds = time.perf_counter() - started
    return fit


def classification_metrics(y_true: list[str], y_pred: list[str], classes: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and the confusion matrix (rows: true class, columns: predicted), by scikit-learn."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)),
        "confusion": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        "classes": list(classes),
        "examples": len(y_true),
    }


def majority_baseline(train_labels: list[str], test_labels: list[str], classes: list[str]) -> dict[str, Any]:
    """The metrics of always predicting the most frequent training class."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    majority = str(values[int(np.argmax(counts))])
    metrics = classification_metrics(test_labels, [majority] * len(test_labels), classes)
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "predicts": majority}
