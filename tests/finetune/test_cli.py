"""`embedlab train classifier|bag|contrastive` and `embedlab predict`: --json output, exit 2 on bad input, 130 on Ctrl-C."""

from __future__ import annotations

import json

import embedlab.finetune.bag as bag_module


def test_classifier_then_predict(run_cli, tmp_path):
    out = tmp_path / "head"
    code, stdout, _ = run_cli("train", "classifier", "pang-lee", "-o", str(out), "--model", "wordllama", "--json")
    assert code == 0
    result = json.loads(stdout)
    assert result["kind"] == "logreg" and result["split"] == {"train": 120, "validation": 40, "test": 40}
    assert len(result["test"]["confusion"]) == 2
    code, stdout, _ = run_cli("predict", str(out), "a gorgeous, moving film", "dull", "--json")
    assert code == 0
    predictions = json.loads(stdout)
    assert [p["text"] for p in predictions] == ["a gorgeous, moving film", "dull"]
    assert all(abs(sum(p["probabilities"].values()) - 1) < 1e-6 for p in predictions)
    code, _, stderr = run_cli("train", "classifier", "pang-lee", "-o", str(out), "--model", "wordllama")
    assert code == 2 and "already exists" in stderr and "--overwrite" in stderr


def test_table_output_shows_metrics_and_confusion(run_cli, tmp_path):
    code, stdout, _ = run_cli("train", "classifier", "pang-lee", "-o", str(tmp_path / "h"), "-m", "wordllama")
    assert code == 0
    assert "macro-F1" in stdout and "majority baseline (neg)" in stdout and "confusion" in stdout


def test_bad_inputs_exit_2(run_cli, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"anchor": "a", "positive": "b"}\n{"anchor": "", "positive": "c"}\n', encoding="utf-8")
    code, _, stderr = run_cli("train", "contrastive", str(pairs), "-o", str(tmp_path / "m"))
    assert code == 2 and "line 2: the anchor text is empty" in stderr
    code, _, stderr = run_cli("train", "contrastive", "lee", "-o", str(tmp_path / "m"), "--model", "wordllama")
    assert code == 2 and "cannot be fine-tuned contrastively" in stderr and "minilm" in stderr
    code, _, stderr = run_cli("predict", str(tmp_path), "text")
    assert code == 2 and "not a trained head folder" in stderr
    code, _, stderr = run_cli("train", "classifier", "pang-lee", "-o", str(tmp_path / "h"), "--head", "svm")
    assert code == 2 and "unknown head 'svm'" in stderr
    assert not (tmp_path / "m").exists() and not (tmp_path / "h").exists()


def test_ctrl_c_exits_130_and_says_where(run_cli, tmp_path, monkeypatch):
    real_fit = bag_module.fit_classifier

    def fit_then_ctrl_c(*args, progress=None, **kwargs):
        def interrupt(epoch: int, epochs: int, info: dict) -> None:
            if epoch == 2:
                raise KeyboardInterrupt

        return real_fit(*args, progress=interrupt, **kwargs)

    monkeypatch.setattr(bag_module, "fit_classifier", fit_then_ctrl_c)
    out = tmp_path / "bag"
    code, _, stderr = run_cli("train", "bag", "pang-lee", "-o", str(out))
    assert code == 130
    assert "interrupted" in stderr and str(out) in stderr.replace("\n", "")
    code, stdout, _ = run_cli("predict", str(out), "fine", "--json")
    assert code == 0 and json.loads(stdout)[0]["label"] in ("pos", "neg")
