"""Direct bias (Bolukbasi et al., 2016), word sets and WEAT's checks, against values computed in the test from
hand-made gensim KeyedVectors (numpy for the formula), so every number below is known exactly."""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys
from itertools import islice, product

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedlab.errors import EmbedlabError
from embedlab.words import TemplateWords, WordVectors, direct_bias, weat, word_set
from embedlab.words import bias as bias_module

WORDS = {
    # a he-she axis along x; neutral words lean to one side by hand-chosen amounts
    "he": [1.0, 0.1, 0.0],
    "she": [-1.0, 0.1, 0.0],
    "doctor": [0.6, 0.8, 0.1],
    "nurse": [-0.7, 0.7, 0.0],
    "table": [0.05, 0.2, 1.0],
    "engineer": [0.9, 0.3, 0.2],
    "dancer": [-0.8, 0.1, 0.5],
    "h2o": [0.9, 0.0, 0.0],  # not alphabetic: never listed as an end of the direction
    "River": [-0.3, 0.0, 0.9],
    "good": [0.2, 0.9, 0.0],
    "nice": [0.3, 0.8, 0.1],
    "bad": [0.1, -0.9, 0.2],
    "awful": [0.0, -0.8, 0.3],
    "King": [0.8, 0.5, 0.1],
    "executive": [0.5, 0.4, 0.4],  # two words of the neutral WEAT sets (career, arts)
    "poetry": [-0.4, 0.3, 0.6],
}


@pytest.fixture(scope="module")
def hand_made() -> WordVectors:
    kv = KeyedVectors(3)
    kv.add_vectors(list(WORDS), np.array(list(WORDS.values()), dtype=np.float32))
    return WordVectors(kv, "hand-made")


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def projection(word: str, pair=("he", "she")) -> float:
    g = unit(unit(WORDS[pair[0]]) - unit(WORDS[pair[1]]))
    return float(unit(WORDS[word]) @ g)


def test_direct_bias_by_bolukbasis_formula(hand_made):
    neutral = ["doctor", "nurse", "table", "engineer"]
    result = direct_bias(hand_made, neutral, c=1.0, top=3)
    proj = {w: projection(w) for w in neutral}
    assert result["direct_bias"] == pytest.approx(np.mean(np.abs(list(proj.values()))), abs=1e-6)
    assert [p["word"] for p in result["projections"]] == sorted(neutral, key=lambda w: -proj[w])
    for row in result["projections"]:
        assert row["projection"] == pytest.approx(proj[row["word"]], abs=1e-6)
    assert (result["model"], result["direction"], result["c"], result["words"]) == ("hand-made", "he - she", 1.0, 4)
    assert result["dropped_oov"] == []
    strict = direct_bias(hand_made, neutral, c=2.0)
    assert strict["direct_bias"] == pytest.approx(np.mean(np.abs(list(proj.values())) ** 2), abs=1e-6)


def test_the_ends_of_the_direction_are_the_vocabularys_alphabetic_words(hand_made):
    result = direct_bias(hand_made, "doctor,nurse", top=2)
    alphabetic = [w for w in WORDS if w.isalpha() and w not in ("he", "she")]
    order = sorted(alphabetic, key=lambda w: -projection(w))
    assert [r["word"] for r in result["most_he"]] == order[:2]
    assert [r["word"] for r in result["most_she"]] == order[::-1][:2]
    for row in result["most_he"] + result["most_she"]:  # each end's projections by the formula, to six decimals
        assert row["projection"] == pytest.approx(projection(row["word"]), abs=1e-6)
        assert isinstance(row["projection"], float)
    assert result["most_he"][0]["projection"] == pytest.approx(projection(order[0]), abs=1e-6)
    limited = direct_bias(hand_made, "doctor,nurse", top=10, vocabulary_limit=6)
    first_six = [w for w in list(WORDS)[:6] if w.isalpha() and w not in ("he", "she")]
    assert sorted(r["word"] for r in limited["most_he"]) == sorted(first_six)
    swapped = direct_bias(hand_made, "doctor,nurse", pair=("she", "he"), top=1)
    assert swapped["direction"] == "she - he" and swapped["most_she"][0]["word"] == order[-1]
    assert swapped["most_he"][0]["word"] == order[0]
    assert swapped["direct_bias"] == result["direct_bias"]


