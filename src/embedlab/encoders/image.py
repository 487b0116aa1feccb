"""Image encoders through transformers: CNN/ViT features (`image:PATH`) and CLIP (`clip:PATH`).

- `ImageEncoder` (modality "image"): a CNN such as ResNet gives its pooled penultimate layer (global
  average of the last feature map, the input of the classifier, never the logits); a ViT gives the
  final [CLS] token (or the mean of the patch tokens).
- `ClipEncoder` (modality "text+image"): one model embeds texts (text tower) and images (vision tower)
  into one space.

Preprocessing (resize, crop, normalise) is the model's own `AutoImageProcessor`, and its settings are
part of the recipe. Items are texts when they are `str`, images when they are a `pathlib.Path`, encoded
`bytes` or a PIL image.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from embedlab.encoders.base import Encoder, batched, l2_normalize
from embedlab.encoders.pretrained import load_parts, locate, quiet_transformers, weights_version
from embedlab.errors import EmbedlabError, UnsupportedInputError
from embedlab.io.images import DEFAULT_MAX_PIXELS, ImageSkipped, load_image

IMAGE_TYPES = (Path, bytes, Image.Image)
TEXT_MODELS = "minilm, wordllama, tfidf, count, vectors:PATH, a BERT-style folder, or clip:PATH"
CLIP_LIKE = ("clip", "siglip", "chinese_clip")


def split_items(items: Any) -> list[Any]:
    """One item or a sequence of items (str for texts; Path, bytes or PIL image for images)."""
    if isinstance(items, (str, *IMAGE_TYPES)):
        return [items]
    if isinstance(items, np.ndarray):
        items = items.tolist()
    if not isinstance(items, Sequence):
        raise EmbedlabError(
            f"expected texts or images, got {type(items).__name__}.",
            "pass a list of str (texts) or of pathlib.Path / bytes / PIL images (images).",
        )
    entries = list(items)
    for i, item in enumerate(entries):
        if not isinstance(item, (str, *IMAGE_TYPES)):
            raise EmbedlabError(
                f"item {i} is a {type(item).__name__}, neither text (str) nor an image.",
                "pass images as pathlib.Path, encoded bytes or PIL images.",
            )
    return entries


def load_vision(model: str | Path, with_tokenizer: bool) -> tuple[Any, Any, Any, Path | None, str, str]:
    """(model, image processor, tokenizer or None, local folder, model id, source) from a folder or hub id."""
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    quiet_transformers()
    needs = "config.json, preprocessor_config.json, model.safetensors" + (
        " and tokenizer files" if with_tokenizer else ""
    )
    folder, location = locate(model, needs)

    def parts() -> tuple[Any, Any, Any]:
        network = AutoModel.from_pretrained(location, use_safetensors=True)
        if with_tokenizer and not (hasattr(network, "get_text_features") and hasattr(network, "get_image_features")):
            raise EmbedlabError(
                f"{model} is a {network.config.model_type} model, not a CLIP-style text+image model.",
                f"load an image-only model as image:{model}.",
            )
        processor = AutoImageProcessor.from_pretrained(location)
        return network, processor, AutoTokenizer.from_pretrained(location) if with_tokenizer else None

    network, processor, tokenizer = load_parts(
        "an image model",
        model,
        folder,
        needs,
        f"download it where the network allows (`hf download {model} --local-dir DIR`) and pass the folder "
        "(clip:DIR or image:DIR).",
        parts,
    )
    model_id = str(folder.resolve()) if folder else str(model)
    return network, processor, tokenizer, folder, model_id, "local folder" if folder else "hub"


def preprocessing(processor: Any) -> dict[str, Any]:
    """The image processor's settings as plain JSON values (so stored and current recipes compare equal)."""
    settings = {k: v for k, v in processor.to_dict().items() if not k.startswith("_") and k != "processor_class"}
    settings["backend"] = type(processor).__name__
    return json.loads(json.dumps(settings, sort_keys=True, default=str))


