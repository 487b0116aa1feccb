"""Killing `embedlab index` half way leaves a readable collection; re-running completes it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

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