def test_direct_bias_reports_oov_words_and_refuses_what_it_cannot_measure(hand_made):
    result = direct_bias(hand_made, "doctor,qqq,nurse")
    assert result["words"] == 2 and result["dropped_oov"] == ["qqq"]
    with pytest.raises(EmbedlabError, match="c must be positive, got 0"):
        direct_bias(hand_made, "doctor", c=0)
    with pytest.raises(EmbedlabError, match="c must be positive, got -1"):
        direct_bias(hand_made, "doctor", c=-1)
    with pytest.raises(EmbedlabError, match="two different words"):
        direct_bias(hand_made, "doctor", pair=("he", " HE "))
    with pytest.raises(EmbedlabError, match="two different words"):
        direct_bias(hand_made, "doctor", pair=("he", "she", "it"))
    with pytest.raises(EmbedlabError, match="xyz not in the vocabulary of hand-made"):
        direct_bias(hand_made, "doctor", pair=("he", "xyz"))
    with pytest.raises(EmbedlabError, match="none of the words is in the vocabulary of hand-made"):
        direct_bias(hand_made, "qqq,zzz")


def test_direct_bias_defaults_to_the_neutral_weat_sets(hand_made):
    sets = bias_module.weat_data()["sets"]
    neutral = list(dict.fromkeys(w for name in bias_module.NEUTRAL_SETS for w in sets[name]))
    result = direct_bias(hand_made)
    assert result["dropped_oov"] == [w for w in neutral if w not in WORDS and w.lower() not in WORDS]
    assert [r["word"] for r in result["projections"]] == ["executive", "poetry"]
    assert len(result["most_he"]) == len(result["most_she"]) == 10  # the default top, of 13 alphabetic words
    expected = np.mean([abs(projection("executive")), abs(projection("poetry"))])
    assert result["direct_bias"] == pytest.approx(expected, abs=1e-6)


def test_word_sets_from_names_lists_files_and_commas(tmp_path):
    assert word_set("flowers") == ("flowers", bias_module.weat_data()["sets"]["flowers"])
    assert word_set("  flowers ")[0] == "flowers"
    assert word_set(["a", " b", "a", "", "c "]) == ("custom", ["a", "b", "c"])
    assert word_set("x, y,,x") == ("custom", ["x", "y"])
    listed = tmp_path / "mine.txt"
    listed.write_text("one\ntwo, three\n\none\n", encoding="utf-8")
    assert word_set(f"@{listed}") == ("mine.txt", ["one", "two", "three"])
    with pytest.raises(EmbedlabError, match="does not exist") as error:
        word_set(f"@{tmp_path / 'missing.txt'}")
    assert error.value.hint == "write one word per line."
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"caf\xe9\n")
    with pytest.raises(EmbedlabError, match=r"is not UTF-8 \(byte 4\)") as error:
        word_set(f"@{latin1}")
    assert error.value.hint == "re-save it as UTF-8, one word per line."
    with pytest.raises(EmbedlabError, match="Did you mean: flowers") as error:
        word_set("flowerz")
    assert "@FILE" in error.value.hint
    with pytest.raises(EmbedlabError, match="'qqqqqq' is not a named word set") as error:
        word_set("qqqqqq")
    assert str(error.value).splitlines()[0] == "'qqqqqq' is not a named word set."  # no close names: no suggestion


def test_weat_labels_words_and_checks(hand_made):
    result = weat(hand_made, "doctor,engineer,King", "nurse,dancer", "good,nice", ["bad", "awful", "zzz"], test="t")
    assert result.model == "hand-made" and result.test == "t"
    assert (result.targets, result.attributes) == (("X", "Y"), ("A", "B"))
    assert result.words == {"X": ["doctor", "engineer", "King"], "Y": ["nurse", "dancer"], "A": ["good", "nice"],
                            "B": ["bad", "awful"]}  # fmt: skip
    assert result.dropped_oov == {"B": ["zzz"]} and result.from_subwords == {}
    assert result.exact and result.partitions == 10 and result.seed is None  # C(5, 3) splits
    assert result.as_dict()["targets"] == ("X", "Y")
    with pytest.raises(EmbedlabError, match="permutations must be at least 1, got 0"):
        weat(hand_made, "doctor,engineer", "nurse,dancer", "good,nice", "bad,awful", permutations=0)
    with pytest.raises(EmbedlabError, match="word set B has 1 word"):
        weat(hand_made, "doctor,engineer", "nurse,dancer", "good,nice", ["bad"])
    with pytest.raises(EmbedlabError, match=r"only 1 of the 2 words of set A .* \(missing: qqq\)"):
        weat(hand_made, "doctor,engineer", "nurse,dancer", "good,qqq", "bad,awful")


