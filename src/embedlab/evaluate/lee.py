"""Lee's 50 news documents with averaged human similarity ratings (Lee, Pincombe & Welsh, 2005).

gensim ships them in its test data: `lee.cor` (one document per line, Latin-1) and `similarities0-1.txt`
(a 50 x 50 upper-triangular matrix of mean ratings; the 1-5 scale mapped to 0.2-1.0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.datasets import gensim_test_data
from embedlab.evaluate.core import DatasetInfo, sha256_files

CITATION = (
    "Lee, Pincombe & Welsh (2005), An Empirical Evaluation of Models of Text Document Similarity; "
    "via gensim test data (lee.cor, similarities0-1.txt)"
)


@dataclass
class LeeCorpus:
    info: DatasetInfo
    documents: list[str]
    ratings: np.ndarray  # (50, 50), symmetric, 1.0 on the diagonal

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The 1,225 document pairs i < j and their human ratings."""
        left, right = np.triu_indices(len(self.documents), 1)
        return left, right, self.ratings[left, right]


def lee_corpus() -> LeeCorpus:
    corpus, matrix = gensim_test_data("lee.cor"), gensim_test_data("similarities0-1.txt")
    documents = [line.strip() for line in corpus.read_bytes().decode("latin-1").splitlines()]
    upper = np.loadtxt(matrix, dtype=np.float64)
    ratings = np.triu(upper) + np.triu(upper, 1).T
    info = DatasetInfo("Lee 50 documents", "gensim test data", CITATION, sha256_files([corpus, matrix]), 1225)
    return LeeCorpus(info, documents, ratings)
