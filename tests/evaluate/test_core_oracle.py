"""The evaluation core (embedlab.evaluate.core) against values computed in the test: cache keys and the files they
name (hashlib), which calls hit and which miss (a spy on the inner encoder), unit rows (scikit-learn's normalize),
cosines of pairs (scikit-learn's cosine_similarity), on Lee corpus sentences with wordllama and TF-IDF."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.preprocessing import normalize as sk_normalize

from embedlab import load
from embedlab.encoders.base import Encoder
from embedlab.errors import UnsupportedInputError
from embedlab.evaluate import core
from embedlab.evaluate.core import CachedEncoder, DatasetInfo, Result


class Spy:
    """Wraps an encoder and records each batch of texts it embeds (and with which options)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[tuple[list[str], dict]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts, **options):
        self.calls.append((list(texts), options))
        return self.inner.encode(texts, **options)


@pytest.fixture(scope="module")
def sentences(lee_records) -> list[str]:
    return [r.text.split(". ")[0] for r in lee_records[:24]]


def cached(encoder, folder: Path) -> tuple[CachedEncoder, Spy]:
    wrapper = CachedEncoder(encoder, folder)
    spy = Spy(encoder)
    wrapper.inner = spy
    return wrapper, spy


def expected_key(encoder, normalize: bool, texts: list[str]) -> str:
    recipe = json.dumps(encoder.recipe, sort_keys=True, default=str)
    joined = hashlib.sha256(b"".join(t.encode("utf-8") + b"\0" for t in texts)).hexdigest()
    return hashlib.sha256(f"{recipe}\n{normalize}\n{joined}".encode()).hexdigest()[:32]


def test_a_miss_embeds_once_and_writes_the_file_its_key_names(wordllama, sentences, tmp_path):
    wrapper, spy = cached(wordllama, tmp_path)
    vectors = wrapper.encode(sentences, batch_size=8)
    np.testing.assert_allclose(vectors, wordllama.encode(sentences), atol=1e-6)
    assert spy.calls == [(sentences, {"batch_size": 8, "normalize": True, "show_progress": False})]
    path = tmp_path / f"{expected_key(wordllama, True, sentences)}.npy"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    np.testing.assert_array_equal(np.load(path), vectors)
    assert (wrapper.hits, wrapper.misses, wrapper.cache_state) == (0, 1, "miss")
    assert wrapper.last_stats == wordllama.last_stats and wrapper.last_stats["items"] == len(sentences)


def test_a_hit_reads_the_file_without_embedding(wordllama, sentences, tmp_path):
    first, _ = cached(wordllama, tmp_path)
    stored = first.encode(sentences)
    second, spy = cached(wordllama, tmp_path)
    again = second.encode(sentences)
    assert spy.calls == []
    np.testing.assert_array_equal(again, stored)
    assert (second.hits, second.misses, second.cache_state) == (1, 0, "hit")
    second.encode(sentences)
    assert second.hits == 2 and spy.calls == []
    second.encode(sentences[:3])
    assert (second.hits, second.misses, second.cache_state) == (2, 1, "partial")


def test_normalize_and_the_texts_are_part_of_the_key(wordllama, sentences, tmp_path):
    wrapper, spy = cached(wordllama, tmp_path)
    unit = wrapper.encode(sentences)
    raw = wrapper.encode(sentences, normalize=False)
    assert wrapper.misses == 2 and len(spy.calls) == 2
    assert [options for _, options in spy.calls] == [
        {"batch_size": 32, "normalize": True, "show_progress": False},  # the default batch
        {"batch_size": 32, "normalize": False, "show_progress": False},
    ]
    np.testing.assert_allclose(unit, sk_normalize(raw), atol=1e-6)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    wrapper.encode(list(reversed(sentences)))
    assert wrapper.misses == 3
    names = {p.stem for p in tmp_path.iterdir()}
    assert names == {
        expected_key(wordllama, True, sentences),
        expected_key(wordllama, False, sentences),
        expected_key(wordllama, True, list(reversed(sentences))),
    }


RAN: list[str] = []


def _record(what: str) -> str:
    RAN.append(what)
    return what


class Payload:
    """Unpickling this runs `_record`: what a planted cache file could make a careless loader do."""

    def __reduce__(self):
        return (_record, ("unpickled",))


def test_a_pickled_cache_file_is_never_unpickled(wordllama, sentences, tmp_path):
    path = tmp_path / f"{expected_key(wordllama, True, sentences)}.npy"
    np.save(path, np.array([Payload()] * len(sentences), dtype=object), allow_pickle=True)
    wrapper, _ = cached(wordllama, tmp_path)
    with pytest.raises(ValueError, match="allow_pickle=False"):
        wrapper.encode(sentences)
    assert RAN == []


