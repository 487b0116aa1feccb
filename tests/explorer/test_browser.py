"""The explorer in headless Chromium (software WebGL), offline: every request off the loopback server is blocked."""

from __future__ import annotations

import json

import pytest

from tests.explorer.conftest import BIG

TRACE = """(name) => { const gd = document.getElementById('map-overlay');
  const t = gd.data.find((t) => t.name === name); return {x: Array.from(t.x), y: Array.from(t.y)}; }"""
DRAWN = """() => { const gd = document.getElementById('map-plot');
  return gd._fullData.filter((t) => t.type === 'scattergl' && t.name === 'points').reduce((n, t) => n + t._length, 0); }"""
PIXEL = """(row) => { const gd = document.getElementById('map-plot'); const L = gd._fullLayout;
  const box = gd.getBoundingClientRect(); const M = window.explorer.map;
  return [box.left + L._size.l + L.xaxis.l2p(M.x[row]), box.top + L._size.t + L.yaxis.l2p(M.y[row])]; }"""
INSIDE = """([x0, y0, x1, y1]) => { const gd = document.getElementById('map-plot'); const L = gd._fullLayout;
  const box = gd.getBoundingClientRect(); const M = window.explorer.map; const ids = [];
  for (let i = 0; i < M.x.length; i++) {
    const px = box.left + L._size.l + L.xaxis.l2p(M.x[i]), py = box.top + L._size.t + L.yaxis.l2p(M.y[i]);
    if (px > x0 && px < x1 && py > y0 && py < y1) ids.push(M.ids[i]);
  } return ids; }"""


def search(page, text: str) -> None:
    before = page.evaluate("() => window.explorer.searches")
    page.fill("#query", text)
    page.press("#query", "Enter")
    page.wait_for_function(f"() => window.explorer.searches > {before}", timeout=90_000)


def test_search_highlights_the_first_result_and_places_the_query(open_page, explorer_server, shots):
    view = open_page(explorer_server, "#/map/demo-news/pca")
    view.wait_map()
    page = view.page
    assert page.evaluate(DRAWN) == 300
    assert page.locator(".annotation-text").count() >= 2  # cluster names on the map
    search(page, "bushfires")
    first = page.locator("#results li.first")
    assert "bushfire" in first.inner_text().lower() or "fire" in first.inner_text().lower()
    first_id = first.get_attribute("data-id")
    row = page.evaluate(f"() => window.explorer.index.get({json.dumps(first_id)})")
    marked = page.evaluate(TRACE, "first result")
    m = page.evaluate("() => window.explorer.map")
    assert marked == {"x": [m["x"][row]], "y": [m["y"][row]]}
    assert len(page.evaluate(TRACE, "results")["x"]) == 10
    query = page.evaluate(TRACE, "query")
    assert len(query["x"]) == 1 and min(m["x"]) <= query["x"][0] <= max(m["x"])
    page.screenshot(path=str(shots / "search.png"))
    view.clean()


