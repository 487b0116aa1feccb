"""Killing `embedlab index` half way leaves a readable collection; re-running completes it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from embedlab.errors import Interrupted
from embedlab.store import Store


def test_kill_mid_ingest_then_resume(tmp_path, lee_records):
    sentences = []
    for record in lee_records:
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 3]
    sentences = list(dict.fromkeys(sentences))[:500]
    corpus = tmp_path / "sentences.txt"
    corpus.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    store_path = tmp_path / "store"
    command = [
        sys.executable,
        "-m",
        "embedlab",
        "index",
        "sentences",
        str(corpus),
        "--model",
        "minilm",
        "--batch-size",
        "50",
        "--store",
        str(store_path),
        "--json",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.3)
        if "sentences" in Store(store_path).names():
            stored = len(Store(store_path).collection("sentences"))
            if stored >= 100:
                break
    assert process.poll() is None, "the ingest finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()

    interrupted = Store(store_path).collection("sentences")
    partial = len(interrupted)
    assert 100 <= partial < len(sentences)
    assert interrupted.search("bushfire near Sydney", k=3)

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    finished = Store(store_path).collection("sentences")
    ids = finished.table.to_arrow()["id"].to_pylist()
    assert len(ids) == len(set(ids)) == len(sentences)
    import json

    summary = json.loads(result.stdout)
    assert summary["unchanged"] >= partial and summary["added"] == len(sentences) - summary["unchanged"]


def test_sigterm_exits_143_saying_what_was_kept(tmp_path, sentences):
    from tests.store.conftest import finish, start

    corpus = tmp_path / "news.txt"
    corpus.write_text("\n".join(sentences[:1500]) + "\n", encoding="utf-8")
    store_path = tmp_path / "store"
    assert Store(store_path).db is not None  # imports lancedb here, before the race starts
    process = start(store_path, "index", "news", str(corpus), "-m", "wordllama", "--batch-size", "10")
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if "news" in Store(store_path).names() and len(Store(store_path).collection("news")) >= 30:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the ingest finished before it could be stopped"
    process.send_signal(signal.SIGTERM)
    code, _, err = finish(process)
    kept = len(Store(store_path).collection("news"))
    assert code == 143, err
    line = err.strip().splitlines()[-1]
    match = re.fullmatch(
        r"interrupted \(SIGTERM\): kept ([\d,]+) of 1,500 items in collection 'news'; run the same command again to finish\.",
        line,
    )
    assert match and int(match.group(1).replace(",", "")) == kept, line


def test_ctrl_c_in_any_command_exits_130_with_one_line(run_cli, monkeypatch, tmp_path):
    import embedlab.encoders as core  # the command imports `load` from here when it runs

    def interrupted(*args, **kwargs):
        raise Interrupted(signal.SIGINT)  # what the command line's handler raises on Ctrl-C

    monkeypatch.setattr(core, "load", interrupted)
    output = tmp_path / "vectors.npy"
    code, _, err = run_cli("embed", "wordllama", "a text", "-o", str(output))
    assert code == 130 and not output.exists()
    line = (
        "interrupted (Ctrl-C): files and collections are written whole or not at all; run the same command again "
        "to finish."
    )
    assert err.strip() == line

    def keyboard_interrupt(*args, **kwargs):
        raise KeyboardInterrupt  # from code that is not our handler: typer turns it into 130, still said

    monkeypatch.setattr(core, "load", keyboard_interrupt)
    code, _, err = run_cli("embed", "wordllama", "a text", "-o", str(output))
    assert code == 130 and err.strip() == line