def test_sampled_weat_records_its_seed(hand_made, monkeypatch):
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 3)
    result = weat(hand_made, "doctor,engineer,King", "nurse,dancer", "good,nice", "bad,awful", permutations=50, seed=7)
    assert not result.exact and result.partitions == 50 and result.seed == 7
    assert result.p_value * 51 == pytest.approx(round(result.p_value * 51))  # (hits + 1) / (permutations + 1)
    default = weat(hand_made, "doctor,engineer,King", "nurse,dancer", "good,nice", "bad,awful", permutations=50)
    assert default.seed == 0 and default.test == "custom"
    one = weat(hand_made, "doctor,engineer,King", "nurse,dancer", "good,nice", "bad,awful", permutations=1)
    assert one.partitions == 1 and one.p_value in (0.5, 1.0)  # one permutation is allowed: (hits + 1) / 2


def test_the_seed_reaches_the_sampler_so_a_sampled_p_value_is_reproducible(hand_made, monkeypatch):
    """A None seed would draw new splits on every call; repeating a small test twice can agree by chance, so the
    seed handed to the sampler is recorded, and the p-value equals the sampler's own with that seed."""
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 3)
    real = bias_module.permutation_p_value
    seen: list[tuple[np.ndarray, int, float, int, object]] = []

    def spy(scores, size_x, observed, permutations, seed):
        seen.append((scores.copy(), size_x, observed, permutations, seed))
        return real(scores, size_x, observed, permutations, seed)

    monkeypatch.setattr(bias_module, "permutation_p_value", spy)
    result = weat(hand_made, "doctor,engineer,King", "nurse,dancer", "good,nice", "bad,awful", permutations=40, seed=7)
    scores, size_x, observed, permutations, seed = seen[-1]
    assert (size_x, permutations, seed) == (3, 40, 7)
    assert result.p_value == real(scores, size_x, observed, permutations, 7)[0]


def test_sampled_p_value_counts_batches_and_the_plus_one(monkeypatch):
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 1)
    monkeypatch.setattr(bias_module, "PERMUTATION_BATCH", 7)
    scores = np.array([3.0, 2.0, 1.0, 0.0])
    # every split reaches an observed statistic far below any: all 20 permutations hit
    assert bias_module.permutation_p_value(scores, 2, -100.0, 20, 0) == (1.0, False, 20)
    # no split reaches one far above: (0 + 1) / (20 + 1)
    assert bias_module.permutation_p_value(scores, 2, 100.0, 20, 0) == (1 / 21, False, 20)
    # the best split exactly: 1/6 of random splits hit it (and ties within 1e-9 count)
    p, _, _ = bias_module.permutation_p_value(scores, 2, 4.0 + 1e-10, 6000, 1)
    assert abs(p - 1 / 6) < 0.02


def test_template_words_average_unit_sentence_vectors(wordllama):
    model = TemplateWords(wordllama, templates=("This is {}.", "A {} here."))
    assert model.name == "wordllama (words in 2 SEAT templates)"
    words, matrix, unusual = model.embed_words(["tulip", "wasp"])
    expected = wordllama.encode(["This is tulip.", "A tulip here.", "This is wasp.", "A wasp here."])
    np.testing.assert_allclose(matrix, expected.reshape(2, 2, -1).mean(axis=1), atol=1e-6)
    assert words == ["tulip", "wasp"] and unusual == []


def test_embedder_wraps_encoders_and_refuses_corpus_models(wordllama, hand_made):
    assert bias_module.embedder(hand_made) is hand_made
    wrapped = bias_module.embedder(wordllama)
    assert isinstance(wrapped, TemplateWords) and wrapped.encoder is wordllama
    assert isinstance(bias_module.embedder("wordllama"), WordVectors)  # a static model by name: its words
    with pytest.raises(EmbedlabError, match="tfidf must be fitted on a corpus"):
        bias_module.embedder("tfidf")


