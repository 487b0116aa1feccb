"""Image folders through the collection ingest: stored facts, skipped files, re-runs, cross-modal search."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embedlab.errors import EmbedlabError
from embedlab.images import index_images, search_image
from embedlab.store import Store


@pytest.fixture
def clip_photos(store: Store, clip, photos: Path, tmp_path: Path):
    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    collection = store.create("photos", clip)
    return collection, index_images(collection, folder, batch_size=4), folder


def test_a_folder_becomes_a_collection_with_paths_sizes_and_thumbnails(clip_photos) -> None:
    collection, summary, folder = clip_photos
    assert (summary.read, summary.added, summary.total, summary.skipped_files) == (10, 10, 10, {})
    assert {"path", "width", "height", "format", "exif_date", "thumbnail", "file_sha256"} <= set(
        collection.metadata_columns
    )
    item = collection.get("more/coins.webp")
    assert item.text == "more/coins.webp" and item.metadata["path"] == str((folder / "more/coins.webp").resolve())
    assert (item.metadata["width"], item.metadata["height"]) == (384, 303)
    assert Image.open(io.BytesIO(item.metadata["thumbnail"])).format == "JPEG"
    assert collection.recipe["encoder"] == "clip" and "preprocessing" in collection.recipe
    ids, vectors = collection.vectors()
    stored = dict(zip(ids, vectors, strict=True))
    np.testing.assert_allclose(stored["chelsea.png"], collection.encoder.encode(folder / "chelsea.png")[0], atol=1e-5)


def test_rerun_skips_unchanged_files_and_re_embeds_a_changed_one(clip_photos) -> None:
    collection, _, folder = clip_photos
    again = index_images(collection, folder)
    assert (again.unchanged, again.added, again.updated) == (10, 0, 0)
    shutil.copy(folder / "rocket.jpg", folder / "china.jpg")  # same path, other pixels
    changed = index_images(collection, folder)
    assert (changed.unchanged, changed.updated, changed.total) == (9, 1, 10)
    ids, vectors = collection.vectors()
    stored = dict(zip(ids, vectors, strict=True))
    np.testing.assert_allclose(stored["china.jpg"], stored["rocket.jpg"], atol=1e-5)


def test_search_by_image_by_text_and_similar(clip_photos) -> None:
    collection, _, folder = clip_photos
    hits = search_image(collection, folder / "chelsea.png", k=3)
    assert hits[0].id == "chelsea.png" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    by_text = collection.search("a photo of a cat", k=10)
    expected = collection.encoder.encode(["a photo of a cat"])[0]
    ids, vectors = collection.vectors()
    order = [str(ids[i]) for i in np.argsort(-(vectors @ expected), kind="stable")]
    assert [h.id for h in by_text] == order
    # one search for every kind of query: an image path, its bytes, and its stored vector give the same order
    by_path = [h.id for h in collection.search(folder / "chelsea.png", k=3)]
    assert by_path == [h.id for h in hits]
    assert [h.id for h in collection.search((folder / "chelsea.png").read_bytes(), k=3)] == by_path
    assert [h.id for h in collection.search(collection.vector("chelsea.png"), k=3)] == by_path
    with pytest.raises(EmbedlabError, match="keyword search needs a text query"):
        collection.search(folder / "chelsea.png", mode="keyword")
    with pytest.raises(EmbedlabError, match="not a text, an image or a vector"):
        collection.search(3.5)
    similar = collection.similar("rocket.jpg", k=3)
    assert len(similar) == 3 and "rocket.jpg" not in [s.id for s in similar]


def test_bad_files_are_skipped_counted_and_named(store: Store, clip, bad_folder: Path) -> None:
    summary = index_images(store.create("mixed", clip), bad_folder)
    assert (summary.added, summary.total) == (2, 2)
    assert set(summary.skipped_files) == {"notes.txt", "fake.jpg", "truncated.jpg", "bomb.png", "big.png"}
    assert "checked before decoding" in summary.skipped_files["big.png"]


def test_an_empty_folder_or_a_folder_of_bad_files_writes_nothing(store: Store, clip, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmbedlabError, match="is empty"):
        index_images(store.create("none", clip), tmp_path / "empty")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("text", encoding="utf-8")
    with pytest.raises(EmbedlabError, match=r"no usable image .* a.txt: not an image"):
        index_images(store.create("none", clip), tmp_path / "junk")
    assert store.names() == []


def test_a_text_only_model_is_refused_for_images(store: Store, photos: Path) -> None:
    with pytest.raises(EmbedlabError, match="embeds text only") as caught:
        index_images(store.create("words", "tfidf"), photos)
    assert "clip:PATH" in caught.value.hint
    assert store.names() == []


def test_text_search_on_an_image_only_collection_names_the_models_that_can(store: Store, resnet, photos) -> None:
    collection = store.create("cnn", resnet)
    index_images(collection, photos)
    with pytest.raises(EmbedlabError, match="embeds images only") as caught:
        collection.search("a cat")
    assert "clip:PATH" in caught.value.hint
    assert search_image(collection, photos / "coffee.png", k=1)[0].id == "coffee.png"


def test_a_clip_collection_refuses_a_text_only_model(clip_photos, minilm) -> None:
    collection, _, _ = clip_photos
    store = collection.store
    with pytest.raises(EmbedlabError, match="another recipe"):
        store.create("photos", minilm)


def test_a_table_with_an_image_path_column(store: Store, clip, photos: Path, tmp_path: Path) -> None:
    table = tmp_path / "list.csv"
    table.write_text(
        f"file,caption\n{photos / 'chelsea.png'},a cat\n{photos / 'rocket.jpg'},a rocket\nmissing.png,gone\n",
        encoding="utf-8",
    )
    summary = index_images(store.create("listed", clip), table, image_column="file")
    assert (summary.added, summary.skipped_files) == (2, {"missing.png": "no such file"})
    item = store.collection("listed").get(str(photos / "chelsea.png"))
    assert item.metadata["caption"] == "a cat" and item.metadata["width"] == 451
    with pytest.raises(EmbedlabError, match="no column 'image'"):
        index_images(store.create("other", clip), table, image_column="image")


def test_reembed_an_image_collection_with_another_image_model(clip_photos, models) -> None:
    from embedlab.store import reembed

    collection, _, folder = clip_photos
    summary = reembed(collection.store, "photos", "photos-cnn", f"image:{models['resnet']}")
    copy = collection.store.collection("photos-cnn")
    assert summary.added == 10 and copy.recipe["encoder"] == "image"
    np.testing.assert_allclose(copy.vector("coffee.png"), copy.encoder.encode(folder / "coffee.png")[0], atol=1e-5)
    assert copy.get("coffee.png").metadata["thumbnail"] == collection.get("coffee.png").metadata["thumbnail"]
    with pytest.raises(EmbedlabError, match="embeds text only, and these items are images"):
        reembed(collection.store, "photos", "photos-text", "tfidf")
    assert "photos-text" not in collection.store.names()


def test_image_search_applies_the_where_filter(clip_photos) -> None:
    collection, _, folder = clip_photos
    query = collection.encoder.encode([folder / "chelsea.png"])[0]
    ids, vectors = collection.vectors()
    formats = {i: collection.get(str(i)).metadata["format"] for i in ids}
    jpeg = [str(i) for i in np.argsort(-(vectors @ query), kind="stable") if formats[ids[i]] == "JPEG"]
    assert 0 < len(jpeg) < len(ids)  # the filter keeps some photos and drops others
    hits = collection.search(folder / "chelsea.png", k=len(ids), where="format = 'JPEG'")
    assert [h.id for h in hits] == [
        str(ids[int(i)]) for i in np.argsort(-(vectors @ query), kind="stable") if formats[ids[int(i)]] == "JPEG"
    ]
    assert all(h.metadata["format"] == "JPEG" for h in hits) and "chelsea.png" not in [h.id for h in hits]


def test_the_progress_bar_counts_skipped_files_and_reaches_its_total(
    store: Store, clip, bad_folder: Path, capsys
) -> None:
    index_images(store.create("bar", clip), bad_folder, show_progress=True)
    bar = capsys.readouterr().err
    assert "7/7" in bar and "2/7" not in bar.split("\r")[-1], bar
