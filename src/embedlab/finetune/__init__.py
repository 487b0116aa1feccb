"""Fine-tuning: task heads on frozen embeddings, a trainable embedding layer, contrastive fine-tuning.

>>> from embedlab.finetune import train_classifier, load_head
>>> result = train_classifier("pang-lee", "sentiment-head", model="minilm", head="logreg")
>>> result.test["accuracy"], result.baseline["accuracy"]
>>> load_head("sentiment-head").predict(["a gorgeous, moving film"])
['pos']

- `classifier`: logistic regression (scikit-learn) or a PyTorch linear/MLP head on frozen embeddings.
- `bag`: `nn.Embedding` (pretrained static vectors or random, optionally frozen), mean-pooled, trained end to end.
- `contrastive`: MultipleNegativesRankingLoss on (anchor, positive[, negative]) pairs; saves a
  sentence-transformers folder; held-out retrieval MRR@10 before and after.
"""

from embedlab.finetune.bag import train_bag
from embedlab.finetune.classifier import HEADS, TrainResult, train_classifier
from embedlab.finetune.contrastive import ContrastiveResult, lee_pairs, retrieval_metrics, train_contrastive
from embedlab.finetune.data import LabelledData, Pairs, read_labelled, read_pairs, stratified_split
from embedlab.finetune.predict import SavedHead, load_head
from embedlab.finetune.training import TrainingInterrupted

__all__ = [
    "HEADS",
    "ContrastiveResult",
    "LabelledData",
    "Pairs",
    "SavedHead",
    "TrainResult",
    "TrainingInterrupted",
    "lee_pairs",
    "load_head",
    "read_labelled",
    "read_pairs",
    "retrieval_metrics",
    "stratified_split",
    "train_bag",
    "train_classifier",
    "train_contrastive",
]
