"""`embedlab search/similar --server URL`: the same results as searching the store directly."""

from __future__ import annotations

import json

from tests.serve.conftest import KEY


def test_search_and_similar_through_the_server(server, served_store, run_cli, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_API_KEY", KEY)
    args = ("news", "floods in Queensland", "-k", "4", "--json")
    code, direct, err = run_cli("search", *args, "--store", str(served_store))
    assert code == 0, err
    code, remote, err = run_cli("search", *args, "--server", server.url)
    assert code == 0, err
    assert [r["id"] for r in json.loads(remote)] == [r["id"] for r in json.loads(direct)]
    code, direct, _ = run_cli("similar", "news", "lee-3", "--json", "--store", str(served_store))
    code, remote, _ = run_cli("similar", "news", "lee-3", "--json", "--server", server.url)
    assert [r["id"] for r in json.loads(remote)] == [r["id"] for r in json.loads(direct)]


def test_server_errors_are_clear(server, run_cli, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_API_KEY", KEY)
    code, _, err = run_cli("search", "nope", "x", "--server", server.url)
    assert code == 2 and "no collection 'nope'" in err
    monkeypatch.setenv("EMBEDLAB_API_KEY", "wrong-key-123456")
    code, _, err = run_cli("search", "news", "x", "--server", server.url)
    assert code == 2 and "API key" in err and "EMBEDLAB_API_KEY" in err
    code, _, err = run_cli("search", "news", "x", "--server", "http://127.0.0.1:1")
    assert code == 2 and "cannot reach the server" in err
