"""How far embedlab's default long-text policy (window) is from sentence-transformers (truncate).

sentence-transformers cuts every text at the model's limit (256 tokens for all-MiniLM-L6-v2); embedlab
by default averages overlapping windows so no token is ignored. This script embeds the Lee background
stories longer than the limit both ways with the bundled minilm and prints the cosine between the two
vectors of each story (embedlab's `long_text="truncate"` equals sentence-transformers within 2e-7; see
benchmarks/encode_throughput.py).

    .venv/bin/python benchmarks/long_text_policy.py
"""

from __future__ import annotations

import numpy as np

from embedlab.datasets import lee_news
from embedlab.encoders import load


def main() -> None:
    stories = [story.text for story in lee_news()]
    window, truncate = load("minilm"), load("minilm", long_text="truncate")
    room = window.max_tokens - 2
    lengths = [len(ids) for ids in window.tokenizer(stories, add_special_tokens=False)["input_ids"]]
    long = [s for s, n in zip(stories, lengths, strict=True) if n > room]
    cosine = (window.encode(long) * truncate.encode(long)).sum(axis=1)
    print(f"{len(long)} of {len(stories)} Lee stories are longer than {window.max_tokens} tokens")
    print(
        f"cosine(window, truncate): median {np.median(cosine):.3f}, min {cosine.min():.3f}, "
        f"max {cosine.max():.3f}, below 0.9: {(cosine < 0.9).sum()}"
    )


if __name__ == "__main__":
    main()
