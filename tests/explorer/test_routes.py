"""The explorer's JSON routes without a browser (FastAPI's TestClient), on small real stores."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from tests.explorer.standin import build_app


@pytest.fixture(scope="module")
def news_store(tmp_path_factory, lee_records):
    from embedlab.store import Record, Store

    store = Store(tmp_path_factory.mktemp("routes") / "store")
    news = store.create("news", "wordllama")
    news.add_records(lambda: iter(lee_records), len(lee_records))
    tiny = store.create("tiny", "wordllama")
    tiny.add_records(lambda: iter([Record("a", "one fire", 1, {}), Record("b", "two floods", 2, {})]), 2)
    return store


@pytest.fixture(scope="module")
def client(news_store):
    return TestClient(build_app(news_store))


def wait_done(client, path, timeout=600):
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path)
        if response.status_code != 202:
            return response
        body = response.json()
        assert body["status"] == "running" and 0 <= body["progress"] <= 1 and body["stage"]
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_map_runs_in_the_background_and_is_reused(client, news_store):
    response = wait_done(client, "/explorer/api/collections/news/map?method=pca")
    assert response.status_code == 200
    body = response.json()
    assert len(body["ids"]) == len(body["x"]) == len(body["y"]) == len(body["texts"]) == 300
    assert body["clusters"] and len(set(body["clusters"])) >= 2
    assert all(name for name in body["cluster_names"].values())
    again = client.get("/explorer/api/collections/news/map?method=pca")
    assert again.status_code == 200 and again.json()["x"] == body["x"]
    assert client.get("/explorer/api/collections/news/map?method=pca&fresh=true").status_code in (200, 202)
    fresh = wait_done(client, "/explorer/api/collections/news/map?method=pca").json()
    assert fresh["cached"] is True and fresh["x"] == body["x"]  # the projection cache of embedlab.maps
    other = TestClient(build_app(news_store))  # a new server sends the saved map (clusters and all) at once
    saved = other.get("/explorer/api/collections/news/map?method=pca")
    if saved.status_code == 202:
        saved = wait_done(other, "/explorer/api/collections/news/map?method=pca")
    assert saved.json()["clusters"] == body["clusters"] and saved.json()["x"] == body["x"]


def test_failed_projection_and_bad_method_answer_with_a_message(client):
    failed = wait_done(client, "/explorer/api/collections/tiny/map?method=umap")
    assert failed.status_code == 422
    assert "at least 5 points" in failed.json()["error"]["message"]
    assert client.get("/explorer/api/collections/news/map?method=mds").status_code == 400
    assert client.get("/explorer/api/collections/nope/map").status_code == 404


def test_column_values_follow_the_map(client):
    wait_done(client, "/explorer/api/collections/news/map?method=pca")
    response = client.get("/explorer/api/collections/news/column", params={"name": "id"})
    assert response.json()["values"][:2] == ["lee-1", "lee-2"]
    missing = client.get("/explorer/api/collections/news/column", params={"name": "colour"})
    assert missing.status_code == 400 and "columns are" in missing.json()["error"]["message"]


def test_static_files_are_a_fixed_list(client):
    page = client.get("/")
    assert page.status_code == 200 and "embedlab explorer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/explorer/static/plotly.min.js").content.startswith(b"/**")
    assert client.get("/explorer/static/explorer.js").status_code == 200
    assert client.get("/explorer/static/routes.py").status_code == 404
    assert client.get("/explorer/static/..%2Froutes.py").status_code == 404


def test_words_accepts_only_its_word_models(client):
    analogy = client.post("/explorer/api/words", json={"op": "analogy", "a": "man", "b": "king", "c": "woman"})
    assert "queen" in [n["word"].lower() for n in analogy.json()["neighbors"]]
    arithmetic = client.post("/explorer/api/words", json={"op": "arithmetic", "expression": "king - man + woman"})
    assert [q["word"] for q in arithmetic.json()["query"]] == ["king", "woman", "man"]
    oov = client.post("/explorer/api/words", json={"op": "oov", "text": "the qwzxv king"}).json()
    assert oov["oov_types"] == 1 and oov["words"][0]["word"] == "qwzxv"
    refused = client.post("/explorer/api/words", json={"model": "vectors:/etc/passwd", "word": "king"})
    assert refused.status_code == 400 and "not a word model of this server" in refused.json()["error"]["message"]
    assert client.post("/explorer/api/words", json={"op": "neighbors", "word": " "}).status_code == 400
    assert client.post("/explorer/api/words", json={"op": "neighbors", "word": "king", "k": 10**6}).status_code == 422


def test_similarity_matrix_and_limits(client):
    body = client.post(
        "/explorer/api/similarity", json={"model": "wordllama", "texts": ["fire", "bushfire", "cricket"]}
    )
    matrix = body.json()["matrix"]
    assert matrix[0][0] == pytest.approx(1, abs=1e-3) and matrix[0][1] > matrix[0][2]
    assert client.post("/explorer/api/similarity", json={"texts": ["only one"]}).status_code == 400
    assert client.post("/explorer/api/similarity", json={"texts": ["x"] * 51}).status_code == 422


def test_images_are_refused_on_a_text_collection_and_when_too_large(client):
    from tests.images.conftest import png_header

    bomb = client.post("/explorer/api/collections/news/image", content=png_header(50_000, 50_000))
    assert bomb.status_code == 400 and "too large" in bomb.json()["error"]["message"]
    big = client.post("/explorer/api/collections/news/image", content=b"x", headers={"content-length": str(10**9)})
    # the server's body limit (413) or the explorer's own upload limit (400) answers first
    assert big.status_code in (400, 413) and "at most" in big.json()["error"]["message"]
    assert client.post("/explorer/api/collections/news/image", content=b"").status_code == 400


def test_a_key_guards_every_explorer_route(news_store):
    guarded = TestClient(build_app(news_store, api_key="k1"))
    assert guarded.get("/").status_code == 200  # the page itself asks for the key
    refused = guarded.get("/explorer/api/collections/news/map")
    assert refused.status_code == 401 and refused.json()["error"]["message"]
    assert guarded.post("/explorer/api/words", json={"word": "king"}).status_code == 401
    ok = guarded.get("/explorer/api/words/models", headers={"Authorization": "Bearer k1"})
    assert ok.status_code == 200 and ok.json()["data"][0] == "wordllama"


def test_parse_expression():
    from embedlab.serve.explorer.routes import parse_expression

    assert parse_expression("king - man + woman") == (["king", "woman"], ["man"])
    assert parse_expression("paris-france+italy") == (["paris", "italy"], ["france"])
    with pytest.raises(ValueError, match="no positive word"):
        parse_expression("- man")


def test_import_embedlab_stays_light_and_explore_is_lazy():
    code = (
        "import sys, embedlab; assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules;"
        "f = embedlab.explore; assert callable(f) and 'embedlab.serve.explorer.notebook' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_notebook_iframe_escapes_its_url():
    from embedlab.serve.explorer.notebook import Explorer

    html = Explorer('http://127.0.0.1:1/#/map/a"><script>x</script>')._repr_html_()
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html


def test_explore_command_refuses_an_unknown_collection(run_cli, tmp_path):
    code, _, err = run_cli("explore", "nope", "--store", str(tmp_path / "store"), "--no-browser")
    assert code == 2 and "nope" in err


def test_no_browser_without_a_display(monkeypatch):
    from embedlab.cli.explore import has_browser

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        assert has_browser() is False


def test_notebook_explore_starts_one_server_per_store_and_reuses_it(news_store, monkeypatch):
    import urllib.request

    import embedlab
    from embedlab.serve.explorer import notebook
    from tests.explorer import standin

    if standin.real_app_factory() is None:  # before the server branch: serve the stand-in
        import embedlab.serve

        def app(store, api_key=None):
            return build_app(store, api_key)

        app.standin = True
        monkeypatch.setattr(embedlab.serve, "app", app, raising=False)
    try:
        first = embedlab.explore("news", store=news_store)
        again = embedlab.explore(store=news_store)
        assert first.url.startswith("http://127.0.0.1:") and first.url.endswith("#/map/news")
        assert again.url.split("#")[0] == first.url.split("#")[0]  # the same server, reused
        assert 'src="http://127.0.0.1:' in first._repr_html_()
        page = urllib.request.urlopen(first.url.split("#")[0], timeout=30).read().decode()
        assert "embedlab explorer" in page
        with pytest.raises(ValueError, match="nope"):
            embedlab.explore("nope", store=news_store)
    finally:
        notebook.stop_all()
