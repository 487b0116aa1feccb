"""Which int8 quantization for `onnx-int8`: each variant's closeness to torch fp32, its `embedlab evaluate all`
scores, and its speed against sentence-transformers' `encode`, measured in the same run.

Per variant (an `Int8Settings`, built from the same cached fp32 export):
- minimum / mean cosine to embedlab torch fp32 on the first 2,000 Lee news sentences (the speed benchmark's
  texts) and on whole Lee news stories (--stories, default all 300; long ones in windows). None of these
  texts is in the evaluation data (Lee's 50 documents and the Pang & Lee sentences); SmoothQuant variants are
  calibrated on the Lee sentences after the first 2,000, so those are held out from both;
- texts/s encoding the 2,000 sentences at batch 32, and the ratio to sentence-transformers' `encode` of the
  same texts, timed in turns with it (best of --repeats each);
- every `embedlab evaluate all` score's difference to torch fp32.

The rule that picks the default is stated in docs/speed.md; it reads only the cosines and the speed.

    nice -n 19 .venv/bin/python benchmarks/int8_variants.py [--variants NAME ...] [--repeats 3] [--no-evaluate]
      [--no-speed] [--stories N]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

import numpy as np

from embedlab import load
from embedlab.datasets import lee_news
from embedlab.encoders.onnx import CALIBRATION_SKIP, Int8Settings, OnnxForward

FFN_OUT = r"layer\.\d+/output/dense/"
FFN_IN = r"layer\.\d+/intermediate/dense/"
VARIANTS: dict[str, Int8Settings | None] = {  # in the order they are run: the likeliest candidates first
    "per-channel, FFN output fp32 (v2)": Int8Settings(),
    "SmoothQuant 0.5 + FFN output fp32": Int8Settings(smooth=0.5),
    "FFN fp32 (attention projections int8)": Int8Settings(keep_fp32=(FFN_OUT, FFN_IN)),
    "v2 + layers 0, 5 fp32": Int8Settings(keep_fp32=(FFN_OUT, r"layer\.[05]/")),
    "SmoothQuant 0.5, per-channel": Int8Settings(keep_fp32=(), smooth=0.5),
    "per-channel, MatMul": Int8Settings(keep_fp32=()),
    "v2 + reduce_range": Int8Settings(reduce_range=True),
    "v2, QUInt8 weights": Int8Settings(weight_type="QUInt8"),
    "SmoothQuant 0.75 + FFN output fp32": Int8Settings(smooth=0.75),
    "SmoothQuant 0.9 + FFN output fp32": Int8Settings(smooth=0.9),
    "v2 + layer 5 fp32": Int8Settings(keep_fp32=(FFN_OUT, r"layer\.5/")),
    "v2 + layer 0 fp32": Int8Settings(keep_fp32=(FFN_OUT, r"layer\.0/")),
    "per-tensor, MatMul": Int8Settings(per_channel=False, keep_fp32=()),
    "ort defaults (per-tensor, MatMul+Gather)": Int8Settings(per_channel=False, op_types=None, keep_fp32=()),
    "onnx fp32 (no quantization)": None,
}


def lee_sentences() -> list[str]:
    sentences = []
    for story in (r.text for r in lee_news()):
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", story) if len(s.split()) >= 5]
    return sentences


def interleaved(first: Callable[[], object], second: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best seconds of each, timed in turns (first, second, first, ...) so both see the same machine load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, found in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            found.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", nargs="*", help="names (substrings) of the variants to run; default all")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-evaluate", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-cosine", action="store_true", help="skip the cosines to torch (speed only)")
    parser.add_argument("--stories", type=int, default=300, help="whole Lee stories compared (default all 300)")
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    from embedlab.evaluate import evaluate

    sentences = lee_sentences()
    texts = sentences[:CALIBRATION_SKIP]  # the calibration sentences come after these
    stories = [r.text for r in lee_news() if r.text][: args.stories]
    torch_fp32 = load("minilm")
    truth = None if args.no_cosine else torch_fp32.encode(texts, batch_size=32)
    truth_stories = torch_fp32.encode(stories, batch_size=32) if stories and truth is not None else None
    reference = SentenceTransformer(str(torch_fp32.folder), device="cpu")
    reference.encode(texts[:64], batch_size=32)  # warm-up
    if not args.no_evaluate:
        base = evaluate("all", [torch_fp32])
        columns = [c for c in base.columns() if base.value("minilm", c) is not None]
        print("torch fp32:", {" / ".join(c): round(base.value("minilm", c), 4) for c in columns}, flush=True)

    chosen = {n: s for n, s in VARIANTS.items() if not args.variants or any(v in n for v in args.variants)}
    rows = []
    for name, settings in chosen.items():
        encoder = load("minilm", backend="onnx")
        started = time.perf_counter()
        encoder._onnx = OnnxForward(
            encoder.weights_version(),
            lambda e=encoder: e._load_torch(eager=True),
            int8=settings,
            calibration=encoder._calibration_feeds,
        )
        built = time.perf_counter() - started
        if settings is not None:
            encoder.backend, encoder.precision, encoder.name = "onnx-int8", "int8", f"minilm int8 {name}"
        row = {"variant": name, "MB": encoder._onnx.path.stat().st_size / 1e6, "build s": built}
        if truth is not None:
            close = (encoder.encode(texts, batch_size=32) * truth).sum(1)
            row.update({"min cos": close.min(), "mean cos": close.mean()})
        if stories and truth_stories is not None:
            row["min cos stories"] = (encoder.encode(stories, batch_size=32) * truth_stories).sum(1).min()
        if not args.no_speed:
            encoder.encode(texts[:64], batch_size=32)  # warm-up: the first run of a session allocates
            st, mine = interleaved(
                lambda: reference.encode(texts, batch_size=32, normalize_embeddings=True),
                lambda e=encoder: e.encode(texts, batch_size=32),
                args.repeats,
            )
            row.update({"texts/s": len(texts) / mine, "vs ST": st / mine})
        if not args.no_evaluate:
            report = evaluate("all", [encoder])
            for c in columns:
                row[" / ".join(c)] = report.value(encoder.name, c) - base.value("minilm", c)
            row["worst gap"] = max(abs(row[" / ".join(c)]) for c in columns)
        rows.append(row)
        print({k: (round(v, 4) if isinstance(v, float | np.floating) else v) for k, v in row.items()}, flush=True)
    keys = list(rows[0]) if rows else []
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in rows:
        cells = [f"{row[k]:.4f}" if isinstance(row[k], float | np.floating) else str(row[k]) for k in keys]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