def test_a_cached_file_of_the_wrong_shape_is_embedded_again(wordllama, sentences, tmp_path):
    path = tmp_path / f"{expected_key(wordllama, True, sentences)}.npy"
    np.save(path, np.zeros((len(sentences), 3), dtype=np.float32))  # e.g. written by another dim
    wrapper, spy = cached(wordllama, tmp_path)
    vectors = wrapper.encode(sentences)
    assert len(spy.calls) == 1 and vectors.shape == (len(sentences), wordllama.dim)
    assert np.load(path).shape == (len(sentences), wordllama.dim)  # replaced by the right vectors
    np.save(path, np.zeros((len(sentences) - 1, wordllama.dim), dtype=np.float32))
    wrapper.encode(sentences)
    assert len(spy.calls) == 2


def test_remembered_texts_are_served_from_memory_one_at_a_time(wordllama, sentences, tmp_path):
    wrapper, spy = cached(wordllama, tmp_path)
    vectors = wrapper.remember(sentences, batch_size=4)
    assert spy.calls[0][1]["batch_size"] == 4
    other, other_spy = cached(wordllama, tmp_path / "other")
    other.remember(sentences[:2])
    assert other_spy.calls[0][1]["batch_size"] == 32  # the default batch
    for i in (0, 5, len(sentences) - 1):
        np.testing.assert_array_equal(wrapper.encode(sentences[i]), vectors[i : i + 1])
        np.testing.assert_array_equal(wrapper.encode([sentences[i], sentences[0]]), vectors[[i, 0]])
    assert len(spy.calls) == 1 and wrapper.hits == 6
    wrapper.encode(sentences[0], normalize=False)  # memory holds unit rows only
    assert len(spy.calls) == 2
    wrapper.encode(["a sentence never remembered", sentences[0]])
    assert len(spy.calls) == 3
    assert wrapper.encode([]).shape == (0, wordllama.dim)


def test_the_wrapper_stands_for_its_encoder(wordllama, tmp_path):
    wrapper = CachedEncoder(wordllama, tmp_path)
    assert (wrapper.name, wrapper.modality, wrapper.kind, wrapper.dim) == ("wordllama", "text", "wordllama", 256)
    assert wrapper.recipe == wordllama.recipe and wrapper.identity() == wordllama.identity()
    spy = Spy(wordllama)
    wrapper.inner = spy
    raw = wrapper._encode(["tea at noon"], 8, False)
    np.testing.assert_allclose(raw, wordllama.encode(["tea at noon"], normalize=False), atol=1e-6)
    assert spy.calls == [(["tea at noon"], {"batch_size": 8, "normalize": False, "show_progress": False})]
    assert CachedEncoder(wordllama).folder == Path(str(tmp_path / "cache")) / "evaluate"  # $EMBEDLAB_CACHE


