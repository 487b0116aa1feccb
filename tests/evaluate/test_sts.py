"""sts on STS-B format files. No installed package ships STS-B, so the sample is real human-rated pairs:
100 of Lee's document pairs with their mean rating rescaled to STS-B's 0-5 range, written in both STS-B
layouts; the figures are checked against scipy on cosines computed here."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from scipy import stats

from embedlab import EmbedlabError
from embedlab.datasets import gensim_test_data
from embedlab.evaluate import evaluate


@pytest.fixture(scope="module")
def pairs():
    documents = [d.strip() for d in gensim_test_data("lee.cor").read_bytes().decode("latin-1").splitlines()]
    ratings = np.loadtxt(gensim_test_data("similarities0-1.txt"))
    left, right = np.triu_indices(50, 1)
    chosen = np.random.default_rng(0).choice(len(left), 100, replace=False)
    return [(documents[left[i]], documents[right[i]], round(5 * ratings[left[i], right[i]], 3)) for i in chosen]


def write_original(path, pairs):
    rows = [f"main-news\tlee\t2005\t{n:04d}\t{s:.3f}\t{a}\t{b}" for n, (a, b, s) in enumerate(pairs)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_both_layouts_against_scipy(wordllama, pairs, tmp_path):
    original = write_original(tmp_path / "sts-test.csv", pairs)
    glue = tmp_path / "sts.tsv.gz"
    body = "index\tgenre\tsentence1\tsentence2\tscore\n" + "".join(
        f"{n}\tnews\t{a}\t{b}\t{s}\n" for n, (a, b, s) in enumerate(pairs)
    )
    glue.write_bytes(gzip.compress(body.encode("utf-8")))
    first = np.array([p[0] for p in pairs])
    vectors_a, vectors_b = wordllama.encode(list(first)), wordllama.encode([p[1] for p in pairs])
    cosines = (vectors_a * vectors_b).sum(axis=1)
    human = [p[2] for p in pairs]
    for path in (original, glue):
        (result,) = evaluate("sts", [wordllama], data=path).results
        assert result.metrics["spearman"] == pytest.approx(stats.spearmanr(human, cosines).statistic, abs=1e-5)
        assert result.metrics["pearson"] == pytest.approx(stats.pearsonr(human, cosines).statistic, abs=1e-5)
        assert result.counts["pairs"] == 100 and result.dataset.name == path.name


def test_no_bundled_sts_says_so(wordllama):
    with pytest.raises(EmbedlabError, match="no installed package ships an STS benchmark"):
        evaluate("sts", [wordllama])


def test_wrong_format_names_line_and_field(wordllama, pairs, tmp_path):
    path = write_original(tmp_path / "sts.csv", pairs[:5])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = "main-news\tlee\t2005\t0003\tfour\ta\tb"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match=r"line 4: field 5 \(score\) 'four' is not a number"):
        evaluate("sts", [wordllama], data=path)
    path.write_text("sentence1\tsentence2\tgold\na\tb\t1\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="names no score column"):
        evaluate("sts", [wordllama], data=path)
