"""The encoder protocol every model shares (embedlab.encoders.base), checked against values computed in the test:
scikit-learn's `normalize` for unit length, pieces cut by hand for long texts, and a recording encoder for what
`encode` passes down (batch sizes, checks, statistics). Fast: no transformer is loaded."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import pytest
from sklearn.preprocessing import normalize as sk_normalize

from embedlab.encoders import ModelSpec
from embedlab.encoders.base import PIECE_CHARS, Encoder, batched, l2_normalize, text_pieces, validate_texts
from embedlab.errors import EmbedlabError, NotFittedError, UnsupportedInputError


class Recording(Encoder):
    """Vectors from character counts (a real, deterministic function of the text); records every `_encode` call."""

    name = "recording-test-encoder"
    kind = "recording"
    config_keys = ("alphabet",)

    def __init__(self, alphabet: str = "etaoinsr", modality: str = "text") -> None:
        super().__init__()
        self.alphabet = alphabet
        self.modality = modality  # type: ignore[misc]
        self.calls: list[tuple[list[str], Any]] = []
        self.progress: list[bool] = []

    @property
    def dim(self) -> int:
        return len(self.alphabet)

    def identity(self) -> dict[str, Any]:
        return {"model_id": "counts", "dim": -1}

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        self.calls.append((texts, batch_size))
        self.progress.append(show_progress)
        return np.array([[t.count(c) for c in self.alphabet] for t in texts], dtype=np.float64)


class NeedsFit(Recording):
    requires_fit: ClassVar[bool] = True


class SizesBatches(Recording):
    sizes_batches: ClassVar[bool] = True


@pytest.fixture(scope="module")
def lee_texts(lee_records) -> list[str]:
    return [r.text for r in lee_records[:40]]


def counts(texts: list[str], alphabet: str = "etaoinsr") -> np.ndarray:
    return np.array([[t.count(c) for c in alphabet] for t in texts], dtype=np.float64)


def test_encode_gives_unit_rows_equal_to_sklearn_normalize(lee_texts):
    encoder = Recording()
    vectors = encoder.encode(lee_texts)
    assert vectors.dtype == np.float32 and vectors.shape == (40, 8)
    np.testing.assert_allclose(vectors, sk_normalize(counts(lee_texts)), rtol=1e-6)
    raw = encoder.encode(lee_texts, normalize=False)
    assert raw.dtype == np.float32
    np.testing.assert_array_equal(raw, counts(lee_texts).astype(np.float32))
    assert encoder.last_stats == {"items": 40}


def test_encode_passes_the_default_batch_size_unless_the_encoder_sizes_its_own(lee_texts):
    encoder = Recording()
    encoder.encode(lee_texts[:3])
    assert encoder.calls[-1] == (lee_texts[:3], 32)
    encoder.encode(lee_texts[:3], batch_size=5, show_progress=True)
    assert encoder.calls[-1][1] == 5
    assert encoder.progress == [False, True]  # no progress bar unless asked
    encoder.encode(lee_texts[:2], batch_size=1)
    assert encoder.calls[-1][1] == 1
    sizing = SizesBatches()
    sizing.encode(lee_texts[:3])
    assert sizing.calls[-1] == (lee_texts[:3], None)
    sizing.encode(lee_texts[:3], batch_size=7)
    assert sizing.calls[-1][1] == 7


@pytest.mark.parametrize("bad", [0, -3, 2.0, "8"])
def test_a_batch_size_below_one_or_not_an_int_is_refused(bad):
    encoder = Recording()
    with pytest.raises(EmbedlabError, match=r"batch_size must be at least 1, got ") as error:
        encoder.encode(["a text"], batch_size=bad)
    assert error.value.param == "batch_size"
    assert encoder.calls == [] and encoder.last_stats == {}


def test_one_string_is_one_item_and_no_items_give_an_empty_array():
    encoder = Recording()
    one = encoder.encode("tea at noon")
    assert one.shape == (1, 8)
    empty = encoder.encode([])
    assert empty.shape == (0, 8) and empty.dtype == np.float32
    assert encoder.calls == [(["tea at noon"], 32)]  # nothing sent down for no items
    assert encoder.last_stats == {"items": 0}


def test_an_image_model_refuses_text_before_encoding_anything():
    encoder = Recording(modality="image")
    with pytest.raises(UnsupportedInputError, match="model recording-test-encoder embeds images only") as error:
        encoder.encode(["a text"])
    assert error.value.hint == "pass images (pathlib.Path, bytes or PIL images), or use a model that embeds text."
    assert encoder.calls == []


@pytest.mark.parametrize(
    ("modality", "text", "images"), [("text", True, False), ("image", False, True), ("text+image", True, True)]
)
def test_capabilities_follow_the_modality(modality, text, images):
    encoder = Recording(modality=modality)
    assert encoder.supports_text is text
    assert encoder.supports_images is images


def test_an_encoder_that_needs_fitting_refuses_until_fitted():
    encoder = NeedsFit()
    assert encoder.fitted is False
    with pytest.raises(NotFittedError, match="the recording-test-encoder encoder has not been fitted"):
        encoder.encode(["a text"])
    with pytest.raises(NotFittedError) as error:
        encoder.recipe  # noqa: B018
    assert error.value.hint == "call .fit(texts) on a corpus first (a collection fits it on the items it indexes)."
    assert encoder.calls == []
    assert encoder.fit(["a corpus"]) is encoder
    pretrained = Recording()
    assert pretrained.fitted is True
    pretrained.check_fitted()  # no error


def test_the_recipe_is_kind_identity_options_and_the_real_dim():
    encoder = Recording(alphabet="abc")
    # the identity's placeholder dim is overridden by the real one; the options come after the identity
    assert encoder.recipe == {"encoder": "recording", "model_id": "counts", "alphabet": "abc", "dim": 3}
    assert list(encoder.recipe) == ["encoder", "model_id", "dim", "alphabet"]
    assert encoder.config == {"alphabet": "abc"}


def test_spec_of_a_registered_model_and_of_one_that_exists_only_in_memory(wordllama):
    spec = wordllama.spec()
    assert spec == ModelSpec("wordllama", {"dim": 256}) and spec.kind == "wordllama"
    name, options = wordllama.load_spec()
    assert (name, options) == ("wordllama", {"dim": 256})
    options["dim"] = 64  # a copy: the encoder's spec is not changed by its caller
    assert wordllama.spec().options == {"dim": 256}
    memory_only = Recording()
    assert memory_only.spec_name == "recording-test-encoder"
    spec = memory_only.spec()
    assert (spec.name, spec.options, spec.kind) == ("recording-test-encoder", {"alphabet": "etaoinsr"}, "unsaved")


def test_count_tokens_counts_words_and_punctuation(lee_texts):
    encoder = Recording()
    assert encoder.count_tokens(["Hello, world!", "", "it's 3.5 km"]) == [4, 0, 7]  # it, ', s, 3, ., 5, km
    expected = [len(re.findall(r"\w+|[^\w\s]", t)) for t in lee_texts[:5]]
    assert encoder.count_tokens(lee_texts[:5]) == expected
    assert encoder.token_limit is None
    assert repr(Recording(modality="image")) == "Recording(name='recording-test-encoder', modality='image')"


def test_validate_texts_accepts_strings_sequences_and_arrays():
    assert validate_texts("one") == ["one"]
    assert validate_texts(("a", "b")) == ["a", "b"]
    assert validate_texts(np.array(["x", "y"])) == ["x", "y"]
    assert validate_texts([]) == []


def test_validate_texts_refuses_other_things_saying_what_it_got():
    with pytest.raises(EmbedlabError, match=r"expected a string or a list of strings, got generator") as error:
        validate_texts(t for t in ["a"])
    assert error.value.hint == "pass e.g. encoder.encode(['first text', 'second text'])."
    with pytest.raises(EmbedlabError, match=r"item 2 is a int, not a string") as error:
        validate_texts(["a", "b", 3])
    assert error.value.hint == "convert every item to str first."
    with pytest.raises(EmbedlabError, match="item 0 is a NoneType"):
        validate_texts([None])


def test_l2_normalize_matches_sklearn_and_keeps_zero_rows_zero():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 5))
    vectors[2] = 0
    normalised = l2_normalize(vectors)
    assert normalised.dtype == np.float32
    np.testing.assert_allclose(normalised, sk_normalize(vectors), rtol=1e-6)
    assert not np.isnan(normalised).any() and (normalised[2] == 0).all()


def test_text_pieces_cut_where_a_run_of_whitespace_starts():
    assert list(text_pieces("aaaa bbbb cccc", 7)) == ["aaaa", " bbbb", " cccc"]
    assert list(text_pieces("ab   cd", 5)) == ["ab", "   cd"]
    # a piece that starts with whitespace is not cut at its own start (it would never move on)
    assert list(text_pieces("aaaa bbbbbbbbbb", 7)) == ["aaaa", " bbbbbb", "bbbb"]
    assert list(text_pieces("short", 7)) == ["short"]
    assert list(text_pieces("exactly7", 8)) == ["exactly7"]
    assert list(text_pieces("", 7)) == []


def test_text_pieces_look_back_at_most_1000_characters():
    size = 1200  # floor = stop - 1000 = 200: a cut must come after it
    at_floor = "x" * 200 + " " + "y" * 1999
    assert [len(p) for p in text_pieces(at_floor, size)] == [1200, 1000]
    after_floor = "x" * 201 + " " + "y" * 1998
    assert [len(p) for p in text_pieces(after_floor, size)] == [201, 1200, 799]
    assert [len(p) for p in text_pieces("z" * 2500, size)] == [1200, 1200, 100]


def test_text_pieces_of_a_long_lee_text_join_back_and_end_before_whitespace(lee_records):
    text = " ".join(r.text for r in lee_records)  # about 250,000 characters of news
    pieces = list(text_pieces(text))
    assert "".join(pieces) == text
    assert len(pieces) >= len(text) // PIECE_CHARS
    for piece, following in zip(pieces, pieces[1:], strict=False):
        assert PIECE_CHARS - 1000 < len(piece) <= PIECE_CHARS
        assert following[0].isspace() and not piece[-1].isspace()
        # the cut is the last whitespace start within the piece's reach: nothing later would have done
        reach = piece + following[: PIECE_CHARS - len(piece) + 1]  # up to the stop itself
        later = [i for i in range(len(piece) + 1, len(reach)) if reach[i].isspace() and not reach[i - 1].isspace()]
        assert later == []


def test_batched_gives_consecutive_slices():
    items = list(range(7))
    assert list(batched(items, 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched(items, 7)) == [items]
    assert list(batched(items, 10)) == [items]
    assert list(batched([], 3)) == []
