"""Map speed: embedlab's t-SNE (openTSNE), UMAP and PCA against scikit-learn's TSNE, then a 100,000-point map.

Run: .venv/bin/python benchmarks/maps_tsne.py [--points 100000] [--peer-points 10000] [--vectors FILE.npy]

Points (default): 100,000 distinct 12-word windows (stride 3) of real text, the Lee news corpus
and the Wikipedia sample (head500.noblanks.cor) that gensim ships, each embedded as the mean of
all-MiniLM-L6-v2's input token embeddings (384-d, from the bundled minilm weights). This gives
real 384-d vectors with real topical structure in seconds; full minilm sentence embeddings of
100,000 texts take longer than the maps themselves on 2 cores (pass them with --vectors).

Part 1 times each method on the same first `--peer-points` points in the same run and prints the
ratio to scikit-learn's TSNE (Barnes-Hut, its default). Part 2 makes the full 2-D UMAP and t-SNE
maps of all points (HTML with WebGL scatter, k-means clusters), and, when Debian's chromium and
playwright are installed, opens the HTML offline and times until every point is drawn.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from embedlab.datasets import gensim_test_data
from embedlab.maps import MapData, make_map, project

WINDOW, STRIDE = 12, 3


def windows(limit: int) -> list[str]:
    words = []
    for name in ("lee_background.cor", "head500.noblanks.cor"):
        words += gensim_test_data(name).read_text(encoding="utf-8").split()
    texts = list(dict.fromkeys(" ".join(words[i : i + WINDOW]) for i in range(0, len(words) - WINDOW, STRIDE)))
    if len(texts) < limit:
        raise SystemExit(f"only {len(texts)} distinct windows; ask for fewer --points")
    return texts[:limit]


def static_minilm(texts: list[str]) -> np.ndarray:
    """Mean of minilm's input token embeddings over each text's word pieces (special tokens left out)."""
    import scipy.sparse as sp
    import torch
    from transformers import AutoModel, AutoTokenizer

    from embedlab.encoders.transformer import bundled_minilm_path

    path = bundled_minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    table = AutoModel.from_pretrained(path, use_safetensors=True).embeddings.word_embeddings.weight
    with torch.no_grad():
        table = table.numpy().astype(np.float32)
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    rows = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    cols = np.concatenate([np.asarray(i, dtype=np.int64) for i in ids])
    weights = np.concatenate([np.full(len(i), 1.0 / max(1, len(i)), dtype=np.float32) for i in ids])
    bag = sp.csr_matrix((weights, (rows, cols)), shape=(len(ids), table.shape[0]))
    return np.asarray(bag @ table, dtype=np.float32)


def timed(label: str, run) -> float:
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    print(f"  {label:<42} {seconds:8.1f} s", flush=True)
    return seconds


def draw_time(html: Path, points: int) -> float | None:
    """Seconds until headless Chromium (network blocked) has drawn every point, or None without chromium."""
    if not Path("/usr/bin/chromium").exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        started = time.perf_counter()
        page.goto(html.as_uri(), timeout=600_000)
        page.wait_for_function(
            """n => { const gd = document.querySelector('.js-plotly-plot');
                 return gd && gd._fullData && gd._fullData.reduce((s, t) => s + (t._length || 0), 0) === n; }""",
            arg=points,
            timeout=600_000,
        )
        seconds = time.perf_counter() - started
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--peer-points", type=int, default=10_000)
    parser.add_argument("--vectors", type=Path, help="a .npy of your own vectors instead of the default points")
    parser.add_argument("--methods", default="umap,tsne", help="methods for the full map (part 2)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "embedlab-maps-bench")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load}")

    started = time.perf_counter()
    if args.vectors:
        vectors = np.load(args.vectors, allow_pickle=False)[: args.points].astype(np.float32)
        texts = None
        print(f"points: {len(vectors):,} x {vectors.shape[1]} from {args.vectors}")
    else:
        texts = windows(args.points)
        vectors = static_minilm(texts)
        print(
            f"points: {len(vectors):,} x {vectors.shape[1]} (12-word windows of Lee + Wikipedia text, "
            f"mean of minilm input token embeddings), made in {time.perf_counter() - started:.1f} s"
        )

    # warm-up: compile numba code (umap, pynndescent) and load libraries outside the timings
    project(vectors[:300], "umap")
    project(vectors[:300], "tsne")

    peer = vectors[: args.peer_points]
    print(f"\npart 1: the same {len(peer):,} points, 2-D, one after the other in this run")
    from sklearn.manifold import TSNE

    sklearn_s = timed(
        "scikit-learn TSNE (barnes_hut, pca init)",
        lambda: TSNE(n_components=2, init="pca", random_state=0, metric="cosine").fit_transform(peer),
    )
    ours = {
        "embedlab tsne (openTSNE)": timed("embedlab tsne (openTSNE)", lambda: project(peer, "tsne")),
        "embedlab umap (umap-learn)": timed("embedlab umap (umap-learn)", lambda: project(peer, "umap")),
        "embedlab pca (scikit-learn)": timed("embedlab pca (scikit-learn)", lambda: project(peer, "pca")),
    }
    for label, seconds in ours.items():
        print(f"  {label:<42} {sklearn_s / seconds:8.1f}x faster than scikit-learn TSNE")

    print(f"\npart 2: 2-D maps of all {len(vectors):,} points, written as HTML (WebGL) with k-means clusters")
    data = MapData("bench", [str(i) for i in range(len(vectors))], vectors, texts)
    for method in args.methods.split(","):
        html = args.out / f"map-{method}-{len(vectors)}.html"
        summary = make_map(data, html, method=method, cache=False)
        size = html.stat().st_size / 1e6
        print(
            f"  {method}: projection {summary.projection_seconds:.1f} s, whole map {summary.seconds:.1f} s "
            f"(clusters, hover texts, HTML), {size:.1f} MB: {html}",
            flush=True,
        )
        drawn = draw_time(html, len(vectors))
        if drawn is not None:
            print(f"  {method}: headless Chromium (offline) drew all {len(vectors):,} points in {drawn:.1f} s")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (other work slows every timing)")


if __name__ == "__main__":
    main()
