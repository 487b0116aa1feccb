"""Benchmark data shared by search_latency.py and the scale measurements: 100,000 distinct real texts.

The texts come from corpora that installed packages ship (gensim's test data): the English Wikipedia
sample (markup stripped with gensim's own `filter_wiki`), the Lee news corpus and the Pang & Lee
sentences. Wikipedia's sentences alone are not 100,000, so after whole sentences come their clauses
(split at , ; :) and then 12-word windows, every text distinct and at least 5 words long. They are
embedded once with wordllama (256 dimensions; its 512 and 1024 are not shipped) (minilm was tried: on this shared 2-core machine it
needed well over an hour for 100k texts) and cached under ~/.cache/embedlab/bench (float32 .npy).

    .venv/bin/python benchmarks/bench_data.py [--n 100000]   # builds the cache (~30 s)
"""

from __future__ import annotations

import argparse
import bz2
import re
import time
from pathlib import Path

import numpy as np

CACHE = Path.home() / ".cache" / "embedlab" / "bench"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def real_texts(n: int = 100_000) -> list[str]:
    """`n` distinct real texts (sentences first, then clauses, then 12-word windows), in a fixed random order.

    Texts after the first `n` of `real_texts(n + m)` are distinct from those `n`: use them as queries."""
    from gensim.corpora.wikicorpus import filter_wiki

    from embedlab.datasets import gensim_test_data, lee_news

    raw = bz2.open(
        gensim_test_data("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"), "rt"
    ).read()
    pages = re.findall(r"<text[^>]*>(.*?)</text>", raw, flags=re.S)
    paragraphs = []
    for page in pages:
        plain = filter_wiki(page.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&"))
        paragraphs += [
            p.strip() for p in plain.split("\n") if len(p.split()) >= 5 and not p.startswith(("*", "|", "!"))
        ]
    paragraphs += [r.text for r in lee_news() if r.text]
    sentences = [s.strip() for p in paragraphs for s in _SENTENCE.split(p) if len(s.split()) >= 5]
    out = dict.fromkeys(" ".join(s.split()) for s in sentences)
    if len(out) < n:
        for s in sentences:
            out.update(dict.fromkeys(" ".join(c.split()) for c in re.split(r"[,;:]", s) if len(c.split()) >= 5))
    if len(out) < n:
        for s in sentences:
            words = s.split()
            out.update(dict.fromkeys(" ".join(words[i : i + 12]) for i in range(0, max(1, len(words) - 4), 6)))
    texts = list(out)
    if len(texts) < n:
        raise SystemExit(f"only {len(texts):,} distinct texts in the shipped corpora; ask for --n {len(texts)}")
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.permutation(len(texts))[:n]]  # a prefix of one fixed permutation


def real_vectors(n: int = 100_000, dim: int = 256) -> tuple[list[str], np.ndarray]:
    """The texts and their unit vectors (cached: embedding 100k texts once takes minutes)."""
    texts = real_texts(n)
    path = CACHE / f"real-wordllama{dim}-{n}.npy"
    if path.exists():
        vectors = np.load(path)
        if len(vectors) == n:
            return texts, vectors
    from embedlab import load
    from embedlab.io.files import save_npy

    encoder = load("wordllama", dim=dim)
    started = time.perf_counter()
    vectors = encoder.encode(texts, batch_size=128, normalize=True, show_progress=True).astype(np.float32)
    print(f"embedded {n:,} texts with wordllama (dim {dim}) in {time.perf_counter() - started:,.0f}s")
    CACHE.mkdir(parents=True, exist_ok=True)
    save_npy(path, vectors)
    return texts, vectors


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=256)
    args = parser.parse_args()
    texts = real_texts(args.n)
    print(f"{len(texts):,} texts, e.g. {texts[:3]}")
    real_vectors(args.n, args.dim)