def test_named_weat_runs_a_named_test_with_its_sets_and_options(hand_made, monkeypatch):
    data = {
        "sets": {"medics": ["doctor", "nurse"], "makers": ["engineer", "dancer"], "good": ["good", "nice"],
                 "bad": ["bad", "awful"]},
        "tests": {"tiny": {"targets": ["medics", "makers"], "attributes": ["good", "bad"]}, "other": {}},
    }  # fmt: skip
    monkeypatch.setattr(bias_module, "weat_data", lambda: data)
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 1)
    result = bias_module.named_weat(hand_made, "tiny", permutations=30, seed=4)
    direct = weat(hand_made, "medics", "makers", "good", "bad", permutations=30, seed=4, test="tiny")
    assert result == direct and result.test == "tiny"
    assert (result.targets, result.attributes) == (("medics", "makers"), ("good", "bad"))
    assert (result.partitions, result.seed, result.exact) == (30, 4, False)
    with pytest.raises(EmbedlabError) as error:
        bias_module.named_weat(hand_made, "tinyy")
    assert str(error.value).splitlines()[0] == "no WEAT test named 'tinyy'. Did you mean: tiny?"
    assert error.value.hint == "the named tests are tiny, other."
    with pytest.raises(EmbedlabError) as error:
        bias_module.named_weat(hand_made, "zzzzzz")
    assert str(error.value).splitlines()[0] == "no WEAT test named 'zzzzzz'."


def test_direct_bias_messages_and_rounding_word_for_word(hand_made):
    with pytest.raises(EmbedlabError) as error:
        direct_bias(hand_made, "doctor", pair=("he", "he"))
    assert str(error.value) == "the direction needs two different words, e.g. he,she."
    with pytest.raises(EmbedlabError) as error:
        direct_bias(hand_made, "doctor", pair=("xyz", "qqq"))
    assert str(error.value).splitlines()[0] == "xyz, qqq not in the vocabulary of hand-made."
    assert error.value.hint == "pick a direction whose two words the model knows."
    with pytest.raises(EmbedlabError) as error:
        direct_bias(hand_made, "qqq,zzz")
    assert error.value.hint == "give other words."
    result = direct_bias(hand_made, "doctor,nurse,table,engineer")
    values = [result["direct_bias"], *(r["projection"] for r in result["projections"])]
    values += [r["projection"] for r in result["most_he"] + result["most_she"]]
    assert all(round(v, 6) == v for v in values)  # six decimals, as documented


def test_a_direction_between_two_close_words_is_still_a_unit_vector(hand_made):
    # doctor and engineer are close: unit(doctor) - unit(engineer) is much shorter than 1
    result = direct_bias(hand_made, "nurse,table,dancer", pair=("doctor", "engineer"))
    for row in result["projections"]:
        assert row["projection"] == pytest.approx(projection(row["word"], ("doctor", "engineer")), abs=1e-6)


class Statuses:
    """A WordEmbedder over WORDS that reports chosen words as built from subwords (as fastText does)."""

    name = "statuses"

    def __init__(self, vectors, built=()):
        self.vectors, self.built = vectors, set(built)

    def embed_words(self, words):
        from embedlab.words.explore import FROM_SUBWORDS, WordStatus

        statuses = [WordStatus(w, w, FROM_SUBWORDS) for w in words if w in self.built]
        return list(words), np.array([self.vectors[w] for w in words], dtype=np.float32), statuses


def test_words_built_from_subwords_are_reported_per_set():
    result = weat(Statuses(WORDS, built=["King", "awful"]), "doctor,King", "nurse,dancer", "good,nice", "bad,awful")
    assert result.from_subwords == {"X": ["King"], "B": ["awful"]} and result.dropped_oov == {}


def test_targets_that_no_attribute_separates_have_effect_size_zero():
    same = {w: [1.0, 1.0, 1.0] for w in ("t1", "t2", "t3", "t4")} | {"a1": [1, 0, 0], "a2": [0, 1, 0], "b1": [0, 0, 1],
                                                                      "b2": [1, 0, 1]}  # fmt: skip
    result = weat(Statuses(same), "t1,t2", "t3,t4", "a1,a2", "b1,b2")
    assert result.effect_size == 0.0 and result.statistic == 0.0  # no spread: 0, not NaN
    other = weat(Statuses(WORDS), "doctor,engineer,King", "nurse,dancer", "good,nice", "bad,awful")
    assert round(other.effect_size, 6) == other.effect_size and round(other.statistic, 6) == other.statistic


