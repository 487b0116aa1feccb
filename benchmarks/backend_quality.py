"""`embedlab evaluate all` for minilm on every backend (torch, onnx, onnx-int8), a distilled static model and
wordllama, in one table; then, per score, the largest difference of each backend to torch fp32.

    .venv/bin/python benchmarks/backend_quality.py [--static models/minilm-static]

The issue's goal: every onnx-int8 score within 0.01 of torch.
"""

from __future__ import annotations

import argparse

from embedlab import load
from embedlab.evaluate import evaluate
from embedlab.evaluate.report import markdown


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--static", help="a static model folder made by `embedlab distill`")
    args = parser.parse_args()
    models = []
    for backend in ("torch", "onnx", "onnx-int8"):
        encoder = load("minilm", backend=backend)
        encoder.name = "minilm" if backend == "torch" else f"minilm {backend}"
        models.append(encoder)
    if args.static:
        static = load(f"static:{args.static}")
        static.name = "minilm-static (distilled)"
        models.append(static)
    models.append(load("wordllama"))
    report = evaluate("all", models)
    print(markdown(report))
    print("\nlargest difference to minilm (torch fp32), over every score:")
    for model in report.models():
        if model == "minilm":
            continue
        gaps = [
            (abs(report.value(model, c) - report.value("minilm", c)), c)
            for c in report.columns()
            if report.value(model, c) is not None and report.value("minilm", c) is not None
        ]
        worst = max(gaps, default=(float("nan"), None))
        print(f"  {model}: {worst[0]:.4f} ({' / '.join(worst[1]) if worst[1] else 'no common score'})")


if __name__ == "__main__":
    main()
