"""Reading images safely: Pillow decoding, a pixel limit checked before decoding, EXIF dates, thumbnails.

Pillow's `Image.open` only parses the file header; the pixels are decoded on `load()`. Every image is
checked against `max_pixels` (default `DEFAULT_MAX_PIXELS`, 100 megapixels) from its header, before any
pixel is decoded, so a 50,000 x 50,000 "decompression bomb" is refused in microseconds instead of
allocating 7.5 GB. Only the formats in `FORMATS` are opened (no EPS/PDF, which would run Ghostscript).
Animated GIF/WebP/TIFF give their first frame.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from embedlab.errors import EmbedlabError

DEFAULT_MAX_PIXELS = 100_000_000
THUMBNAIL_SIZE = 128
THUMBNAIL_QUALITY = 80
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")  # JPEG covers multi-picture (MPO) files
EXIF_IFD = 0x8769
EXIF_DATE_ORIGINAL = 36867
EXIF_DATE = 306
EXIF_ORIENTATION = 0x0112

ImageSource = Path | bytes | Image.Image


class ImageSkipped(Exception):
    """An image that cannot be used; `reason` says why in a few words (for summaries)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ImageFacts:
    """What an ingest stores about an image besides its vector."""

    path: str
    width: int
    height: int
    format: str
    exif_date: str | None
    thumbnail: bytes
    file_sha256: str

    def metadata(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "exif_date": self.exif_date,
            "thumbnail": self.thumbnail,
            "file_sha256": self.file_sha256,
        }


def allow_pixels(max_pixels: int) -> None:
    """Make sure Pillow's own bomb guard (which refuses at 2 x Image.MAX_IMAGE_PIXELS) is not below ours.

    Pillow's guard is raised (never lowered) only when a caller asks for a limit above it.
    """
    if max_pixels < 1:
        raise EmbedlabError(f"max_pixels must be positive, got {max_pixels}.")
    if Image.MAX_IMAGE_PIXELS is not None and 2 * Image.MAX_IMAGE_PIXELS < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels // 2 + 1


def open_checked(source: Path | bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open an image lazily (header only) and refuse it when it has more than `max_pixels` pixels."""
    allow_pixels(max_pixels)
    Image.init()  # registers the WebP and TIFF plugins too
    handle: Any = io.BytesIO(source) if isinstance(source, bytes) else source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check the size ourselves below
        try:
            image = Image.open(handle, formats=FORMATS)
        except Image.DecompressionBombError as exc:
            raise ImageSkipped(f"too large before decoding ({exc})") from None
        except UnidentifiedImageError:
            raise ImageSkipped(f"not an image (or not one of {', '.join(FORMATS)})") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageSkipped(f"unreadable image header ({exc})") from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageSkipped(
            f"too large: {width}x{height} = {width * height:,} pixels, above the limit of {max_pixels:,} "
            "(checked before decoding)"
        )
    return image


def decoded(image: Image.Image, thumbnail: int | None = None) -> Image.Image:
    """Decode (first frame), apply the EXIF orientation and return RGB; `thumbnail` shrinks while decoding."""
    try:
        if thumbnail and not wide_greyscale(image):
            image.thumbnail((thumbnail, thumbnail))  # lets JPEG decode at 1/2..1/8 scale
        else:
            image.load()
        image = ImageOps.exif_transpose(image) or image
        if thumbnail and wide_greyscale(image):  # PIL cannot resize 16-bit greyscale: make it 8-bit RGB first
            image = to_rgb(image)
            image.thumbnail((thumbnail, thumbnail))
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise ImageSkipped(f"truncated or corrupt ({exc})") from None
    return to_rgb(image)


def wide_greyscale(image: Image.Image) -> bool:
    """16-bit, 32-bit integer or float greyscale (PNG and TIFF scans, medical images)."""
    return image.mode.startswith("I;16") or image.mode in ("I", "F")


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels; transparent areas become white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if wide_greyscale(image):
        image = image.point(lambda v: v / 256).convert("L")  # 16-bit and float greyscale
    return image.convert("RGB")


def load_image(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """An RGB PIL image from a path, encoded bytes or a PIL image; raises ImageSkipped on a bad image."""
    if isinstance(source, Image.Image):
        width, height = source.size
        if width * height > max_pixels:
            raise ImageSkipped(f"too large: {width}x{height} pixels, above the limit of {max_pixels:,}")
        return to_rgb(source)
    return decoded(open_checked(source, max_pixels))


def exif_date(image: Image.Image) -> str | None:
    """DateTimeOriginal (else DateTime) from the EXIF header as ISO 8601, or None."""
    try:
        exif = image.getexif()
        raw = exif.get_ifd(EXIF_IFD).get(EXIF_DATE_ORIGINAL) or exif.get(EXIF_DATE)
    except (OSError, SyntaxError, ValueError, KeyError):
        return None
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def thumbnail_jpeg(image: Image.Image, size: int = THUMBNAIL_SIZE) -> bytes:
    """A JPEG of at most size x size pixels (aspect kept)."""
    small = image.copy() if max(image.size) > size else image
    small.thumbnail((size, size))
    buffer = io.BytesIO()
    to_rgb(small).save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return buffer.getvalue()


def image_facts(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS, thumbnail: int = THUMBNAIL_SIZE) -> ImageFacts:
    """Check and describe one image file: size, format, EXIF date, thumbnail, content hash.

    The whole file is decoded (at reduced scale where the format allows), so truncated or corrupt
    files are found here, before they reach a model.
    """
    image = open_checked(path, max_pixels)
    with image:
        width, height = image.size
        orientation = image.getexif().get(EXIF_ORIENTATION)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        kind = str(image.format)
        date = exif_date(image)
        small = decoded(image, thumbnail=thumbnail)
    return ImageFacts(
        str(path.resolve()), width, height, kind, date, thumbnail_jpeg(small, thumbnail), file_digest(path)
    )


def file_digest(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256 (re-indexing re-embeds a file only when this changes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def image_files(folder: Path) -> list[Path]:
    """Every visible file under `folder`, recursively, in a stable order (hidden files and folders left out)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise EmbedlabError(f"{folder} is not a folder.", "pass a folder of images.")
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in sorted(files) if not f.startswith("."))
    return [p for p in found if p.is_file()]


def iter_images(
    paths: list[Path], skipped: dict[str, str], root: Path | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Iterator[tuple[Path, Image.Image]]:
    """Decoded RGB images of `paths`; each bad one is recorded in `skipped` (name -> reason) and passed over."""
    for path in paths:
        try:
            yield path, load_image(path, max_pixels)
        except ImageSkipped as exc:
            skipped[display_name(path, root)] = exc.reason


def display_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)
