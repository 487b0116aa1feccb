"""Fixtures for the explorer: stores (demo, a 100,000-point one, images, an XSS item), a live server on a free
loopback port, and Debian's chromium driven by Playwright with every request off the server blocked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.explorer.standin import build_app
from tests.images.conftest import models, photos  # noqa: F401 - the tiny CLIP model and sample photos
from tests.maps.test_browser import ARGS, CHROMIUM  # the same offline headless Chromium as the map tests

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
BIG = 100_000


@pytest.fixture(scope="module")  # closed after its module: Playwright's sync API runs an event loop meanwhile
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def explorer_store(demo_store, tmp_path_factory):
    """A copy of the demo store plus: demo-news re-embedded with wordllama (same ids) and an XSS collection."""
    from embedlab.store import Record, Store
    from embedlab.store.ingest import reembed

    demo, _ = demo_store
    folder = tmp_path_factory.mktemp("explorer") / "store"
    shutil.copytree(demo.path, folder)
    store = Store(folder)
    reembed(store, "demo-news", "demo-news-wordllama", model="wordllama")
    hostile = store.create("hostile", "minilm")
    texts = [
        XSS,
        "<script>window.__xss=3</script> plain words",
        "a calm story about gardens",
        "bushfires near town",
        "cricket match report",
        "election results",
        "rain and floods",
    ]
    hostile.add_records(
        lambda: iter(Record(f"item-{i}", t, i, {"note": XSS, "n": i}) for i, t in enumerate(texts)), len(texts)
    )
    return store


@pytest.fixture(scope="session")
def big_store(tmp_path_factory):
    """100,000 clustered random unit vectors (dim 384, the recipe of minilm) written straight into a collection.

    The vectors are precomputed (embedding 100k texts would take minutes): minilm's encoder is told to return
    them for the 'item-N' texts during the ingest only; queries are embedded by the real minilm afterwards.
    """
    from embedlab import load
    from embedlab.encoders import l2_normalize
    from embedlab.store import Record, Store

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 384)).astype(np.float32)
    labels = rng.integers(0, 40, BIG)
    vectors = l2_normalize(centres[labels] + rng.normal(scale=0.7, size=(BIG, 384)).astype(np.float32))
    encoder = load("minilm")
    real = encoder._encode

    def table(texts, batch_size, show_progress):
        return vectors[[int(t.split()[0][5:]) for t in texts]]

    store = Store(tmp_path_factory.mktemp("big") / "store")
    collection = store.create("big", encoder)
    records = [Record(f"id-{i}", f"item-{i} topic {labels[i]}", i, {"group": int(labels[i] % 7)}) for i in range(BIG)]
    saved = os.environ.get("EMBEDLAB_ANN_THRESHOLD")
    encoder._encode = table
    os.environ["EMBEDLAB_ANN_THRESHOLD"] = str(10**9)  # no HNSW build in tests: exact search (the benchmark has it)
    try:
        collection.add_records(lambda: iter(records), BIG, False, 20_000)
    finally:
        encoder._encode = real
        if saved is None:
            os.environ.pop("EMBEDLAB_ANN_THRESHOLD", None)
        else:
            os.environ["EMBEDLAB_ANN_THRESHOLD"] = saved
    return store


@pytest.fixture(scope="session")
def image_store(models, photos, tmp_path_factory):  # noqa: F811
    from embedlab.images import index_images
    from embedlab.store import Store

    store = Store(tmp_path_factory.mktemp("images") / "store")
    collection = store.create("photos", f"clip:{models['clip']}")
    index_images(collection, photos)
    return store


class Served:
    def __init__(self, store, api_key=None):
        from embedlab.serve.explorer.launch import start

        self.running = start(build_app(store, api_key=api_key))
        self.url = self.running.url

    def stop(self):
        self.running.stop()


@pytest.fixture(scope="session")
def explorer_server(explorer_store):
    served = Served(explorer_store)
    yield served
    served.stop()


@pytest.fixture(scope="session")
def big_server(big_store):
    served = Served(big_store)
    yield served
    served.stop()


@pytest.fixture(scope="session")
def image_server(image_store):
    served = Served(image_store)
    yield served
    served.stop()


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    """Screenshots of every view land here (EMBEDLAB_SCREENSHOTS=DIR keeps them, e.g. for docs/img)."""
    import os

    folder = os.environ.get("EMBEDLAB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Page:
    """A page of the explorer with everything off the server blocked, console errors and page errors kept."""

    def __init__(self, browser, server, viewport=(1400, 900)):
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        origin = server.url.rstrip("/")

        def route(request_route):
            url = request_route.request.url
            if url.startswith((origin + "/", "data:", "blob:")):
                request_route.continue_()
            else:
                self.blocked.append(url)
                request_route.abort()

        self.page.route("**/*", route)
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.server = server

    def open(self, fragment: str):
        self.page.goto(self.server.url + fragment)
        return self

    def wait_map(self, timeout=60_000):
        self.page.wait_for_function("() => window.explorer && window.explorer.mapDrawn", timeout=timeout)

    def clean(self):
        assert self.blocked == [], self.blocked
        assert self.errors == [], self.errors

    def close(self):
        self.page.close()


@pytest.fixture
def open_page(chromium):
    pages: list[Page] = []

    def make(server, fragment="", **options):
        page = Page(chromium, server, **options).open(fragment)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.close()