def test_a_recipe_holding_a_path_still_keys_the_cache(wordllama, sentences, tmp_path, monkeypatch):
    identity = wordllama.identity()
    monkeypatch.setattr(wordllama, "identity", lambda: {**identity, "weights": Path("/models/w.safetensors")})
    wrapper, _ = cached(wordllama, tmp_path)
    wrapper.encode(sentences[:2])
    assert [p.stem for p in tmp_path.iterdir()] == [expected_key(wordllama, True, sentences[:2])]


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    assert core.cache_folder() == tmp_path / "cache" / "evaluate"
    monkeypatch.delenv("EMBEDLAB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert core.cache_folder() == tmp_path / "xdg" / "embedlab" / "evaluate"


def test_an_unwritable_cache_is_skipped_not_fatal(wordllama, sentences, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    wrapper = CachedEncoder(wordllama, blocker / "cache")
    vectors = wrapper.encode(sentences[:2])
    assert vectors.shape == (2, 256) and wrapper.misses == 1
    core.save_npy(blocker / "x.npy", vectors)  # a file where a folder should be: skipped
    assert blocker.read_text() == "not a folder"
    target = tmp_path / "deep" / "er" / "v.npy"
    core.save_npy(target, vectors)
    np.testing.assert_array_equal(np.load(target), vectors)


def test_text_encoder_fits_a_copy_on_the_tasks_texts(sentences):
    tfidf = load("tfidf")
    wrapper = core.text_encoder(tfidf, sentences)
    assert isinstance(wrapper, CachedEncoder) and wrapper.inner is not tfidf
    assert tfidf.fitted is False and wrapper.inner.fitted is True
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocabulary = TfidfVectorizer().fit(sentences).vocabulary_
    assert wrapper.dim == len(vocabulary)
    assert not hasattr(tfidf.vectorizer, "vocabulary_")  # the caller's encoder is left as it was
    # two tasks fitting the same encoder each keep their own vocabulary
    other_texts = ["Rain fell on the wheat belt.", "Farmers welcomed the rain after the drought."]
    other = core.text_encoder(tfidf, other_texts)
    assert other.dim == len(TfidfVectorizer().fit(other_texts).vocabulary_)
    assert wrapper.dim == len(vocabulary)
    fitted = load("tfidf").fit(sentences)
    assert core.text_encoder(fitted, ["other"]).inner is fitted  # a fitted encoder is used as it is


class GrowingVocabulary(Encoder):
    """Word counts over a vocabulary that `fit` grows in place, as incremental learners (partial_fit) do."""

    name = "growing-vocabulary-test-encoder"
    kind = "growing-vocabulary"
    requires_fit = True

    def __init__(self) -> None:
        super().__init__()
        self.words: dict[str, int] = {}

    @property
    def dim(self) -> int:
        return len(self.words)

    def identity(self) -> dict[str, str]:
        return {"model_id": "growing-vocabulary"}

    def fit(self, texts) -> GrowingVocabulary:
        for text in texts:
            for word in text.lower().split():
                self.words.setdefault(word, len(self.words))
        self._fitted = True
        return self

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim))
        for row, text in enumerate(texts):
            for word in text.lower().split():
                if word in self.words:
                    vectors[row, self.words[word]] += 1
        return vectors


def test_text_encoder_leaves_the_callers_encoder_as_it_was_even_when_fit_changes_state_in_place(sentences):
    # the promise holds for any encoder, not only for those whose fit replaces its state (tfidf, count)
    mine = GrowingVocabulary()
    wrapper = core.text_encoder(mine, sentences)
    expected = {w for text in sentences for w in text.lower().split()}
    assert set(wrapper.inner.words) == expected and wrapper.dim == len(expected)
    assert mine.words == {} and mine.fitted is False
    other = core.text_encoder(mine, ["rain fell", "rain again"])
    assert set(other.inner.words) == {"rain", "fell", "again"}  # not the first task's words as well
    assert set(wrapper.inner.words) == expected


def test_text_encoder_refuses_an_image_model(wordllama, monkeypatch):
    monkeypatch.setattr(type(wordllama), "modality", "image")
    with pytest.raises(UnsupportedInputError, match="model 'wordllama' embeds image, not text") as error:
        core.text_encoder(wordllama, ["a"])
    assert error.value.hint == "pick a text model (embedlab models)."


def test_cosine_pairs_match_sklearn(wordllama, sentences):
    vectors = wordllama.encode(sentences)
    vectors[3] = 0
    left, right = np.array([0, 1, 2, 3, 7]), np.array([1, 1, 9, 4, 20])
    got = core.cosine_pairs(vectors, left, right)
    assert got.dtype == np.float64
    full = cosine_similarity(vectors)
    np.testing.assert_allclose(got, full[left, right], atol=1e-6)
    assert got[3] == 0.0


def test_hashes_of_texts_and_files(tmp_path):
    texts = ["one", "two"]
    assert core.sha256_texts(texts) == hashlib.sha256(b"one\0two\0").hexdigest()
    assert core.sha256_texts(["onetwo"]) != core.sha256_texts(texts)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"alpha")
    b.write_bytes(b"beta")
    digest = hashlib.sha256()
    for path, data in ((a, b"alpha"), (b, b"beta")):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).hexdigest().encode())
    assert core.sha256_files([a, b]) == "sha256:" + digest.hexdigest()[:16]


def test_result_as_dict():
    info = DatasetInfo("lee", "gensim", "Lee 2005", "sha256:ab", 50)
    result = Result("docsim", "m", info, {"pearson": 0.5}, {"pairs": 3}, {"dim": 2}, {"cache": "hit"}, 1.23456)
    assert result.as_dict() == {
        "task": "docsim",
        "model": "m",
        "dataset": {"name": "lee", "source": "gensim", "citation": "Lee 2005", "sha256": "sha256:ab", "items": 50},
        "metrics": {"pearson": 0.5},
        "counts": {"pairs": 3},
        "recipe": {"dim": 2},
        "details": {"cache": "hit"},
        "seconds": 1.235,
    }
