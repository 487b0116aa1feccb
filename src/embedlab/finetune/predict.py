"""Load a head saved by `train classifier` or `train bag` and predict labels for new texts.

Nothing is unpickled: weights come from .npy (allow_pickle=False) or safetensors, the rest from JSON.
A classifier head re-embeds the texts with the encoder it was trained on and refuses to run when that
encoder's recipe (weights version, pooling, ...) is no longer the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embedlab.encoders import Encoder, ModelSpec
from embedlab.errors import DamagedError, EmbedlabError
from embedlab.finetune.training import FORMAT, HEAD_FILE
from embedlab.store.recipe import upgrade


@dataclass
class Prediction:
    text: str
    label: str
    probabilities: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "probabilities": self.probabilities}


class SavedHead:
    """A trained head folder, ready to predict."""

    def __init__(self, path: str | Path, encoder: Encoder | None = None) -> None:
        self.path = Path(path).expanduser()
        self.config = read_head_config(self.path)
        self.kind: str = self.config["kind"]
        self.classes: list[str] = list(self.config["classes"])
        self.encoder: Encoder | None = None
        from safetensors import SafetensorError

        try:
            if self.kind == "bag":
                from embedlab.finetune.bag import load_bag

                self._bag = load_bag(self.path, self.config)
            else:
                self.encoder = encoder_for(self.config["encoder"], encoder)
                self._scores = self._logreg() if self.kind == "logreg" else self._torch()
        except EmbedlabError:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as exc:
            # edited or cut weight files: object arrays, wrong shapes, a file that is not safetensors ...
            raise DamagedError(
                f"the trained head in {self.path} is damaged: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
                "train it again (embedlab train ... -o FOLDER --overwrite).",
            ) from exc

    def _logreg(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression()
        model.coef_ = np.load(self.path / "coef.npy", allow_pickle=False)
        model.intercept_ = np.load(self.path / "intercept.npy", allow_pickle=False)
        assert self.encoder is not None
        rows = 1 if len(self.classes) == 2 else len(self.classes)
        for name, array, shape in (
            ("coef.npy", model.coef_, (rows, self.encoder.dim)),
            ("intercept.npy", model.intercept_, (rows,)),
        ):
            if array.dtype.kind != "f" or array.shape != shape or not np.isfinite(array).all():
                raise ValueError(
                    f"{name} holds {array.dtype} values of shape {array.shape}; expected finite floats of shape {shape}"
                )
        model.classes_ = np.asarray(self.config["architecture"]["classes_"])
        model.n_features_in_ = model.coef_.shape[1]
        return model.predict_proba

    def _torch(self) -> Any:
        from safetensors.torch import load_file

        from embedlab.finetune.classifier import TorchHead

        net = TorchHead(**self.config["architecture"])
        net.load_state_dict(load_file(str(self.path / "head.safetensors")))
        net.eval()

        def scores(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()

        return scores

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities, columns in the order of `classes`."""
        if self.kind == "bag":
            return self._bag.predict_proba(texts)
        assert self.encoder is not None
        return np.asarray(self._scores(self.encoder.encode(texts, normalize=True)), dtype=np.float64)

    def predict(self, texts: list[str]) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(texts).argmax(1)]

    def predictions(self, texts: list[str]) -> list[Prediction]:
        probs = self.predict_proba(texts)
        return [
            Prediction(
                text, self.classes[int(row.argmax())], {c: float(p) for c, p in zip(self.classes, row, strict=True)}
            )
            for text, row in zip(texts, probs, strict=True)
        ]


def read_head_config(path: Path) -> dict[str, Any]:
    """head.json of a head folder, with a clear error for folders that are not one."""
    config_path = path / HEAD_FILE
    if not config_path.is_file():
        hint = "pass a folder written by train_classifier or train_bag (`embedlab train classifier|bag`)."
        if (path / "sentence_bert_config.json").is_file():
            hint = f"{path} is a sentence encoder (contrastive fine-tuning); use it as a model: model={path}."
        raise EmbedlabError(f"{path} is not a trained head folder (no {HEAD_FILE}).", hint)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise EmbedlabError(f"{config_path} is not valid JSON: {exc}", "retrain the head.") from exc
    if config.get("format") != FORMAT:
        raise EmbedlabError(f"{config_path} is not an embedlab head file.", "retrain the head.")
    return config


def encoder_for(saved: dict[str, Any], encoder: Encoder | None = None) -> Encoder:
    """Load the encoder a head was trained on (or check the one given); refuse if its recipe changed since."""
    spec = ModelSpec(saved["name"], saved.get("options", {}))
    encoder = encoder if encoder is not None else spec.load()
    now = json.loads(json.dumps(encoder.recipe, default=str))
    before = upgrade(saved["recipe"], spec)
    changed = [key for key in sorted(set(before) | set(now)) if before.get(key) != now.get(key)]
    if changed:
        key = changed[0]
        raise EmbedlabError(
            f"the encoder {saved['name']!r} is not the one this head was trained on: its {key} was "
            f"{saved['recipe'].get(key)!r}, now it is {now.get(key)!r}"
            + (f" ({len(changed) - 1} more field(s) differ)" if len(changed) > 1 else "")
            + ".",
            "retrain the head on the current model (with overwrite=True), or restore the model it was trained on.",
        )
    return encoder


def load_head(path: str | Path, encoder: Encoder | None = None) -> SavedHead:
    """Load a head folder saved by `train_classifier` or `train_bag`; `encoder`: an already loaded copy of the
    encoder it was trained on (checked against the saved recipe), to save loading it again."""
    return SavedHead(path, encoder)
