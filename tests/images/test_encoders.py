"""Image encoders on real photos with tiny random models saved by save_pretrained, checked against
transformers' own classification / CLIP forward passes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from embedlab import load
from embedlab.errors import EmbedlabError

PHOTOS = ["chelsea.png", "rocket.jpg", "coffee.png"]


def pixels(folder: Path, names: list[str], processor) -> torch.Tensor:
    images = [Image.open(folder / n).convert("RGB") for n in names]
    return processor(images=images, return_tensors="pt")["pixel_values"]


def test_resnet_gives_the_pooled_penultimate_layer_not_the_logits(models, resnet, photos: Path) -> None:
    from transformers import ResNetForImageClassification

    vectors = resnet.encode([photos / n for n in PHOTOS], normalize=False)
    assert vectors.shape == (3, 16) and vectors.dtype == np.float32 and resnet.dim == 16
    classifier = ResNetForImageClassification.from_pretrained(models["resnet"]).eval()
    with torch.inference_mode():
        x = pixels(photos, PHOTOS, resnet.processor)
        hidden = classifier.resnet(x).pooler_output.flatten(1).numpy()
        logits = classifier(x).logits
        np.testing.assert_allclose(vectors, hidden, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(classifier.classifier[1](torch.from_numpy(vectors)), logits, rtol=1e-4, atol=1e-5)


def test_vit_gives_the_final_cls_token_or_the_mean_of_patches(models, photos: Path) -> None:
    from transformers import ViTForImageClassification

    cls = load(f"image:{models['vit']}")
    mean = load(f"image:{models['vit']}", pooling="mean")
    assert cls.recipe["pooling"] == "cls" and cls.dim == 32
    classifier = ViTForImageClassification.from_pretrained(models["vit"]).eval()
    with torch.inference_mode():
        tokens = classifier.vit(pixels(photos, PHOTOS, cls.processor)).last_hidden_state.numpy()
    np.testing.assert_allclose(cls.encode([photos / n for n in PHOTOS], normalize=False), tokens[:, 0], atol=1e-5)
    np.testing.assert_allclose(
        mean.encode([photos / n for n in PHOTOS], normalize=False), tokens[:, 1:].mean(axis=1), atol=1e-5
    )
    with pytest.raises(EmbedlabError, match="use cls or mean"):
        load(f"image:{models['vit']}", pooling="avg")


def test_paths_bytes_and_pil_images_give_the_same_unit_vectors_every_time(resnet, photos: Path) -> None:
    path = photos / "rocket.jpg"
    first = resnet.encode([path, path.read_bytes(), Image.open(path)])
    np.testing.assert_allclose(first[0], first[1], atol=1e-6)
    np.testing.assert_allclose(first[0], first[2], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(resnet.encode(path), resnet.encode([path]))
    assert resnet.last_stats == {"items": 1, "texts": 0, "images": 1}


def test_recipe_records_the_model_weights_and_preprocessing(resnet, models) -> None:
    recipe = resnet.recipe
    assert recipe["encoder"] == "image" and recipe["architecture"] == "resnet" and recipe["pooling"] == "avg"
    assert recipe["model"] == str(models["resnet"].resolve()) and recipe["version"].startswith("sha256:")
    prep = recipe["preprocessing"]
    assert prep["size"] == {"shortest_edge": 32} and prep["image_mean"] == [0.485, 0.456, 0.406]
    assert prep["image_processor_type"] == "ConvNextImageProcessor" and prep["backend"].startswith("ConvNext")
    assert json.loads(json.dumps(recipe)) == recipe  # stored and reloaded recipes compare equal
    assert load(f"image:{models['resnet']}").recipe == recipe


def test_clip_embeds_texts_and_images_into_one_space_like_transformers(clip, models, photos: Path) -> None:
    from transformers import CLIPModel

    assert clip.modality == "text+image" and clip.dim == 16
    mixed = clip.encode(["a photo of a cat", photos / "chelsea.png", "a rocket"])
    assert mixed.shape == (3, 16) and clip.last_stats["texts"] == 2 and clip.last_stats["images"] == 1
    reference = CLIPModel.from_pretrained(models["clip"]).eval()
    with torch.inference_mode():
        tokens = clip.tokenizer(["a photo of a cat", "a rocket"], padding=True, return_tensors="pt")
        text = reference.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
        image = reference.get_image_features(pixel_values=pixels(photos, ["chelsea.png"], clip.processor))
    text, image = (getattr(t, "pooler_output", t) for t in (text, image))
    expected = torch.cat([text[:1], image, text[1:]]).numpy()
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(mixed, expected, atol=1e-5)
    assert clip.recipe["encoder"] == "clip" and clip.recipe["max_tokens"] == 77


def test_clip_counts_texts_longer_than_its_77_tokens(clip) -> None:
    clip.encode(["word " * 200, "short"])
    assert clip.last_stats["long_texts"] == 1


def test_text_for_an_image_only_model_names_the_models_that_embed_text(resnet) -> None:
    with pytest.raises(EmbedlabError, match="embeds images only") as caught:
        resnet.encode(["a dog on a beach"])
    assert "clip:PATH" in caught.value.hint and "minilm" in caught.value.hint


def test_bad_inputs_and_folders_are_clear_errors(models, resnet, bad_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(EmbedlabError, match="truncated or corrupt"):
        resnet.encode([bad_folder / "truncated.jpg"])
    with pytest.raises(EmbedlabError, match="neither text"):
        resnet.encode([3])
    with pytest.raises(EmbedlabError, match="does not exist"):
        load(f"image:{tmp_path / 'missing'}")
    with pytest.raises(EmbedlabError, match="could not load an image model"):
        load(f"image:{tmp_path}")
    with pytest.raises(EmbedlabError, match="load it as clip:"):
        load(f"image:{models['clip']}")
    with pytest.raises(EmbedlabError, match="not a CLIP-style"):
        load(f"clip:{models['resnet']}")


def test_a_hub_id_offline_says_how_to_use_a_local_folder() -> None:
    with pytest.raises(EmbedlabError, match="HF_HUB_OFFLINE=1 is set") as caught:
        load("clip:openai/clip-vit-base-patch32")
    assert "hf download openai/clip-vit-base-patch32 --local-dir DIR" in caught.value.hint
