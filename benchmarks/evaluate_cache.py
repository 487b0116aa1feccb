"""Re-running an evaluation reads cached embeddings instead of encoding again.

Runs `evaluate(TASK, [minilm])` twice against an empty temporary cache folder and prints both times and
their ratio (the model is loaded once beforehand, so only encoding and scoring are timed).

    python benchmarks/evaluate_cache.py [docsim|classify|retrieval]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(task: str = "docsim") -> None:
    from embedlab import load
    from embedlab.evaluate import evaluate

    encoder = load("minilm")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["EMBEDLAB_CACHE"] = cache
        times, states = [], []
        for _ in range(2):
            started = time.perf_counter()
            result = evaluate(task, [encoder]).results[0]
            times.append(time.perf_counter() - started)
            states.append(result.details.get("cache"))
    print(f"task {task}, model minilm ({result.dataset.name}, {result.dataset.items} items)")
    print(f"first run  (cache {states[0]}): {times[0]:.2f} s")
    print(f"second run (cache {states[1]}): {times[1]:.2f} s")
    print(f"speed-up: {times[0] / times[1]:.1f}x")


if __name__ == "__main__":
    main(*sys.argv[1:2])
