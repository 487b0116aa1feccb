"""A folder of real sample photos, and a tiny random CLIP, so the images tour runs offline as written.

The photos are the sample images that scikit-image (`skimage/data`) and scikit-learn
(`sklearn/datasets/images`) ship in their wheels, saved in every format embedlab reads. No package
ships real CLIP weights, so `tiny_clip` saves a *randomly initialised* 16-dimensional CLIP (seeded, with
MiniLM's bundled tokenizer): it runs every image command through the real code, but its scores mean
nothing. For real results download a CLIP once (see docs/images.md).
"""

from __future__ import annotations

import importlib.util
import shutil
import struct
import zlib
from pathlib import Path

from embedlab.errors import ModelUnavailableError
from embedlab.io.files import write_folder

# file in the folder -> (package, file it ships): photos of a cat, a cup of coffee, a rocket, an
# astronaut, a temple, a flower, an animated GIF, and in more/ coins, a camera man and bricks
PHOTOS = {
    "chelsea.png": ("skimage", "chelsea.png"),
    "coffee.png": ("skimage", "coffee.png"),
    "rocket.jpg": ("skimage", "rocket.jpg"),
    "astronaut.png": ("skimage", "astronaut.png"),
    "china.jpg": ("sklearn", "china.jpg"),
    "flower.jpg": ("sklearn", "flower.jpg"),
    "animated.gif": ("skimage", "no_time_for_that_tiny.gif"),
    "more/coins.webp": ("skimage", "coins.png"),
    "more/camera.bmp": ("skimage", "camera.png"),
    "more/brick.tif": ("skimage", "brick.png"),
}
BAD_FILES = ("big.png", "bomb.png", "notes.txt", "truncated.jpg")


def _shipped(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailableError(
            f"the sample photos need {package}, which is not installed.", "pip install scikit-image scikit-learn"
        )
    folder = Path(spec.origin).parent / ("data" if package == "skimage" else "datasets/images")
    return folder / name


def png_header(width: int, height: int) -> bytes:
    """A small PNG whose header claims width x height RGB pixels (a 'decompression bomb' to test limits)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def sample_photos(folder: str | Path, bad_files: bool = False) -> list[str]:
    """Write the 10 sample photos (png, jpg, gif, webp, bmp, tiff) into `folder`; returns their names.

    `bad_files=True` adds four files an indexer must skip: a text file, a truncated JPEG, a PNG just over
    the 100-megapixel limit and a 50,000 x 50,000 pixel bomb (each a few hundred bytes).
    """
    from PIL import Image

    names = list(PHOTOS) + (list(BAD_FILES) if bad_files else [])

    def fill(out: Path) -> None:
        (out / "more").mkdir()
        for name, (package, shipped) in PHOTOS.items():
            source, target = _shipped(package, shipped), out / name
            if source.suffix == target.suffix:
                shutil.copyfile(source, target)
            else:
                with Image.open(source) as image:
                    image.save(target)
        if bad_files:
            (out / "notes.txt").write_text("not an image\n", encoding="utf-8")
            data = (out / "china.jpg").read_bytes()
            (out / "truncated.jpg").write_bytes(data[: len(data) // 2])
            (out / "big.png").write_bytes(png_header(10_001, 10_001))
            (out / "bomb.png").write_bytes(png_header(50_000, 50_000))

    write_folder(folder, False, fill)
    return sorted(names)


def tiny_clip(folder: str | Path, seed: int = 0) -> Path:
    """Save a randomly initialised 16-dimensional CLIP (MiniLM's tokenizer, 32-pixel images) to `folder`."""
    import torch
    from transformers import AutoTokenizer, CLIPConfig, CLIPModel
    from transformers.utils import logging as hf_logging

    from embedlab.encoders.transformer import bundled_minilm_path

    tokenizer = AutoTokenizer.from_pretrained(bundled_minilm_path())
    layers = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(
        text_config={
            **layers,
            "vocab_size": tokenizer.vocab_size,
            "max_position_embeddings": 77,
            "eos_token_id": tokenizer.sep_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.cls_token_id,
        },
        vision_config={**layers, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its notes on torchvision and its shard progress bar are noise here
    hf_logging.disable_progress_bar()
    try:
        from transformers import CLIPImageProcessor  # without torchvision: a note that it falls back to PIL

        torch.manual_seed(seed)
        model = CLIPModel(config)
        processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})

        def fill(out: Path) -> None:
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
            processor.save_pretrained(out)

        write_folder(folder, False, fill)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    return Path(folder).expanduser()
