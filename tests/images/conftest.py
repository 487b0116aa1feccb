"""Real sample photos shipped by scikit-image and scikit-learn, bad files, and tiny randomly initialised
ResNet / ViT / CLIP models saved with save_pretrained (no real image weights ship in any package here).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from embedlab.images.samples import png_header, sample_photos

SKIMAGE = Path(importlib.util.find_spec("skimage").origin).parent / "data"
SKLEARN = Path(importlib.util.find_spec("sklearn").origin).parent / "datasets" / "images"
# photo name -> what it shows
PHOTOS = {
    "chelsea.png": "cat",
    "coffee.png": "cup of coffee",
    "rocket.jpg": "rocket",
    "astronaut.png": "astronaut",
    "china.jpg": "temple",
    "flower.jpg": "flower",
}


def sample(name: str) -> Path:
    return SKIMAGE / name if (SKIMAGE / name).exists() else SKLEARN / name


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> Path:
    """A folder of 10 real images in 7 formats (png, jpg, gif, tiff, webp, bmp in a subfolder)."""
    folder = tmp_path_factory.mktemp("photos")
    assert len(sample_photos(folder)) == 10
    return folder


@pytest.fixture(scope="session")
def bad_folder(tmp_path_factory, photos: Path) -> Path:
    """Two real photos plus a text file, a text file named .jpg, a truncated JPEG and two pixel bombs."""
    folder = tmp_path_factory.mktemp("bad")
    shutil.copy(photos / "chelsea.png", folder / "chelsea.png")
    shutil.copy(photos / "rocket.jpg", folder / "rocket.jpg")
    (folder / "notes.txt").write_text("not an image\n", encoding="utf-8")
    (folder / "fake.jpg").write_text("this is text, not a JPEG\n", encoding="utf-8")
    data = (photos / "china.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "bomb.png").write_bytes(png_header(50_000, 50_000))
    (folder / "big.png").write_bytes(png_header(10_001, 10_001))  # just over the 100 MP limit, under Pillow's
    (folder / ".hidden.png").write_bytes(b"ignored")
    return folder


def tiny_processor(kind: str):
    from transformers import CLIPImageProcessor, ConvNextImageProcessor, ViTImageProcessor

    if kind == "clip":
        return CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    if kind == "resnet":
        return ConvNextImageProcessor(  # as microsoft/resnet-50 ships it, at 32 pixels
            size={"shortest_edge": 32},
            crop_pct=0.875,
            image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225],
        )
    return ViTImageProcessor(size={"height": 32, "width": 32})


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """Folders with tiny random ResNet and ViT classifiers and a tiny random CLIP (MiniLM's tokenizer)."""
    import torch
    from transformers import (
        AutoTokenizer,
        CLIPConfig,
        CLIPModel,
        ResNetConfig,
        ResNetForImageClassification,
        ViTConfig,
        ViTForImageClassification,
    )

    from embedlab.encoders.transformer import bundled_minilm_path

    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    folders = {name: root / name for name in ("resnet", "vit", "clip")}
    resnet = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic", num_labels=3)
    ResNetForImageClassification(resnet).save_pretrained(folders["resnet"])
    vit = ViTConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8
    )
    vit.num_labels = 3
    ViTForImageClassification(vit).save_pretrained(folders["vit"])
    tokenizer = AutoTokenizer.from_pretrained(bundled_minilm_path())
    clip = CLIPConfig(
        text_config={
            "vocab_size": tokenizer.vocab_size,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 77,
            "eos_token_id": tokenizer.sep_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.cls_token_id,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    CLIPModel(clip).save_pretrained(folders["clip"])
    tokenizer.save_pretrained(folders["clip"])
    for kind, folder in folders.items():
        tiny_processor(kind).save_pretrained(folder)
    return folders


@pytest.fixture(scope="session")
def clip(models):
    from embedlab import load

    return load(f"clip:{models['clip']}")


@pytest.fixture(scope="session")
def resnet(models):
    from embedlab import load

    return load(f"image:{models['resnet']}")
