"""Word and document vectors: train word2vec/fastText/doc2vec, explore neighbours and analogies, test bias.

from embedlab import words
words.train("word2vec", "corpus.txt", "models/w2v", words.TrainOptions(epochs=20, min_count=2))
lab = words.load("word2vec:models/w2v")
lab.neighbors("fire").neighbors
lab.similar_by_vector(lab.vec("king") - lab.vec("man") + lab.vec("woman"))
words.named_weat("wordllama", "weat1").effect_size
"""

from embedlab.encoders.words import KINDS, Doc2VecEncoder, Doc2VecModel, SavedWordsEncoder, read_manifest
from embedlab.words.bias import TemplateWords, WeatResult, direct_bias, named_weat, weat, weat_data, word_set
from embedlab.words.corpus import Corpus
from embedlab.words.explore import (
    Neighbors,
    WordStatus,
    WordVectors,
    export_vectors,
    is_static_spec,
    load,
    wordllama_words,
)
from embedlab.words.models import TrainOptions, TrainResult, train

__all__ = [
    "KINDS",
    "Corpus",
    "Doc2VecEncoder",
    "Doc2VecModel",
    "Neighbors",
    "SavedWordsEncoder",
    "TemplateWords",
    "TrainOptions",
    "TrainResult",
    "WeatResult",
    "WordStatus",
    "WordVectors",
    "direct_bias",
    "export_vectors",
    "is_static_spec",
    "load",
    "named_weat",
    "read_manifest",
    "train",
    "weat",
    "weat_data",
    "word_set",
    "wordllama_words",
]
