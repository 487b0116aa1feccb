from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedlab import EmbedlabError, load
from embedlab.datasets import gensim_test_data

VEC = gensim_test_data("lee_fasttext.vec")  # word2vec text format, trained on the Lee corpus


@pytest.fixture(scope="module")
def keyed():
    return KeyedVectors.load_word2vec_format(str(VEC))


def test_text_is_mean_of_known_word_vectors(keyed):
    encoder = load(f"vectors:{VEC}")
    assert encoder.dim == keyed.vector_size
    got = encoder.encode(["The fire burned near Sydney zzqxj"], normalize=False)[0]
    words = [w for w in ["the", "fire", "burned", "near", "sydney"] if w in keyed.key_to_index]
    np.testing.assert_allclose(got, np.mean([keyed[w] for w in words], axis=0), atol=1e-6)
    assert encoder.last_stats["oov_tokens"] == 6 - len(words)
    assert "zzqxj" in encoder.last_stats["top_oov"]


@pytest.mark.parametrize("fmt", ["glove", "binary"])
def test_glove_and_binary_files_load_the_same_vectors(tmp_path, keyed, fmt):
    path = tmp_path / ("glove.txt" if fmt == "glove" else "vectors.bin")
    keyed.save_word2vec_format(str(path), binary=fmt == "binary", write_header=fmt != "glove")
    encoder = load(f"vectors:{path}")
    np.testing.assert_allclose(encoder.vectors["fire"], keyed["fire"], atol=1e-5)


def test_sif_weighting_downweights_frequent_words(keyed):
    mean = load(f"vectors:{VEC}").encode(["the fire"], normalize=False)[0]
    sif = load(f"vectors:{VEC}", weighting="sif").encode(["the fire"], normalize=False)[0]
    fire = keyed["fire"] / np.linalg.norm(keyed["fire"])
    assert sif @ fire / np.linalg.norm(sif) > mean @ fire / np.linalg.norm(mean)


def test_all_unknown_words_give_zero_vector_and_a_count():
    encoder = load(f"vectors:{VEC}")
    vectors = encoder.encode(["qqqq zzzz"])
    assert not vectors.any() and encoder.last_stats["texts_without_known_words"] == 1


def test_inconsistent_dimensions_are_an_error(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("2 3\nfire 0.1 0.2 0.3\nwater 0.1 0.2\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="consistent"):
        load(f"vectors:{path}")


def test_missing_vectors_file(tmp_path):
    with pytest.raises(EmbedlabError, match="does not exist"):
        load(f"vectors:{tmp_path / 'none.vec'}")
