"""analogy on the Google set: 3CosAdd checked against gensim's evaluate_word_analogies, 3CosMul against gensim's
most_similar_cosmul, on the same wordllama vectors and sections of the real file."""

from __future__ import annotations

import pytest
from gensim.models import KeyedVectors

from embedlab import EmbedlabError
from embedlab.datasets import gensim_test_data
from embedlab.evaluate import evaluate

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")

SECTIONS = ("capital-common-countries", "family", "gram3-comparative")


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    """Three real sections of questions-words.txt (two semantic, one syntactic), to keep gensim's loop quick."""
    keep, lines = False, []
    for line in gensim_test_data("questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            keep = line[1:].strip() in SECTIONS
        if keep:
            lines.append(line)
    path = tmp_path_factory.mktemp("analogy") / "questions.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cosmul_correct(kv: KeyedVectors, path, restrict: int) -> dict[str, int]:
    """Correct answers per section with gensim's most_similar_cosmul, gensim's case-insensitive rules."""
    top = KeyedVectors(kv.vector_size)
    top.add_vectors(kv.index_to_key[:restrict], kv.vectors[:restrict])
    upper = {}
    for key in top.index_to_key:
        upper.setdefault(key.upper(), key)
    correct: dict[str, int] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
            correct[section] = 0
            continue
        a, b, c, expected = (w.upper() for w in line.split())
        if not all(w in upper for w in (a, b, c, expected)):
            continue
        sims = top.most_similar_cosmul(positive=[upper[b], upper[c]], negative=[upper[a]], topn=5)
        predicted = next(key.upper() for key, _ in sims if key.upper() not in {a, b, c})
        correct[section] += predicted == expected
    return correct


def test_matches_gensim(wordllama, wordllama_kv, subset):
    limit = 8000  # the 8,000 most frequent whole words; covers most of these sections' questions
    report = evaluate("analogy", [wordllama], data=subset, restrict_vocab=limit)
    (result,) = report.results
    _, sections = wordllama_kv.evaluate_word_analogies(str(subset), restrict_vocab=limit)
    reference = {s["section"]: s for s in sections}
    total = reference.pop("Total accuracy")
    assert set(reference) == set(SECTIONS)
    for name, section in reference.items():
        assert result.details["sections"][name]["3CosAdd correct"] == len(section["correct"]), name
    semantic = [reference[s] for s in SECTIONS[:2]]
    scored = sum(len(s["correct"]) + len(s["incorrect"]) for s in semantic)
    assert result.metrics["3CosAdd semantic"] == pytest.approx(sum(len(s["correct"]) for s in semantic) / scored)
    assert result.metrics["3CosAdd all"] == pytest.approx(
        len(total["correct"]) / (len(total["correct"]) + len(total["incorrect"]))
    )
    assert result.counts["used"] == len(total["correct"]) + len(total["incorrect"])
    assert result.counts["used"] + result.counts["oov"] == result.counts["questions"] == 506 + 506 + 1332
    for name, count in cosmul_correct(wordllama_kv, subset, limit).items():
        assert result.details["sections"][name]["3CosMul correct"] == count, name


def test_full_google_set_reports_oov_and_both_sections(wordllama):
    (result,) = evaluate("analogy", [wordllama]).results
    assert result.counts["questions"] == 19544 and result.counts["oov"] > 0
    assert {"3CosAdd semantic", "3CosAdd syntactic", "3CosMul semantic", "3CosMul syntactic"} <= set(result.metrics)
    assert result.recipe["restrict_vocab"] == 30000
    assert len(result.details["sections"]) == 14


def test_bad_file_and_no_usable_questions(wordllama, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": family\nboy girl brother sister\nking queen prince\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="line 3: has 3 words, not 4"):
        evaluate("analogy", [wordllama], data=path)
    path.write_text(": family\nboy girl brother sister\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="zero usable questions"):
        evaluate("analogy", [wordllama], data=path, restrict_vocab=50)


def test_analogy_with_a_sentence_encoder_says_which_tasks_fit(minilm):
    with pytest.raises(EmbedlabError, match="cannot do analogy: it needs a word model") as error:
        evaluate("analogy", [minilm])
    assert "docsim, sts, retrieval, classify" in error.value.hint
