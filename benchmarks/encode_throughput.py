"""Encode throughput (texts/s) of embedlab's minilm against sentence-transformers' `encode`,
same model folder, same texts, same batch size, same run, CPU.

Texts: sentences from the Lee news corpus (real, 5-60 words) and, separately, the 300 whole
stories (many over the 256-token limit: embedlab windows them, sentence-transformers truncates).

    .venv/bin/python benchmarks/encode_throughput.py [--n 2000] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np
import torch

from embedlab import load
from embedlab.datasets import lee_news


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    stories = [r.text for r in lee_news()]
    sentences = []
    for story in stories:
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", story) if len(s.split()) >= 5]
    sentences = sentences[: args.n]
    ours = load("minilm", long_text="truncate")
    windowed = load("minilm")
    reference = SentenceTransformer(str(ours.folder), device="cpu")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch size {args.batch_size}")
    for label, texts in (("sentences", sentences), ("whole stories", stories)):
        ours.encode(texts[:64]), reference.encode(texts[:64])  # warm up
        t_ours = best_of(lambda t=texts: ours.encode(t, batch_size=args.batch_size))
        t_ref = best_of(lambda t=texts: reference.encode(t, batch_size=args.batch_size, normalize_embeddings=True))
        t_win = best_of(lambda t=texts: windowed.encode(t, batch_size=args.batch_size))
        same = np.abs(ours.encode(texts[:200]) - reference.encode(texts[:200], normalize_embeddings=True)).max()
        print(f"\n{label}: {len(texts)} texts (max abs difference of vectors: {same:.1e})")
        print(f"  sentence-transformers encode     {len(texts) / t_ref:8.1f} texts/s")
        print(f"  embedlab minilm (truncate)       {len(texts) / t_ours:8.1f} texts/s   ratio {t_ref / t_ours:.2f}x")
        print(
            f"  embedlab minilm (window, default){len(texts) / t_win:8.1f} texts/s   "
            f"({windowed.last_stats.get('windowed', 0)} texts longer than 256 tokens read whole, in windows)"
        )


if __name__ == "__main__":
    main()
