"""wordsim on WordSim-353 and SimLex-999, checked against gensim's own evaluate_word_pairs on the same vectors."""

from __future__ import annotations

import pytest
from gensim.models import KeyedVectors

from embedlab import EmbedlabError, load
from embedlab.datasets import gensim_test_data
from embedlab.evaluate import evaluate


@pytest.mark.parametrize("restrict", [None, 4000])
def test_wordllama_matches_gensim_evaluate_word_pairs(wordllama, wordllama_kv, restrict):
    options = {} if restrict is None else {"restrict_vocab": restrict}
    report = evaluate("wordsim", [wordllama], **options)
    by_name = {r.dataset.name: r for r in report.results}
    for name, file in (("WordSim-353", "wordsim353.tsv"), ("SimLex-999", "simlex999.txt")):
        pearson, spearman, oov_percent = wordllama_kv.evaluate_word_pairs(
            str(gensim_test_data(file)), restrict_vocab=restrict or len(wordllama_kv)
        )
        result = by_name[name]
        assert result.metrics["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
        assert result.metrics["pearson"] == pytest.approx(pearson.statistic, abs=1e-6)
        counts = result.counts
        assert counts["used"] + counts["oov"] == counts["pairs"] == {"WordSim-353": 353, "SimLex-999": 999}[name]
        assert 100 * counts["oov"] / counts["pairs"] == pytest.approx(oov_percent)
        assert len(result.details["oov_pairs"]) == counts["oov"] > 0
    assert by_name["WordSim-353"].dataset.sha256.startswith("sha256:")
    assert by_name["WordSim-353"].recipe["encoder"] == "wordllama"


def test_vectors_file_matches_gensim():
    path = gensim_test_data("lee_fasttext.vec")
    report = evaluate("wordsim", [load(f"vectors:{path}")])
    kv = KeyedVectors.load_word2vec_format(str(path))
    for result, file in zip(report.results, ("wordsim353.tsv", "simlex999.txt"), strict=True):
        _, spearman, _ = kv.evaluate_word_pairs(str(gensim_test_data(file)))
        assert result.metrics["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)


def test_zero_usable_pairs_after_oov(wordllama, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# made-up words\nqzxvbn\tplokmij\t3.0\nwxyzzy\tfrobnicate\t1.0\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="only 0 of 2 pairs"):
        evaluate("wordsim", [wordllama], data=path)


def test_wrong_format_names_line_and_field(wordllama, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# header\ncat\tdog\t7.5\ncat\tmouse\tsimilar\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match=r"line 3: field 3 \(score\) 'similar' is not a number"):
        evaluate("wordsim", [wordllama], data=path)
    path.write_text("cat dog 7.5\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="line 1: has 1 tab-separated fields"):
        evaluate("wordsim", [wordllama], data=path)


def test_sentence_encoder_cannot_do_word_tasks(minilm):
    with pytest.raises(EmbedlabError, match="cannot do wordsim") as error:
        evaluate("wordsim", [minilm])
    assert "docsim" in error.value.hint and "analogy" not in error.value.hint
