"""The map HTML in headless Chromium with every network request blocked: the points are drawn.

Uses Debian's chromium (`apt-get install chromium`; .ci/run installs it) driven by Playwright.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedlab.maps import compare_map, make_map, open_source

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium; CI installs it)"
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is in the dev extra: pip install -e .[dev]"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def open_offline(browser, path: Path):
    """Open a local page with every request that is not file:// or data: aborted; returns (page, blocked, errors)."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    blocked: list[str] = []
    errors: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_function(
        "() => { const gd = document.querySelector('.js-plotly-plot'); return gd && gd._fullLayout; }"
    )
    return page, blocked, errors


POINTS_DRAWN = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  return gd._fullData.filter(t => t.type === 'scattergl' && t.visible === true)
                     .reduce((n, t) => n + t._length, 0);
}"""


def test_map_html_draws_every_point_offline(browser, lee_store, tmp_path):
    summary = make_map(open_source("lee", lee_store), tmp_path / "map.html", method="pca")
    page, blocked, errors = open_offline(browser, tmp_path / "map.html")
    assert page.evaluate(POINTS_DRAWN) == summary.points == 300
    assert page.locator("canvas").count() >= 1  # WebGL scatter
    assert page.locator(".annotation-text").count() == len(summary.clusters)  # cluster labels are drawn
    shot = page.screenshot(path=str(tmp_path / "map.png"))
    pixels = np.frombuffer(shot, dtype=np.uint8)
    assert len(shot) > 20_000 and pixels.std() > 0  # not a blank page
    assert blocked == [] and errors == []
    page.close()


def test_compare_html_links_hover_between_the_maps(browser, lee_store, tmp_path):
    from embedlab.datasets import gensim_test_data
    from embedlab.maps import compare_sources

    word2vec = f"vectors:{gensim_test_data('euclidean_vectors.bin')}"
    first, second = compare_sources("lee", word2vec, lee_store, sample=50)
    compare_map(first, second, tmp_path / "cmp.html", method="pca", k=5)
    page, blocked, errors = open_offline(browser, tmp_path / "cmp.html")
    assert page.evaluate(POINTS_DRAWN) == 100
    # hovering item 7 on one map rings item 7 on both maps
    marked, expected = page.evaluate("""() => {
      const gd = document.querySelector('.js-plotly-plot');
      gd.emit('plotly_hover', {points: [{customdata: 7}]});
      const where = gd._fullData.filter(t => t.customdata && t.name !== 'hovered').map(t => {
        const j = Array.from(t.customdata).indexOf(7);
        return j < 0 ? null : [t.xaxis, t.x[j], t.y[j]];
      }).filter(Boolean).sort();
      const marks = gd.data.filter(t => t.name === 'hovered').map(t => [t.x[0], t.y[0]]);
      return [marks, where.map(w => [w[1], w[2]])];
    }""")
    assert len(expected) == 2
    np.testing.assert_allclose(marked, expected, atol=1e-4)
    assert blocked == [] and errors == []
    page.close()
