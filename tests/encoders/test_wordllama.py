from __future__ import annotations

import numpy as np

from embedlab.encoders.wordllama import wordllama_cache_dir


def test_loads_offline_with_the_packaged_tokenizer(wordllama):
    assert (wordllama_cache_dir() / "tokenizers" / "l2_supercat_tokenizer_config.json").is_file()
    assert wordllama.dim == 256 and wordllama.recipe["encoder"] == "wordllama"


def test_related_texts_are_closer(wordllama):
    v = wordllama.encode(["the king and the queen", "a royal palace", "carrot soup recipe"])
    assert v[0] @ v[1] > v[0] @ v[2]
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_text_gives_zero_vector(wordllama):
    v = wordllama.encode(["", "hello"])
    assert not v[0].any() and wordllama.last_stats["empty_texts"] == 1


def test_import_leaves_logging_alone():
    import logging
    import subprocess
    import sys

    code = (
        "import logging; from embedlab.encoders.wordllama import WordLlamaEncoder; WordLlamaEncoder(); "
        "print(len(logging.getLogger().handlers), logging.getLogger().level)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", str(logging.WARNING)]


def lee_sentences(count: int) -> list[str]:
    import re

    from embedlab.datasets import lee_news

    sentences = [s for r in lee_news() for s in re.split(r"(?<=[.!?])\s+", r.text)]
    return sentences[:count]


ODD = ["", "   ", "a", "😀 日本語 ü ß", "\x00\x01 tab\tnew\nline", "x" * 1_999, "word " * 399]


def test_mean_token_vectors_equal_wordllamas_own_embed(wordllama):
    """Tokenizing one text at a time (no thread pool) gives wordllama's `embed` vectors, edge cases included."""
    texts = lee_sentences(500) + ODD
    ours = wordllama.mean_token_vectors(texts)
    theirs = wordllama.model.embed(texts, norm=False, batch_size=64)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert not ours[500].any() and ours[502].any()  # "" has no tokens; "   " has (a space token)


def test_groups_split_anywhere_give_the_same_vectors(wordllama, monkeypatch):
    """Groups of a few tokens: a group boundary falls next to texts without tokens and inside long runs."""
    import embedlab.encoders.wordllama as module

    texts = ["", *lee_sentences(40), "", "", *ODD, ""]
    whole = wordllama.mean_token_vectors(texts)
    for size in (1, 7, 50):
        monkeypatch.setattr(module, "POOL_TOKENS", size)
        np.testing.assert_allclose(wordllama.mean_token_vectors(texts), whole, atol=1e-6)
    assert wordllama.mean_token_vectors([]).shape == (0, wordllama.dim)
    assert wordllama.mean_token_vectors(["", " "]).shape == (2, wordllama.dim)


def test_encoding_runs_in_the_calling_thread():
    """wordllama's `embed` tokenizes on the Rust thread pool, whose per-thread heaps grew over a long ingest
    (docs/scale.md); embedlab's encoder must do its work in the calling thread. Measured as CPU time per
    thread (/proc): the other threads stay idle while thousands of texts are encoded, and the same texts
    through wordllama's `embed` do put work on them (so the check can tell)."""
    import os
    import subprocess
    import sys

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("reads per-thread CPU time from /proc")
    code = (
        "import os, re\n"
        "from embedlab import load\n"
        "from embedlab.datasets import lee_news\n"
        "def others():\n"
        "    ticks = 0\n"
        "    for t in os.listdir('/proc/self/task'):\n"
        "        if int(t) != os.getpid():\n"
        "            stat = open(f'/proc/self/task/{t}/stat').read().rsplit(')', 1)[1].split()\n"
        "            ticks += int(stat[11]) + int(stat[12])\n"
        "    return ticks\n"
        "texts = [s for r in lee_news() for s in re.split(r'(?<=[.!?])\\s+', r.text)] * 4\n"
        "encoder = load('wordllama')\n"
        "start = others()\n"
        "counts = encoder.count_tokens(texts)\n"
        "encoder.encode(texts + [' '.join(texts[:300])])  # and one long text, embedded piece by piece\n"
        "ours = others()\n"
        "encoder.model.embed(texts)\n"
        "assert counts == [sum(e.attention_mask) for e in encoder.model.tokenize(texts)], 'count_tokens'\n"
        "print(ours - start, others() - ours)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TOKENIZERS_PARALLELISM"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    ours, pool = map(int, run.stdout.split())
    assert ours <= 2 < pool  # clock ticks (1/100 s) spent by threads other than the caller


def test_dims_are_the_bundled_file_and_its_truncations():
    """64 and 128 are the first dimensions of the 256-dim vectors (Matryoshka, as WordLlama was trained);
    512 and 1024 are not bundled and are refused with what to choose, not a ValueError from the package."""
    import numpy as np
    import pytest

    from embedlab.encoders.wordllama import WordLlamaEncoder
    from embedlab.errors import EmbedlabError

    full = WordLlamaEncoder(256).encode(["a cat sat on the mat", "stock markets fell"], normalize=False)
    small = WordLlamaEncoder(64)
    assert small.dim == 64 and small.name == "wordllama-64"
    np.testing.assert_allclose(
        small.encode(["a cat sat on the mat", "stock markets fell"], normalize=False),
        full[:, :64],
        rtol=1e-5,
        atol=1e-6,
    )
    for dim in (512, 1024):
        with pytest.raises(EmbedlabError, match="not bundled") as info:
            WordLlamaEncoder(dim)
        assert "(64, 128, 256)" in info.value.hint and info.value.param == "dim"
    with pytest.raises(EmbedlabError, match="no 100-dim"):
        WordLlamaEncoder(100)