def test_click_draws_neighbours_and_box_select_lists_points(open_page, explorer_server, shots, tmp_path):
    view = open_page(explorer_server, "#/map/demo-news/pca")
    view.wait_map()
    page = view.page
    x, y = page.evaluate(PIXEL, 17)
    page.mouse.move(x, y)
    page.wait_for_selector("#hoverbox:not([hidden])")
    page.mouse.click(x, y)
    page.wait_for_selector("#details ol.neighbours li")
    clicked = page.evaluate("() => window.explorer.clicked")
    assert page.locator("#details h3").inner_text() == page.evaluate(f"() => window.explorer.map.ids[{clicked}]")
    assert page.locator("#details ol.neighbours li").count() == 10
    lines = page.evaluate(TRACE, "neighbour lines")
    assert len(lines["x"]) == 30  # from the point to each of 10 neighbours (with gaps)
    page.screenshot(path=str(shots / "neighbours.png"))

    page.click(".modes button[data-drag=select]")
    plot = page.locator("#map-plot .nsewdrag").first.bounding_box()
    x0, y0 = plot["x"] + plot["width"] * 0.3, plot["y"] + plot["height"] * 0.3
    x1, y1 = plot["x"] + plot["width"] * 0.6, plot["y"] + plot["height"] * 0.6
    inner = set(page.evaluate(INSIDE, [x0 + 3, y0 + 3, x1 - 3, y1 - 3]))  # surely inside the box
    outer = set(page.evaluate(INSIDE, [x0 - 3, y0 - 3, x1 + 3, y1 + 3]))  # inside or on its edge
    assert len(inner) >= 5
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    page.wait_for_selector("#selection:not([hidden])")
    listed = page.locator("#selection-table tbody tr td:first-child").all_inner_texts()
    assert len(listed) == len(set(listed)) and inner <= set(listed) <= outer
    with page.expect_download() as download:
        page.click("#export-jsonl")
    path = tmp_path / "selection.jsonl"
    download.value.save_as(path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(listed)
    with page.expect_download() as download:
        page.click("#export-csv")
    download.value.save_as(tmp_path / "selection.csv")
    assert (tmp_path / "selection.csv").read_text(encoding="utf-8").startswith("id,text,x,y,cluster")
    page.screenshot(path=str(shots / "selection.png"))
    view.clean()


def test_compare_view_links_hover_and_colours_by_jaccard(open_page, explorer_server, shots):
    view = open_page(explorer_server, "#/compare/demo-news/demo-news-wordllama/pca")
    page = view.page
    page.wait_for_function("() => window.explorer.compare && document.querySelectorAll('#cmp-moved tbody tr').length")
    colours = page.evaluate("() => document.getElementById('cmp-plot-a').data[0].marker.color.length")
    assert colours == 300
    jaccard = page.evaluate("() => window.explorer.compare.jaccard")
    assert 0 <= min(jaccard) < max(jaccard) <= 1
    # hover a point on map A: the same item is ringed on both maps
    gd = "document.getElementById('cmp-plot-a')"
    x, y = page.evaluate(f"""() => {{ const gd = {gd}; const L = gd._fullLayout; const b = gd.getBoundingClientRect();
      const C = window.explorer.compare; return [b.left + L._size.l + L.xaxis.l2p(C.xa[5]),
      b.top + L._size.t + L.yaxis.l2p(C.ya[5])]; }}""")
    page.mouse.move(x, y)
    page.wait_for_function("() => window.explorer.compareHover !== undefined")
    row = page.evaluate("() => window.explorer.compareHover")
    c = page.evaluate("() => window.explorer.compare")
    ring_a = page.evaluate("() => Array.from(document.getElementById('cmp-plot-a').data[1].x)")
    ring_b = page.evaluate("() => Array.from(document.getElementById('cmp-plot-b').data[1].x)")
    assert ring_a == [c["xa"][row]] and ring_b == [c["xb"][row]]
    assert page.locator("#cmp-moved tbody tr").count() == 50
    page.screenshot(path=str(shots / "compare.png"))
    view.clean()


def test_words_analogy_finds_queen(open_page, explorer_server, shots):
    view = open_page(explorer_server, "#/words")
    page = view.page
    page.wait_for_selector("#w-model option", state="attached")
    page.fill("#w-a", "man")
    page.fill("#w-b", "king")
    page.fill("#w-c", "woman")
    page.click("#w-analogy button")
    page.wait_for_selector("#w-out tbody tr")
    words = page.locator("#w-out tbody tr td:nth-child(2)").all_inner_texts()
    assert len(words) == 10 and "queen" in [w.lower() for w in words]
    page.fill("#w-text", "the qwzxv king walked")
    page.click("#w-oov button")
    page.wait_for_function("() => document.getElementById('w-report').textContent.includes('oov_rate')")
    assert "qwzxv" in page.locator("#w-out").inner_text()
    page.screenshot(path=str(shots / "words.png"))
    view.clean()


def test_similarity_heatmap(open_page, explorer_server, shots):
    view = open_page(explorer_server, "#/similarity")
    page = view.page
    page.wait_for_selector("#s-model option", state="attached")
    page.fill("#s-texts", "Bushfires burn near Sydney\nFire crews fight blazes\nThe cricket team won")
    page.click("#s-go")
    page.wait_for_selector("#s-legend li")
    z = page.evaluate("() => document.getElementById('s-plot').data[0].z")
    assert len(z) == 3 and z[0][0] == pytest.approx(1, abs=1e-3) and z[0][1] > z[0][2]
    page.screenshot(path=str(shots / "similarity.png"))
    view.clean()


def test_collections_view_and_xss_item_is_inert(open_page, explorer_server, shots):
    view = open_page(explorer_server, "#/collections")
    page = view.page
    page.wait_for_selector("#collections-table tbody tr")
    assert "demo-news" in page.locator("#collections-table").inner_text()
    page.screenshot(path=str(shots / "collections.png"))
    page.click("text=explore >> nth=0")
    page.goto(explorer_server.url + "#/map/hostile/pca")
    page.wait_for_function("() => window.explorer.mapDrawn && window.explorer.current === 'hostile'")
    search(page, "img script")
    page.wait_for_selector("#results li")
    text = page.locator("#results").inner_text()
    assert "<img src=x onerror=" in text and "<script>" in text  # shown literally
    x, y = page.evaluate(PIXEL, 0)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_selector("#details h3")
    assert page.locator("#results img, #details img, #hoverbox img[src]").count() == 0
    assert page.evaluate("() => window.__xss") is None
    view.clean()


def test_api_key_is_asked_once_and_sent(open_page, explorer_store, chromium):
    from tests.explorer.conftest import Page, Served

    served = Served(explorer_store, api_key="s3cret")
    try:
        view = Page(chromium, served).open("#/collections")
        page = view.page
        page.wait_for_selector("#keybox:not([hidden])")
        assert "API key" in page.locator("#keywhy").inner_text()
        assert "Bearer" in page.locator("#keywhy").inner_text()  # the server's reason is shown
        page.fill("#keyinput", "s3cret")
        page.press("#keyinput", "Enter")
        page.wait_for_selector("#collections-table tbody tr")
        assert page.locator("#keybox").is_hidden()
        view.errors = [e for e in view.errors if "401" not in e]  # the refused first request is logged
        view.clean()
        view.close()
    finally:
        served.stop()


def test_failed_projection_shows_a_message(open_page, tmp_path):
    from embedlab.store import Record, Store
    from tests.explorer.conftest import Served

    store = Store(tmp_path / "store")
    tiny = store.create("tiny", "wordllama")
    tiny.add_records(lambda: iter([Record("a", "one", 1, {}), Record("b", "two", 2, {})]), 2)
    served = Served(store)
    try:
        view = open_page(served, "#/map/tiny/umap")
        page = view.page
        page.wait_for_selector("#map-note:not([hidden])")
        assert "at least 5 points" in page.locator("#map-note").inner_text()
        view.errors = [e for e in view.errors if "422" not in e]
        view.clean()
    finally:
        served.stop()


def test_image_collection_thumbnails_and_dropped_image(open_page, image_server, photos, shots):  # noqa: F811
    view = open_page(image_server, "#/map/photos/pca")
    view.wait_map()
    page = view.page
    assert page.locator("#dropzone").is_visible()
    x, y = page.evaluate(PIXEL, 0)
    page.mouse.move(x, y)
    page.wait_for_function("() => { const i = document.getElementById('hoverimg'); return i.src.startsWith('blob:'); }")
    page.set_input_files("#imagefile", str(photos / "rocket.jpg"))
    page.wait_for_selector("#results li.first img")
    assert page.locator("#results li.first").get_attribute("data-id").endswith("rocket.jpg")
    page.fill("#labels", "cat, rocket")
    page.set_input_files("#imagefile", str(photos / "chelsea.png"))
    page.wait_for_function(
        "() => (document.querySelector('#results li.first') || {dataset: {}}).dataset.id"
        " && document.querySelector('#results li.first').dataset.id.endsWith('chelsea.png')"
    )
    assert page.locator("#results li.first img").count() == 1  # its thumbnail
    page.wait_for_selector("#zeroshot table")
    assert "cat" in page.locator("#zeroshot").inner_text()
    page.screenshot(path=str(shots / "images.png"))
    view.clean()


def test_100k_points_draw_and_search(open_page, big_server, shots):
    view = open_page(big_server, "#/map/big/pca")
    view.wait_map(timeout=120_000)
    page = view.page
    assert page.evaluate(DRAWN) == BIG
    search(page, "item-5 topic")
    first_id = page.locator("#results li.first").get_attribute("data-id")
    row = page.evaluate(f"() => window.explorer.index.get({json.dumps(first_id)})")
    assert page.evaluate(TRACE, "first result")["x"] == [page.evaluate(f"() => window.explorer.map.x[{row}]")]
    assert len(page.evaluate(TRACE, "query")["x"]) == 1
    page.screenshot(path=str(shots / "map-100k.png"))
    view.clean()
