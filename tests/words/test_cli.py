"""The CLI end to end: every command with --json, and exit code 2 with nothing written on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from embedlab.cli import main
from embedlab.encoders.static import tokenize


def run(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["embedlab", *args])
    code = 0
    try:
        main(standalone=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_word2vec_cli_reports_vocabulary_and_time(tmp_path: Path, lee_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "m"
    code, stdout, _ = run(
        [
            "train",
            "word2vec",
            str(lee_path),
            "-o",
            str(out),
            "--dim",
            "20",
            "--epochs",
            "2",
            "--workers",
            "1",
            "--json",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0
    report = json.loads(stdout)
    counts = Counter(w for line in lee_path.read_text(encoding="utf-8").splitlines() for w in tokenize(line))
    assert report["vocabulary"] == sum(1 for n in counts.values() if n >= 5)  # default --min-count 5
    assert report["corpus_words"] == sum(counts.values()) and report["words_per_second"] > 0
    assert report["options"]["min_count"] == 5 and (out / "vectors.bin").is_file()
    code, _, err = run(["train", "word2vec", str(lee_path), "-o", str(tmp_path / "x"), "--text"], monkeypatch, capsys)
    assert code == 2 and "--text" in err  # click usage error


def test_neighbors_and_analogy_json(w2v_dir: Path, monkeypatch, capsys) -> None:
    code, stdout, _ = run(["neighbors", f"word2vec:{w2v_dir}", "fire", "-k", "3", "--json"], monkeypatch, capsys)
    result = json.loads(stdout)
    assert code == 0 and len(result["neighbors"]) == 3 and result["query"][0]["status"] == "in vocabulary"
    code, stdout, _ = run(
        ["analogy", "wordllama", "man", "king", "woman", "-k", "10", "--method", "3cosmul", "--json"],
        monkeypatch,
        capsys,
    )
    result = json.loads(stdout)
    assert code == 0 and result["method"] == "3cosmul" and "queen" in [n["word"] for n in result["neighbors"]]


def test_fasttext_cli_says_oov_words_are_built_from_subwords(ft_dir: Path, monkeypatch, capsys) -> None:
    code, stdout, err = run(["neighbors", f"fasttext:{ft_dir}", "firefighterz", "-k", "3"], monkeypatch, capsys)
    assert code == 0 and "built from subwords" in err and "firefighters" in stdout


@pytest.mark.parametrize(
    "args",
    [
        ["neighbors", "word2vec:{w2v}", "firre"],
        ["analogy", "word2vec:{w2v}", "man", "man", "woman"],
        ["analogy", "word2vec:{w2v}", "man", "king"],
        ["neighbors", "word2vec:{missing}", "fire"],
        ["neighbors", "minilm", "fire"],
        ["bias", "wordllama", "--test", "weat1"],
        ["bias", "wordllama", "--weat", "king,", "queen,woman", "good,nice", "bad,awful"],
        ["bias", "wordllama"],
        ["infer", "doc2vec:{w2v}", "some text"],
    ],
)
def test_bad_input_exits_2(args: list[str], w2v_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    args = [a.format(w2v=w2v_dir, missing=tmp_path / "nope") for a in args]
    code, stdout, err = run(args, monkeypatch, capsys)
    assert code == 2, err
    assert stdout == "" and err.strip()


def test_bad_corpora_exit_2_and_write_nothing(tmp_path: Path, lee_path: Path, monkeypatch, capsys) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    for corpus, extra in ((empty, []), (lee_path, ["--min-count", "1000000"])):
        code, _, err = run(["train", "word2vec", str(corpus), "-o", str(tmp_path / "out"), *extra], monkeypatch, capsys)
        assert code == 2 and "error:" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt"]


def test_oov_bias_export_infer_and_doc_neighbors(
    w2v_dir: Path, d2v_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    from embedlab.datasets import gensim_test_data

    text = gensim_test_data("para2para_text1.txt")
    code, stdout, _ = run(["oov", f"word2vec:{w2v_dir},wordllama", str(text), "--json"], monkeypatch, capsys)
    reports = json.loads(stdout)
    assert code == 0 and [r["model"] for r in reports] == ["word2vec:w2v", "wordllama"]

    code, stdout, _ = run(["bias", "wordllama", "--seat", "--test", "weat1", "--direct", "--json"], monkeypatch, capsys)
    result = json.loads(stdout)
    assert code == 0 and result["weat"]["effect_size"] > 0 and result["weat"]["p_value"] < 0.05
    assert "direct_bias" in result and "most_he" not in result["direct_bias"]  # templates: no vocabulary to rank

    code, stdout, _ = run(
        ["export-vectors", f"word2vec:{w2v_dir}", str(tmp_path / "v.bin"), "--binary", "--json"], monkeypatch, capsys
    )
    assert code == 0 and json.loads(stdout)["format"] == "word2vec-binary" and (tmp_path / "v.bin").is_file()

    code, stdout, _ = run(
        [
            "infer",
            f"doc2vec:{d2v_dir}",
            "Bushfires burn in the Blue Mountains",
            "-o",
            str(tmp_path / "v.npy"),
            "--json",
        ],
        monkeypatch,
        capsys,
    )
    result = json.loads(stdout)
    assert code == 0 and len(result["results"][0]["vector"]) == 50 and (tmp_path / "v.npy").is_file()
    code, stdout, _ = run(["doc-neighbors", f"doc2vec:{d2v_dir}", "1", "-k", "2", "--json"], monkeypatch, capsys)
    assert code == 0 and len(json.loads(stdout)["neighbors"]) == 2
    code, _, err = run(["doc-neighbors", f"doc2vec:{d2v_dir}", "lee-1"], monkeypatch, capsys)
    assert code == 2 and "no training document has the tag" in err


def test_console_script_exits_2_on_user_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from embedlab.cli import main; main()", "neighbors", f"word2vec:{tmp_path}", "fire"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "not an embedlab model folder" in result.stderr
