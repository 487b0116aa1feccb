"""The CLI end to end: index a folder, cross-modal search, zero-shot labels (checked against transformers)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture
def indexed(run_cli, models, bad_folder: Path, photos: Path, tmp_path: Path):
    store = str(tmp_path / "store")
    code, out, err = run_cli(
        "index", "photos", str(photos), "--model", f"clip:{models['clip']}", "--store", store, "--json"
    )
    assert code == 0, err
    return store, json.loads(out)


def test_index_a_folder_and_search_it_by_text_and_by_image(run_cli, indexed, photos: Path) -> None:
    store, summary = indexed
    assert (summary["added"], summary["total"]) == (10, 10)
    code, out, _ = run_cli("search", "photos", "--image", str(photos / "chelsea.png"), "--store", store, "--json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["id"] == "chelsea.png"
    thumbnail = hits[0]["metadata"]["thumbnail"]
    assert thumbnail.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(thumbnail.split(",", 1)[1])[:2] == b"\xff\xd8"
    code, out, _ = run_cli("search", "photos", "a dog on a beach", "-k", "3", "--store", store, "--json")
    assert code == 0 and len(json.loads(out)) == 3
    code, out, _ = run_cli("similar", "photos", "rocket.jpg", "--store", store, "--json")
    assert code == 0 and "rocket.jpg" not in [hit["id"] for hit in json.loads(out)]
    code, out, _ = run_cli("search", "photos", "a cat", "--store", store)
    assert code == 0 and "thumbnail" not in out and "width=" in out
    code, out, err = run_cli("search", "photos", "--store", store)
    assert code == 2 and "--image" in err


def test_index_reports_skipped_files_by_name(run_cli, models, bad_folder: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    code, _, err = run_cli("index", "bad", str(bad_folder), "--model", f"clip:{models['clip']}", "--store", store)
    assert code == 0 and "5 file(s) skipped" in err
    for name in ("notes.txt", "fake.jpg", "truncated.jpg", "bomb.png", "big.png"):
        assert name in err
    model = f"clip:{models['clip']}"
    code, out, err = run_cli(
        "index", "small", str(bad_folder), "-m", model, "--max-pixels", "150000", "--store", store, "--json"
    )
    summary = json.loads(out)
    assert code == 0 and summary["added"] == 1 and "rocket.jpg" in summary["skipped_files"]  # 640x427 > 150,000


def test_image_errors_exit_2_and_write_nothing(run_cli, models, photos: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(
        "index", "x", str(tmp_path / "empty"), "--model", f"clip:{models['clip']}", "--store", str(store)
    )
    assert code == 2 and "is empty" in err
    code, _, err = run_cli("index", "x", str(photos), "--model", "tfidf", "--store", str(store))
    assert code == 2 and "embeds text only" in err and "clip:PATH" in err
    code, _, err = run_cli("index", "cnn", str(photos), "--model", f"image:{models['resnet']}", "--store", str(store))
    assert code == 0
    code, _, err = run_cli("search", "cnn", "a cat", "--store", str(store))
    assert code == 2 and "embeds images only" in err and "clip:PATH" in err
    assert [p.name for p in (store / "_embedlab").iterdir()] == ["cnn"]


def test_classify_gives_clip_probabilities_per_label(run_cli, models, photos: Path, bad_folder: Path) -> None:
    from transformers import CLIPModel

    from embedlab import load

    labels = ["cat", "rocket", "cup of coffee"]
    code, out, err = run_cli(
        "classify", str(photos / "chelsea.png"), str(photos / "rocket.jpg"), str(bad_folder / "fake.jpg"),
        "--labels", ",".join(labels), "--model", f"clip:{models['clip']}", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["template"] == "a photo of a {label}" and data["labels"] == labels
    assert list(data["skipped"]) == [str(bad_folder / "fake.jpg")]
    got = np.array([[r["probabilities"][label] for label in labels] for r in data["results"]])
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-4)
    assert [r["label"] for r in data["results"]] == [labels[i] for i in got.argmax(axis=1)]
    clip = load(f"clip:{models['clip']}")
    reference = CLIPModel.from_pretrained(models["clip"]).eval()
    images = [Image.open(photos / n).convert("RGB") for n in ("chelsea.png", "rocket.jpg")]
    tokens = clip.tokenizer([f"a photo of a {label}" for label in labels], padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = reference(
            input_ids=tokens["input_ids"],
            attention_mask=tokens["attention_mask"],
            pixel_values=clip.processor(images=images, return_tensors="pt")["pixel_values"],
        )
    np.testing.assert_allclose(got, out.logits_per_image.softmax(dim=-1).numpy(), atol=1e-4)


def test_classify_a_folder_with_a_template_and_a_table(run_cli, models, photos: Path) -> None:
    code, out, err = run_cli(
        "classify", str(photos), "--labels", "cat,dog", "--model", f"clip:{models['clip']}",
        "--template", "a picture of a {label}",
    )  # fmt: skip
    assert code == 0, err
    assert "more/coins.webp" in out and "animated.gif" in out and "a picture of a {label}" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--labels", "cat"], "at least two labels"),
        (["--labels", "cat,,dog"], "empty label"),
        (["--labels", "cat,cat"], "repeated"),
        (["--labels", "cat,dog", "--template", "a photo"], "has no {label}"),
        (["--labels", "cat,dog", "--template", "a {kind} of {label}"], "does not work"),
    ],
)
def test_classify_bad_options_exit_2(run_cli, models, photos: Path, args: list[str], message: str) -> None:
    code, _, err = run_cli("classify", str(photos / "chelsea.png"), "--model", f"clip:{models['clip']}", *args)
    assert code == 2 and message in err


def test_classify_needs_a_clip_model(run_cli, models, photos: Path) -> None:
    code, _, err = run_cli(
        "classify", str(photos / "chelsea.png"), "--labels", "cat,dog", "--model", f"image:{models['resnet']}"
    )
    assert code == 2 and "clip:PATH" in err
