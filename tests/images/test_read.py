"""Reading images: real sample photos in several formats, EXIF, thumbnails, and the bad files of the issue."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from embedlab.errors import EmbedlabError
from embedlab.images import ImageSkipped, image_facts, image_files, load_image


def test_every_sample_photo_is_read_with_its_size_and_a_small_jpeg_thumbnail(photos: Path) -> None:
    files = image_files(photos)
    assert len(files) == 10
    formats = set()
    for path in files:
        facts = image_facts(path)
        with Image.open(path) as original:
            assert (facts.width, facts.height) == original.size
        with Image.open(io.BytesIO(facts.thumbnail)) as thumb:
            assert thumb.format == "JPEG" and max(thumb.size) <= 128
            ratio = facts.width / facts.height
            assert abs(thumb.size[0] / thumb.size[1] - ratio) < 0.1
        assert facts.path == str(path.resolve()) and len(facts.file_sha256) == 16
        formats.add(facts.format)
    assert formats == {"PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"}


def test_animated_gif_gives_its_first_frame(photos: Path) -> None:
    with Image.open(photos / "animated.gif") as gif:
        assert gif.n_frames > 1
        first = gif.convert("RGB")
        gif.seek(1)
        second = gif.convert("RGB")
    loaded = load_image(photos / "animated.gif")
    assert loaded.tobytes() == first.tobytes() != second.tobytes()


def test_greyscale_and_palette_images_become_rgb(photos: Path) -> None:
    assert load_image(photos / "more" / "camera.bmp").mode == "RGB"
    assert load_image((photos / "chelsea.png").read_bytes()).size == (451, 300)


def test_exif_date_and_orientation(tmp_path: Path, photos: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the stored 640x427 pixels are shown as 427x640
    exif.get_ifd(0x8769)[36867] = "2021:06:01 12:30:00"
    with Image.open(photos / "china.jpg") as china:
        china.save(tmp_path / "dated.jpg", exif=exif)
    facts = image_facts(tmp_path / "dated.jpg")
    assert facts.exif_date == "2021-06-01T12:30:00"
    assert (facts.width, facts.height) == (427, 640)
    assert load_image(tmp_path / "dated.jpg").size == (427, 640)
    assert image_facts(photos / "china.jpg").exif_date is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("notes.txt", "not an image"),
        ("fake.jpg", "not an image"),
        ("truncated.jpg", "truncated or corrupt"),
        ("bomb.png", "too large"),
        ("big.png", "above the limit of 100,000,000 (checked before decoding)"),
    ],
)
def test_bad_files_are_refused_with_a_reason(bad_folder: Path, name: str, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ImageSkipped) as caught:
        image_facts(bad_folder / name)
    assert reason in caught.value.reason
    assert time.perf_counter() - started < 1.0  # the pixel bombs are never decoded


def test_pixel_limit_is_configurable(photos: Path) -> None:
    with pytest.raises(ImageSkipped, match="451x300 = 135,300 pixels"):
        image_facts(photos / "chelsea.png", max_pixels=100_000)
    with pytest.raises(EmbedlabError, match="positive"):
        image_facts(photos / "chelsea.png", max_pixels=0)


def test_walk_skips_hidden_files_and_refuses_a_file(bad_folder: Path) -> None:
    names = [p.name for p in image_files(bad_folder)]
    assert ".hidden.png" not in names and names == sorted(names)
    with pytest.raises(EmbedlabError, match="not a folder"):
        image_files(bad_folder / "notes.txt")
