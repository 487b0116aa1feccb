"""`embedlab evaluate`: comparison table, --json, Markdown/HTML reports, and exit code 2 for bad input."""

from __future__ import annotations

import json

import pytest


def test_compare_two_models_json_and_html(run_cli, tmp_path):
    report = tmp_path / "report.html"
    code, out, err = run_cli("evaluate", "docsim", "-m", "tfidf", "-m", "wordllama", "--json", "-o", str(report))
    assert code == 0, err
    data = json.loads(out)
    assert [r["model"] for r in data["results"]] == ["tfidf", "wordllama"]
    assert data["results"][0]["dataset"]["sha256"].startswith("sha256:")
    assert data["results"][0]["recipe"]["encoder"] == "tfidf"
    best = {b["metric"]: b["models"] for b in data["best"]}
    pearson = {r["model"]: r["metrics"]["pearson"] for r in data["results"]}
    assert best["pearson"] == [max(pearson, key=pearson.get)]
    page = report.read_text(encoding="utf-8")
    assert "<svg" in page and 'class="best"' in page and "Lee, Pincombe" in page and "<script" not in page


def test_terminal_table_and_markdown(run_cli, tmp_path):
    path, page = tmp_path / "wordsim.md", tmp_path / "wordsim.html"
    code, out, err = run_cli("evaluate", "wordsim", "-m", "wordllama", "-o", str(path), "-o", str(page))
    assert code == 0, err
    assert "<svg" in page.read_text(encoding="utf-8")
    assert "wordsim" in out and "spearman" in out and "Finkelstein" in out
    text = path.read_text(encoding="utf-8")
    assert "| model | WordSim-353 spearman |" in text and "/353" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("evaluate", "similarity", "-m", "wordllama"), "unknown task 'similarity'"),
        (("evaluate", "analogy", "-m", "tfidf"), "cannot do analogy"),
        (("evaluate", "docsim"), "no model given"),
        (("evaluate", "sts", "-m", "wordllama"), "no installed package ships an STS benchmark"),
        (("evaluate", "docsim", "-m", "wordllama", "-o", "report.pdf"), "unknown report type"),
    ],
)
def test_bad_input_exits_2(run_cli, args, message):
    code, out, err = run_cli(*args)
    assert code == 2 and message in err and out == ""


def test_bad_dataset_writes_no_report(run_cli, tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("cat\tdog\n", encoding="utf-8")
    report = tmp_path / "r.md"
    code, _, err = run_cli("evaluate", "wordsim", "-m", "wordllama", "--data", str(data), "-o", str(report))
    assert code == 2 and "line 1: has 2 tab-separated fields" in err and not report.exists()


def test_evaluate_all_from_the_command_line(run_cli, tmp_path, monkeypatch):
    """Every bundled task that fits wordllama runs; the figures are README's table (wordllama column)."""
    monkeypatch.setenv("EMBEDLAB_CACHE", str(tmp_path / "cache"))
    code, out, err = run_cli("evaluate", "all", "-m", "wordllama", "--json", "-o", str(tmp_path / "all.md"))
    assert code == 0, err
    data = json.loads(out)
    metrics = {(r["task"], r["dataset"]["name"]): r["metrics"] for r in data["results"]}
    assert {task for task, _ in metrics} == {"wordsim", "analogy", "docsim", "retrieval", "classify"}
    assert [s["task"] for s in data["skipped"]] == ["sts"]  # no STS data ships
    assert metrics[("wordsim", "WordSim-353")]["spearman"] == pytest.approx(0.638, abs=5e-4)
    assert metrics[("wordsim", "SimLex-999")]["spearman"] == pytest.approx(0.567, abs=5e-4)
    assert metrics[("docsim", "Lee 50 documents")]["pearson"] == pytest.approx(0.681, abs=5e-4)
    assert metrics[("classify", "Pang-Lee polarity")]["accuracy"] == pytest.approx(0.570, abs=5e-4)
    analogy = next(m for (task, _), m in metrics.items() if task == "analogy")
    assert analogy["3CosAdd all"] == pytest.approx(0.630, abs=5e-4)
    assert (tmp_path / "all.md").read_text(encoding="utf-8").count("wordllama") >= 5