def features(output: Any) -> torch.Tensor:
    """get_*_features returns a tensor (transformers 4) or an output whose pooler_output holds it (5)."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class VisionEncoder(Encoder):
    """Shared loading, batching and image decoding of the image and CLIP encoders."""

    kind = "image"

    def __init__(
        self, model: str | Path, device: str | None, name: str | None, max_pixels: int, with_tokenizer: bool
    ) -> None:
        super().__init__()
        self.model, self.processor, self.tokenizer, self.folder, self.model_id, self.source = load_vision(
            model, with_tokenizer
        )
        self.name = name or (f"{self.kind}:{self.folder.name}" if self.folder else f"{self.kind}:{model}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        self.max_pixels = int(max_pixels)
        self._weights_hash: str | None = None

    @property
    def spec_name(self) -> str:
        return f"{self.kind}:{str(self.folder.resolve()) if self.folder else self.model_id}"

    def identity(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "source": self.source,
            "version": self.weights_version(),
            "architecture": self.model.config.model_type,
            "preprocessing": preprocessing(self.processor),
        }

    def weights_version(self) -> str:
        """sha256 of the weights file (local folders) or the hub commit."""
        if self._weights_hash is None:
            self._weights_hash = weights_version(self.folder, self.model)
        return self._weights_hash

    def encode(
        self, items: Any, batch_size: int = 32, normalize: bool = True, show_progress: bool = False
    ) -> np.ndarray:
        """Embed texts (str) and images (Path, bytes, PIL image) in input order; float32 (n, dim)."""
        entries = split_items(items)
        if batch_size < 1:
            raise EmbedlabError(f"batch_size must be at least 1, got {batch_size}.", param="batch_size")
        texts = [i for i, item in enumerate(entries) if isinstance(item, str)]
        images = [i for i, item in enumerate(entries) if not isinstance(item, str)]
        self.last_stats = {"items": len(entries), "texts": len(texts), "images": len(images)}
        vectors = np.zeros((len(entries), self.dim), dtype=np.float32)
        if texts:
            vectors[texts] = self._encode([entries[i] for i in texts], batch_size, show_progress)
        if images:
            vectors[images] = self.encode_images([entries[i] for i in images], batch_size, show_progress)
        return l2_normalize(vectors) if normalize else vectors

    @torch.inference_mode()
    def encode_images(self, images: list[Any], batch_size: int, show_progress: bool) -> np.ndarray:
        """Raw (unnormalised) vectors of images; a bad image is an error naming it."""
        out = np.empty((len(images), self.dim), dtype=np.float32)
        starts = range(0, len(images), batch_size)
        for start in tqdm(starts, desc=f"encoding images with {self.name}", unit="batch", disable=not show_progress):
            batch = []
            for item in images[start : start + batch_size]:
                try:
                    batch.append(load_image(item, self.max_pixels))
                except ImageSkipped as exc:
                    label = str(item) if isinstance(item, Path) else f"a {type(item).__name__} image"
                    raise EmbedlabError(f"cannot embed {label}: {exc.reason}.", "pass a readable image.") from None
            pixels = self.processor(images=batch, return_tensors="pt")["pixel_values"].to(self.device)
            out[start : start + len(batch)] = self._image_features(pixels).float().cpu().numpy()
        return out

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class ImageEncoder(VisionEncoder):
    """Image features of a CNN (ResNet, ConvNeXt, RegNet ...) or a ViT-style model from transformers.

    Pooling: `avg` for CNNs (the pooled penultimate layer); `cls` (default) or `mean` of the patch
    tokens for ViTs.
    """

    modality = "image"
    kind = "image"
    config_keys = ("pooling", "max_pixels")

    def __init__(
        self,
        model: str | Path,
        pooling: str | None = None,
        device: str | None = None,
        name: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__(model, device, name, max_pixels, with_tokenizer=False)
        config = self.model.config
        if config.model_type in CLIP_LIKE:
            raise EmbedlabError(
                f"{model} is a {config.model_type} model (text and images).", f"load it as clip:{model} instead."
            )
        self.convolutional = hasattr(config, "hidden_sizes")
        allowed = ("avg",) if self.convolutional else ("cls", "mean")
        self.pooling = pooling or allowed[0]
        if self.pooling not in allowed:
            raise EmbedlabError(
                f"pooling {self.pooling!r} does not fit a {config.model_type} model.", f"use {' or '.join(allowed)}."
            )

    @property
    def dim(self) -> int:
        config = self.model.config
        return int(config.hidden_sizes[-1] if self.convolutional else config.hidden_size)

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        raise text_refused(self.name, texts[0])

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        out = self.model(pixel_values=pixels)
        if self.convolutional:
            return out.pooler_output.flatten(1)
        tokens = out.last_hidden_state
        return tokens[:, 0] if self.pooling == "cls" else tokens[:, 1:].mean(dim=1)


class ClipEncoder(VisionEncoder):
    """A CLIP model from transformers: texts through the text tower, images through the vision tower."""

    modality = "text+image"
    kind = "clip"
    config_keys = ("max_pixels",)

    def __init__(
        self,
        model: str | Path,
        device: str | None = None,
        name: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__(model, device, name, max_pixels, with_tokenizer=True)
        config = self.model.config
        self.max_tokens = int(getattr(config.text_config, "max_position_embeddings", 77))

    @property
    def dim(self) -> int:
        return int(self.model.config.projection_dim)

    @property
    def logit_scale(self) -> float:
        """The learned temperature CLIP multiplies cosine similarities by before a softmax (100 for OpenAI's)."""
        scale = getattr(self.model, "logit_scale", None)
        return float(scale.detach().exp()) if scale is not None else 100.0

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "max_tokens": self.max_tokens, "long_text": "truncate"}

    @torch.inference_mode()
    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        lengths = [len(ids) for ids in self.tokenizer(texts, truncation=False, verbose=False)["input_ids"]]
        self.last_stats["long_texts"] = sum(n > self.max_tokens for n in lengths)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        start = 0
        for batch in tqdm(
            list(batched(texts, batch_size)), desc=f"encoding texts with {self.name}", disable=not show_progress
        ):
            tokens = self.tokenizer(
                list(batch), padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
            ).to(self.device)
            inputs = {k: v for k, v in tokens.items() if k in ("input_ids", "attention_mask")}
            out[start : start + len(batch)] = features(self.model.get_text_features(**inputs)).float().cpu().numpy()
            start += len(batch)
        return out

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return features(self.model.get_image_features(pixel_values=pixels))


def text_refused(name: str, text: str) -> EmbedlabError:
    """The error for text given to an image-only encoder; it names the encoders that embed text."""
    shown = text if len(text) <= 40 else text[:40] + "..."
    return UnsupportedInputError(
        f"model {name} embeds images only; it cannot embed the text {shown!r}.",
        f"search it by image (a pathlib.Path, bytes or PIL image), or use a model that embeds text: {TEXT_MODELS} "
        "(CLIP puts texts and images in one space).",
        param="query",
    )
