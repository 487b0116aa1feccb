"""The real server, started by the tests: `embedlab serve` in its own process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

KEY = "test-key-5f3a9c1e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `embedlab serve` process; `url` is its base URL, `log` its stderr/stdout."""

    def __init__(self, store: Path, *args: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [sys.executable, "-m", "embedlab", "serve", "--store", str(store), "--port", str(self.port), *args]
        env = {k: v for k, v in os.environ.items() if k != "EMBEDLAB_API_KEY"}
        self.process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
        self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start in {timeout}s:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def make_store(path: Path, lee_records) -> Path:
    """`news`: the Lee background corpus (300 stories, metadata doc and words); `movies`: four films."""
    from embedlab.datasets import movies
    from embedlab.store import Store

    store = Store(path)
    store.create("news", "wordllama").add_records(lambda: iter(lee_records), total=len(lee_records))
    films = movies()
    store.create("movies", "wordllama").add_records(lambda: iter(films), total=len(films))
    return path


@pytest.fixture(scope="session")
def served_store(tmp_path_factory, lee_records) -> Path:
    return make_store(tmp_path_factory.mktemp("served") / "store", lee_records)


@pytest.fixture(scope="session")
def server(served_store, tmp_path_factory):
    """The shared server: the key, wordllama loaded at start, writes allowed."""
    started = Server(
        served_store,
        "--model",
        "wordllama",
        "--api-key",
        KEY,
        "--allow-writes",
        log=tmp_path_factory.mktemp("logs") / "server.log",
    )
    yield started
    started.stop()


@pytest.fixture(scope="session")
def api(server):
    """httpx client with the key."""
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as client:
        yield client


@pytest.fixture(scope="session")
def openai_client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0, timeout=120)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of Prometheus text (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
