"""Before/after table of embedlab's fine-tuning on real data, as Markdown (docs/finetune.md).

- Sentiment (Pang & Lee 2005, 200 sentences, gensim test data): heads on frozen embeddings against the
  majority-class baseline, and the trainable embedding layer by initialisation; one seeded stratified
  split (train 120 / validation 40 / test 40), test accuracy and macro-F1.
- Contrastive fine-tuning of minilm on Lee news pairs (first sentence -> rest of the story, 40 words),
  58 held-out stories: retrieval MRR@10 / nDCG@10 before and after.

    python benchmarks/finetune_before_after.py [--no-contrastive]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from embedlab import load
from embedlab.finetune import read_labelled, train_bag, train_classifier, train_contrastive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-contrastive", action="store_true", help="skip the (minutes long) contrastive run")
    args = parser.parse_args()
    data = read_labelled("pang-lee")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for model in ("minilm", "wordllama"):
            encoder = load(model)
            for head in ("logreg", "linear", "mlp"):
                r = train_classifier(data, out / f"{model}-{head}", model=model, head=head, encoder=encoder)
                rows.append((f"`{model}` frozen + {head} head", r.test["accuracy"], r.test["macro_f1"]))
        r = train_bag(data, out / "bag", init="wordllama", compare=True)
        for name, variant in sorted(r.details["comparison"].items()):
            rows.append((f"embedding layer ({r.details['vocabulary']} words): {name}", *_metrics(variant["test"])))
        rows.insert(0, (f"majority class ({r.baseline['predicts']})", r.baseline["accuracy"], r.baseline["macro_f1"]))
        print("Sentiment: Pang & Lee polarity, test split (40 sentences), seed 0\n")
        print("| set-up | accuracy | macro-F1 |\n|---|---:|---:|")
        for name, accuracy, f1 in rows:
            print(f"| {name} | {accuracy:.3f} | {f1:.3f} |")
        if args.no_contrastive:
            return
        c = train_contrastive("lee", out / "contrastive", max_words=40, batch_size=32, lr=5e-5, max_tokens=64)
        print(f"\nContrastive: minilm on Lee pairs, {c.heldout_pairs} held-out stories ({c.train_pairs} trained on)\n")
        print("| model | MRR@10 | nDCG@10 |\n|---|---:|---:|")
        print(f"| minilm (before) | {c.before['MRR@10']:.3f} | {c.before['nDCG@10']:.3f} |")
        print(f"| minilm fine-tuned (after) | {c.after['MRR@10']:.3f} | {c.after['nDCG@10']:.3f} |")
        print(f"\n{c.training['steps_done']} steps in {c.training['seconds']:.0f} s on {c.training['device']}")


def _metrics(test: dict) -> tuple[float, float]:
    return test["accuracy"], test["macro_f1"]


if __name__ == "__main__":
    main()
