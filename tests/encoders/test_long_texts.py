"""Bounded memory for hostile lengths, and the piecewise paths giving the vectors of the whole-text paths.

Memory is measured in a subprocess (Linux): after the model is loaded and warmed up, the peak-RSS counter is
reset (`/proc/self/clear_refs`), the operation runs, and the child prints its peak (VmHWM) minus the RSS it
started from. `resource.setrlimit(RLIMIT_AS)` is not used: torch and BLAS reserve far more address space
than they touch, so an address-space limit fails for reasons unrelated to the code under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from embedlab.encoders.base import text_pieces

BOUND_MB = 200

pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")

CHILD = """
import json, sys
from pathlib import Path

def mb(field):
    line = [x for x in open("/proc/self/status") if x.startswith(field)][0]
    return int(line.split()[1]) / 1024

def measure(setup, run):
    state = setup()
    open("/proc/self/clear_refs", "w").write("5")  # reset the peak-RSS counter
    start = mb("VmRSS")
    try:
        result = run(state)
    except Exception as exc:
        result = {"error": type(exc).__name__, "message": str(exc)}
    print(json.dumps({"extra_mb": mb("VmHWM") - start, "result": result}))
"""


def run_child(body: str, *args: str) -> dict:
    code = CHILD + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def huge_line(tmp_path_factory) -> Path:
    """A text file whose second line is 50 MB of real words (the Lee corpus, repeated)."""
    from embedlab.datasets import lee_news

    words = " ".join(r.text for r in lee_news())
    path = tmp_path_factory.mktemp("huge") / "huge.txt"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("a short first line\n")
        written = 0
        while written < 50_000_000:
            handle.write(words + " ")
            written += len(words) + 1
        handle.write("\nlast line\n")
    return path


def test_a_50_mb_line_is_refused_up_front_in_bounded_memory(huge_line):
    for suffix in (".txt", ".jsonl", ".csv"):
        path = huge_line
        if suffix != ".txt":  # the same line as a JSON string or a CSV field
            path = huge_line.with_suffix(suffix)
            if not path.exists():
                line = huge_line.read_text(encoding="utf-8").splitlines()[1]
                if suffix == ".jsonl":
                    path.write_text('{"text": "short"}\n' + json.dumps({"text": line}) + "\n", encoding="utf-8")
                else:
                    path.write_text('text\nshort\n"' + line + '"\n', encoding="utf-8")
                del line
        out = run_child(
            """
            from embedlab.io.records import read_records
            def setup():
                return None
            def run(_):
                return sum(1 for _ in read_records(sys.argv[1]))
            measure(setup, run)
            """,
            str(path),
        )
        assert out["result"]["error"] == "EmbedlabError", out
        line = 3 if suffix == ".csv" else 2  # the CSV's first line is its header
        assert f"line {line} is longer than max_chars=10,000,000" in out["result"]["message"], out
        assert out["extra_mb"] < BOUND_MB, (suffix, out)
        print(f"50 MB line in {suffix}: refused, {out['extra_mb']:.0f} MB above the baseline")


@pytest.mark.parametrize("model", ["wordllama", "vectors", "tfidf"])
def test_a_5_mb_text_embeds_within_the_bound(model, tmp_path):
    """Below the line limit, every encoder embeds a long text piece by piece; wordllama took ~450x the text."""
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("fire 0.1 0.2 0.3\nwater 0.3 0.1 0.0\npolice -0.2 0.4 0.1\n", encoding="utf-8")
    out = run_child(
        """
        import numpy as np
        from embedlab.datasets import lee_news
        from embedlab import load
        model, vectors = sys.argv[1], sys.argv[2]
        def setup():
            stories = [r.text for r in lee_news()]
            encoder = load("vectors:" + vectors if model == "vectors" else model)
            if not encoder.fitted:
                encoder.fit(stories)
            encoder.encode(stories[:40])
            text = " ".join(stories)
            return encoder, (text + " ") * (5_000_000 // len(text))
        def run(state):
            encoder, text = state
            vector = encoder.encode([text])[0]
            return {"norm": float(np.linalg.norm(vector)), "finite": bool(np.isfinite(vector).all())}
        measure(setup, run)
        """,
        model,
        str(vectors),
    )
    assert out["result"] == {"norm": pytest.approx(1.0, abs=1e-5), "finite": True}, out
    assert out["extra_mb"] < BOUND_MB, out
    print(f"{model} on a 5 MB text: {out['extra_mb']:.0f} MB above the baseline")


def test_transformer_windows_of_a_2_mb_text_stay_within_the_bound():
    """Tokenizing and windowing a very long text (the part that grew with the text) streams in pieces."""
    out = run_child(
        """
        from embedlab.datasets import lee_news
        from embedlab import load
        def setup():
            encoder = load("minilm")
            encoder.encode(["warm up"])
            text = " ".join(r.text for r in lee_news())
            return encoder, (text + " ") * (2_000_000 // len(text))
        def run(state):
            encoder, text = state
            return sum(1 for _ in encoder.long_windows(text))
        measure(setup, run)
        """
    )
    assert out["result"] > 1_500, out  # ~450,000 tokens in windows of 254 with an overlap of 32
    assert out["extra_mb"] < BOUND_MB, out
    print(f"minilm windows of 2 MB: {out['extra_mb']:.0f} MB above the baseline")


def test_a_vectors_header_promising_billions_is_refused_before_allocating(tmp_path):
    for header in ("1 2000000000", "2000000000 300"):
        path = tmp_path / "v.txt"
        path.write_text(f"{header}\nking 0.1\n", encoding="utf-8")
        out = run_child(
            """
            from embedlab.encoders.static import load_keyed_vectors
            def setup():
                return None
            def run(_):
                load_keyed_vectors(sys.argv[1])
            measure(setup, run)
            """,
            str(path),
        )
        assert out["result"]["error"] == "EmbedlabError", out
        assert "cannot hold them" in out["result"]["message"]
        assert out["extra_mb"] < BOUND_MB, out


# ---- the piecewise paths give the same vectors as the whole-text paths ----------------------------------


@pytest.fixture(scope="module")
def long_text() -> str:
    from embedlab.datasets import lee_news

    text = " ".join(r.text for r in lee_news()[:20])  # a little over the 20,000 characters of LONG_CHARS
    assert len(text) > 20_000
    return text


def test_text_pieces_cut_at_whitespace_and_lose_nothing(long_text):
    pieces = list(text_pieces(long_text, 5_000))
    assert "".join(pieces) == long_text
    assert all(len(p) <= 5_000 for p in pieces)
    assert all(p[0].isspace() for p in pieces[1:])  # each cut is where a run of whitespace starts
    blob = "x" * 12_345
    assert "".join(text_pieces(blob, 1_000)) == blob


@pytest.mark.parametrize("policy", ["window", "truncate"])
def test_transformer_streamed_windows_equal_the_whole_text_windows(minilm, long_text, policy):
    from embedlab import load

    encoder = minilm if policy == "window" else load("minilm", long_text="truncate")
    pieces, _ = encoder.windows([long_text])
    assert list(encoder.long_windows(long_text)) == pieces
    streamed = encoder.encode([long_text, "short"])
    stats = dict(encoder.last_stats)
    assert stats["long_texts"] == 1 and stats[{"window": "windowed", "truncate": "truncated"}[policy]] == 1
    import embedlab.encoders.transformer as transformer

    limit = transformer.LONG_CHARS
    transformer.LONG_CHARS = 10**9  # everything through the original batched path
    try:
        reference = encoder.encode([long_text, "short"])
    finally:
        transformer.LONG_CHARS = limit
    np.testing.assert_allclose(streamed, reference, atol=2e-6)


def test_wordllama_long_text_equals_its_own_mean(wordllama, long_text):
    import embedlab.encoders.wordllama as module

    pieces = wordllama.encode([long_text, "short"], normalize=False)
    limit = module.LONG_CHARS
    module.LONG_CHARS = 10**9
    try:
        whole = wordllama.encode([long_text, "short"], normalize=False)
    finally:
        module.LONG_CHARS = limit
    cosine = (pieces * whole).sum(1) / np.linalg.norm(pieces, axis=1) / np.linalg.norm(whole, axis=1)
    assert cosine.min() > 0.9999


def test_sparse_long_text_counts_equal_scikit_learn(long_text):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    from embedlab import load
    from embedlab.datasets import lee_news

    stories = [r.text for r in lee_news()]
    for kind, reference in (("tfidf", TfidfVectorizer()), ("count", CountVectorizer())):
        encoder = load(kind).fit(stories)
        reference.fit(stories)
        ours = encoder.transform([long_text, stories[0]]).toarray()
        theirs = reference.transform([long_text, stories[0]]).toarray()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