def test_a_set_with_too_few_known_words_says_which_and_what_to_do(hand_made):
    with pytest.raises(EmbedlabError) as error:
        weat(hand_made, "doctor,engineer", "nurse,dancer", "good,qqq", "bad,awful")
    assert str(error.value).splitlines()[0] == (
        "only 1 of the 2 words of set A are in the vocabulary of hand-made (missing: qqq)."
    )
    assert error.value.hint == (
        "WEAT needs at least 2 known words per set: use other words, a model with a larger vocabulary, "
        "or embed the words as text (seat=True, or a sentence encoder such as minilm)."
    )


def test_the_ends_of_the_direction_come_from_the_20000_most_frequent_words_by_default():
    """The documented default `vocabulary_limit=20_000`: in a vocabulary of 20,001 words, the last one is never
    listed, even when it is the word most aligned with the direction."""
    filler = ["".join(letters) for letters in islice(product(string.ascii_lowercase, repeat=4), 19_997)]
    words = ["he", "she", *filler, "inside", "outside"]  # "inside" is the 20,000th word, "outside" the 20,001st
    vectors = np.zeros((len(words), 3), dtype=np.float32)
    vectors[0], vectors[1] = WORDS["he"], WORDS["she"]
    vectors[2:-2] = [0.0, 1.0, 0.0]  # orthogonal to the he - she direction (the x axis)
    vectors[-2], vectors[-1] = [1.0, 0.05, 0.0], [1.0, 0.0, 0.0]
    kv = KeyedVectors(3)
    kv.add_vectors(words, vectors)
    model = WordVectors(kv, "large")
    by_default = direct_bias(model, "doctor,inside", top=1)
    assert by_default["most_he"][0]["word"] == "inside"
    assert by_default["most_he"][0]["projection"] == pytest.approx(projection_of([1.0, 0.05, 0.0]), abs=1e-6)
    assert direct_bias(model, "doctor,inside", top=1, vocabulary_limit=20_001)["most_he"][0]["word"] == "outside"


def projection_of(vector) -> float:
    return float(unit(vector) @ unit(unit(WORDS["he"]) - unit(WORDS["she"])))


class Silent:
    """A WordEmbedder that leaves out words it does not know without reporting them (the protocol allows it)."""

    name = "silent"

    def embed_words(self, words):
        kept = [w for w in words if w in WORDS]
        return kept, np.array([WORDS[w] for w in kept], dtype=np.float32).reshape(len(kept), 3), []


def test_a_set_cut_short_by_an_embedder_that_reports_nothing_names_no_missing_words():
    with pytest.raises(EmbedlabError) as error:
        weat(Silent(), "doctor,engineer", "nurse,dancer", "good,qqq", "bad,awful")
    assert str(error.value).splitlines()[0] == "only 1 of the 2 words of set A are in the vocabulary of silent."


def test_a_word_list_file_is_utf8_here_and_under_an_ascii_locale(tmp_path):
    """Under LANG=C (cron, bare containers) a UTF-8 word list with accents still reads as UTF-8, as it does in this
    process. (mutmut gives a mutant only the tests that call the mutated function in the test process.)"""
    listed = tmp_path / "words.txt"
    listed.write_text("café\nnaïve\n", encoding="utf-8")
    assert word_set(f"@{listed}") == ("words.txt", ["café", "naïve"])
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONCOERCECLOCALE="0", PYTHONUTF8="0")
    code = "import json, locale, sys; from embedlab.words.bias import word_set; "
    code += "print(json.dumps([locale.getpreferredencoding(False), word_set(sys.argv[1])[1]]))"  # ASCII-escaped
    out = subprocess.run([sys.executable, "-c", code, f"@{listed}"], env=env, capture_output=True, check=True)
    assert json.loads(out.stdout) == ["ANSI_X3.4-1968", ["café", "naïve"]]


def test_close_names_of_weat_tests_are_all_suggested(hand_made, monkeypatch):
    data = {"sets": {}, "tests": {"tiny": {}, "tina": {}, "other": {}}}
    monkeypatch.setattr(bias_module, "weat_data", lambda: data)
    with pytest.raises(EmbedlabError) as error:
        bias_module.named_weat(hand_made, "tinz")
    first = str(error.value).splitlines()[0]
    assert first.startswith("no WEAT test named 'tinz'. Did you mean: ") and first.endswith("?")
    assert sorted(first.removeprefix("no WEAT test named 'tinz'. Did you mean: ")[:-1].split(", ")) == ["tina", "tiny"]


