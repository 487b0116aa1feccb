"""`embedlab datasets`: the sample inputs the tutorials use are made by a command, from installed packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embedlab.errors import AlreadyExistsError, NotFoundError
from embedlab.images.samples import BAD_FILES, PHOTOS, sample_photos


def test_photos_are_real_images_in_six_formats_and_the_bad_files_are_bad(tmp_path: Path) -> None:
    names = sample_photos(tmp_path / "photos", bad_files=True)
    assert names == sorted([*PHOTOS, *BAD_FILES])
    formats = set()
    for name in PHOTOS:
        with Image.open(tmp_path / "photos" / name) as image:
            formats.add(image.format)
            assert min(image.size) >= 14  # the animated GIF is tiny
    assert formats == {"PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"}
    with Image.open(tmp_path / "photos" / "chelsea.png") as cat:
        assert cat.size == (451, 300)
    with pytest.raises(OSError):
        with Image.open(tmp_path / "photos" / "truncated.jpg") as broken:
            broken.load()
    with pytest.raises(AlreadyExistsError):
        sample_photos(tmp_path / "photos")


def test_the_cli_writes_words_and_refuses_to_overwrite(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "words.txt"
    assert run_cli("datasets", "example", "words.txt", "-o", str(target))[0] == 0
    words = target.read_text(encoding="utf-8").split()
    assert len(words) == 25 and {"king", "queen", "paris", "xqzv"} <= set(words)
    code, _, err = run_cli("datasets", "example", "words.txt", "-o", str(target))
    assert code == 2 and "--overwrite" in err
    assert run_cli("datasets", "example", "words.txt", "-o", str(target), "--overwrite")[0] == 0
    code, _, err = run_cli("datasets", "example", "landmark.csv")
    assert code == 2 and "Did you mean: landmarks.csv" in err


def test_an_unknown_example_names_the_ones_there_are() -> None:
    from embedlab.datasets import example

    with pytest.raises(NotFoundError, match="Did you mean: words.txt"):
        example("word.txt")


def test_lee_sts_file_gives_the_docsim_figures(wordllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedlab.evaluate import evaluate
    from embedlab.evaluate.sts import write_lee_sts

    monkeypatch.setenv("EMBEDLAB_CACHE", str(tmp_path / "cache"))
    assert write_lee_sts(tmp_path / "lee-sts.tsv") == 1225
    (sts,) = evaluate("sts", [wordllama], data=tmp_path / "lee-sts.tsv").results
    (docsim,) = evaluate("docsim", [wordllama]).results
    assert sts.counts["pairs"] == 1225
    assert np.isclose(sts.metrics["pearson"], docsim.metrics["pearson"], atol=1e-3)
    assert np.isclose(sts.metrics["spearman"], docsim.metrics["spearman"], atol=1e-3)


def test_tiny_clip_is_the_same_every_time(tmp_path: Path) -> None:
    from embedlab import load
    from embedlab.images.samples import tiny_clip

    first, second = tiny_clip(tmp_path / "a"), tiny_clip(tmp_path / "b")
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    clip = load(f"clip:{first}")
    assert clip.dim == 16 and clip.supports_text and clip.supports_images
