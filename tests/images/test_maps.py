"""Maps of an image collection: thumbnails on hover (HTML) and on the points of small maps (PNG)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from embedlab.images import index_images
from embedlab.maps import make_map, open_source
from embedlab.maps.data import from_collection
from embedlab.store import Store


@pytest.fixture(scope="module")
def image_store(tmp_path_factory, clip, photos: Path) -> Store:
    store = Store(tmp_path_factory.mktemp("image-maps") / "store")
    index_images(store.create("photos", clip), photos)
    return store


def test_thumbnails_travel_with_the_points_and_stay_out_of_the_columns(image_store: Store) -> None:
    collection = image_store.collection("photos")
    data = from_collection(collection)
    assert "thumbnail" not in data.columns and len(data.thumbnails) == len(data) == 10
    picked = data.subset([3, 0])
    assert picked.thumbnails == [collection.get(picked.ids[0]).metadata["thumbnail"], data.thumbnails[0]]


def test_html_map_has_a_hover_thumbnail_per_point(image_store: Store, tmp_path: Path) -> None:
    make_map(open_source("photos", image_store), tmp_path / "map.html", method="pca")
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert page.count("data:image/jpeg;base64,") == 10 and "plotly_hover" in page
    assert "\\\\xff" not in page and "thumbnail:" not in page  # no raw bytes in hover texts


def test_small_png_map_draws_the_thumbnails_on_the_points(image_store: Store, tmp_path: Path, monkeypatch) -> None:
    from matplotlib.offsetbox import AnnotationBbox

    from embedlab.maps import render

    drawn: list[int] = []
    original = render._draw_thumbnails

    def counting(ax, view):
        original(ax, view)
        drawn.append(sum(isinstance(a, AnnotationBbox) for a in ax.artists))

    monkeypatch.setattr(render, "_draw_thumbnails", counting)
    make_map(open_source("photos", image_store), tmp_path / "map.png", method="pca")
    assert drawn == [10]
    with Image.open(tmp_path / "map.png") as png:
        assert png.format == "PNG"
    monkeypatch.setattr(render, "THUMBNAILS_ON_POINTS_UP_TO", 5)
    drawn.clear()
    make_map(open_source("photos", image_store), tmp_path / "big.png", method="pca")
    assert drawn == []  # larger maps keep plain points


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_hovering_a_point_shows_its_thumbnail_in_a_browser(image_store: Store, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.maps.test_browser import ARGS, open_offline

    make_map(open_source("photos", image_store), tmp_path / "map.html", method="pca")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page, blocked, errors = open_offline(browser, tmp_path / "map.html")
        x, y, row = page.evaluate(
            """() => {
              const gd = document.querySelector('.js-plotly-plot');
              const box = gd.getBoundingClientRect(), trace = gd._fullData[0];
              const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
              return [box.left + xa._offset + xa.l2p(trace.x[0]), box.top + ya._offset + ya.l2p(trace.y[0]),
                      trace.customdata[0]];
            }"""
        )
        page.mouse.move(x, y)  # a real hover over the first point
        page.wait_for_function("() => Array.from(document.images).some(i => i.style.display === 'block')")
        shown = page.evaluate("() => Array.from(document.images).find(i => i.style.display === 'block').src")
        browser.close()
    assert blocked == [] and errors == []
    data = from_collection(image_store.collection("photos"))
    assert base64.b64decode(shown.split(",", 1)[1]) == data.thumbnails[row]
    assert Image.open(io.BytesIO(data.thumbnails[row])).format == "JPEG"