class Mismatched:
    """A faulty WordEmbedder: for the neutral words, one vector fewer than the words it says it found."""

    name = "mismatched"

    def embed_words(self, words):
        rows = words if len(words) == 2 else words[:-1]  # the direction's two words are right
        return list(words), np.array([WORDS[w] for w in rows], dtype=np.float32), []


def test_an_embedder_whose_words_and_vectors_disagree_is_refused_not_truncated():
    with pytest.raises(ValueError, match="zip"):
        direct_bias(Mismatched(), "doctor,nurse,table")


def test_exact_p_value_counts_ties_within_a_tolerance_relative_to_the_statistic():
    """A split ties the observed statistic when it is within 1e-9 x max(1, |observed|) below it (float sums of one
    split in another order differ in the last bits); beyond that it does not count. The best split of 3, 2 | 1, 0
    is 4 (of 0.3, 0.2 | 0.1, 0: 0.4), one of 6 splits."""
    large, small = np.array([3.0, 2.0, 1.0, 0.0]), np.array([0.3, 0.2, 0.1, 0.0])
    p_value = bias_module.permutation_p_value
    assert p_value(large, 2, 4.0 + 3e-9, 1, 0) == (pytest.approx(1 / 6), True, 6)  # within 4e-9: a tie
    assert p_value(large, 2, 4.0 + 5e-9, 1, 0) == (0.0, True, 6)
    assert p_value(small, 2, 0.4 + 0.5e-9, 1, 0) == (pytest.approx(1 / 6), True, 6)  # within 1e-9: a tie
    assert p_value(small, 2, 0.4 + 1.5e-9, 1, 0) == (0.0, True, 6)


def test_the_exact_test_runs_up_to_exact_limit_partitions_inclusive(monkeypatch):
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 6)
    assert bias_module.permutation_p_value(np.array([3.0, 2.0, 1.0, 0.0]), 2, 4.0, 50, 0) == (
        pytest.approx(1 / 6), True, 6
    )  # fmt: skip
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 5)
    assert bias_module.permutation_p_value(np.array([3.0, 2.0, 1.0, 0.0]), 2, 4.0, 50, 0)[1:] == (False, 50)


def test_an_unknown_word_set_lists_the_close_set_names_and_the_three_forms_that_work():
    with pytest.raises(EmbedlabError) as error:
        word_set("arts_weat9")
    first = str(error.value).splitlines()[0]
    prefix = "'arts_weat9' is not a named word set. Did you mean: "
    assert first.startswith(prefix) and first.endswith("?")
    assert {"arts_weat7", "arts_weat8"} <= set(first.removeprefix(prefix)[:-1].split(", "))
    assert set(first.removeprefix(prefix)[:-1].split(", ")) <= set(bias_module.weat_data()["sets"])
    assert error.value.hint == (
        "give a set name (see weat_data(), or `embedlab bias --list`), comma-separated words 'a,b,c', or @FILE."
    )


def test_a_split_exactly_at_the_tolerance_edge_still_counts_at_least_as_large(monkeypatch):
    """'At least the observed statistic' is inclusive at the tolerance's edge, exact and sampled: with observed
    4 + 4e-9 the edge is 4.0 to the last bit, which the best split of 3, 2 | 1, 0 reaches exactly."""
    scores, observed = np.array([3.0, 2.0, 1.0, 0.0]), 4.0 + 4e-9
    assert observed - 1e-9 * max(1.0, abs(observed)) == 4.0  # the edge, exactly
    assert bias_module.permutation_p_value(scores, 2, observed, 1, 0) == (pytest.approx(1 / 6), True, 6)
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 1)
    p, exact, _ = bias_module.permutation_p_value(scores, 2, observed, 3000, 2)
    assert not exact and abs(p - 1 / 6) < 0.03


def test_sampled_splits_are_true_re_partitions_never_picking_a_word_twice(monkeypatch):
    """Scores 3, 0, 0, 0 split 2 | 2: no real split's statistic exceeds 2 x 3 - 3 = 3, so none reaches 5 and the
    sampled p-value is exactly (0 + 1) / (permutations + 1); a sample that took the 3 twice would reach 9."""
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 1)
    scores = np.array([3.0, 0.0, 0.0, 0.0])
    assert bias_module.permutation_p_value(scores, 2, 5.0, 2000, 0) == (1 / 2001, False, 2000)
    assert bias_module.permutation_p_value(scores, 2, 3.0, 2000, 0)[0] == pytest.approx(0.5, abs=0.04)  # 3 of 6
