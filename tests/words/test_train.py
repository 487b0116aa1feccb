"""Training on the real Lee corpus, the saved folder format, trust of pickles, and bad corpora."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embedlab
from embedlab.datasets import lee_news
from embedlab.errors import EmbedlabError
from embedlab.words import Corpus, Doc2VecModel, TrainOptions, load, read_manifest, train
from embedlab.words.models import MANIFEST

FIRE_WORDS = {"brigade", "crews", "firefighters", "fires", "blaze", "bushfires", "flames", "burning", "hawkesbury"}


def test_word2vec_on_lee_finds_sensible_neighbours(w2v) -> None:
    fire = [w for w, _ in w2v.neighbors("fire", 10).neighbors]
    assert len(FIRE_WORDS & set(fire)) >= 2, fire
    israeli = [w for w, _ in w2v.neighbors("israeli", 10).neighbors]
    assert {"palestinian", "army", "gunships", "helicopters", "hebron", "tanks"} & set(israeli), israeli
    assert "fire" not in fire


def test_saved_folder_holds_no_pickle_and_a_full_manifest(w2v_dir: Path) -> None:
    folder, manifest = read_manifest(w2v_dir, "word2vec")
    assert manifest["kind"] == "word2vec" and manifest["vocabulary"] == 4145 and manifest["documents"] == 300
    assert manifest["corpus_words"] == 60533 and manifest["training_seconds"] > 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([MANIFEST, *manifest["files"]])
    for name in manifest["files"]:
        assert not (folder / name).read_bytes().startswith(b"\x80"), f"{name} looks like a pickle"
    assert not any(p.name.startswith(".") for p in folder.parent.iterdir()), "a temp folder was left behind"


def test_saved_model_loads_as_encoder(w2v_dir: Path) -> None:
    encoder = embedlab.load(f"word2vec:{w2v_dir}")
    vectors = encoder.encode(["Firefighters fought the bushfire", "qwxzv"])
    assert vectors.shape == (2, 100) and np.isclose(np.linalg.norm(vectors[0]), 1.0)
    assert not vectors[1].any()
    assert encoder.last_stats["oov_tokens"] == 1 and encoder.last_stats["texts_without_known_words"] == 1
    assert encoder.recipe["encoder"] == "word2vec"


def test_training_repeats_with_one_worker_and_a_seed(tmp_path: Path, lee_path: Path) -> None:
    options = TrainOptions(dim=20, epochs=2, min_count=5, workers=1, seed=7)
    train("word2vec", lee_path, tmp_path / "a", options)
    train("word2vec", lee_path, tmp_path / "b", options)
    a, b = load(f"word2vec:{tmp_path / 'a'}"), load(f"word2vec:{tmp_path / 'b'}")
    assert a.vocabulary == b.vocabulary
    assert np.array_equal(a.vectors.vectors, b.vectors.vectors)


TRAIN = """
import sys
from embedlab.words import TrainOptions, train
train("doc2vec", sys.argv[1], sys.argv[2], TrainOptions(dim=20, epochs=2, min_count=5, workers=1, seed=7))
"""


def test_doc2vec_training_repeats_in_a_process_with_another_hash_seed(tmp_path: Path, lee_path: Path) -> None:
    """docs/words.md: with --workers 1 a seed gives bit-identical vectors in any process (Python's `hash` is
    salted per process; no starting vector may come from it)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"}
    subprocess.run([sys.executable, "-c", TRAIN, str(lee_path), str(tmp_path / "there")], env=env, check=True)
    train("doc2vec", lee_path, tmp_path / "here", TrainOptions(dim=20, epochs=2, min_count=5, workers=1, seed=7))
    for name in ("vectors.bin", "docvecs.npy"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes(), name


def test_fasttext_builds_oov_words_from_subwords(ft_dir: Path) -> None:
    lab = load(f"fasttext:{ft_dir}")
    status = lab.status("firefighterz")
    assert status.status == "built from subwords"
    result = lab.neighbors("firefighterz", 5)
    assert "firefighters" in [w for w, _ in result.neighbors]
    assert "built from subwords" in result.notes[0]
    encoder = embedlab.load(f"fasttext:{ft_dir}")
    vector = encoder.encode("firefighterz")
    assert vector.any() and encoder.last_stats["oov_built_from_subwords"] == 1


def test_doc2vec_infer_repeats_and_finds_related_stories(d2v_dir: Path) -> None:
    model = Doc2VecModel(d2v_dir)
    text = "Firefighters are battling bushfires in the Blue Mountains west of Sydney"
    first, again = model.infer(text, seed=3), model.infer(text, seed=3)
    assert np.array_equal(first, again)
    snippets = model.texts()
    near = model.neighbors("1", 5)  # story 1: homes evacuated as bushfires burn in New South Wales
    assert "1" not in [tag for tag, _ in near]
    assert sum("fire" in snippets[tag].lower() for tag, _ in near) >= 3, [snippets[t] for t, _ in near]
    encoder = embedlab.load(f"doc2vec:{d2v_dir}")
    assert np.allclose(encoder.encode(text, normalize=False)[0], model.infer(text, seed=0))


INFER = """
import sys
import numpy as np
from embedlab.words import Doc2VecModel
model = Doc2VecModel(sys.argv[1])
vector = model.infer("Israeli helicopter gunships fired missiles at Palestinian police posts", seed=0)
np.save(sys.argv[2], vector)
"""


def test_doc2vec_infer_is_the_same_in_processes_with_other_hash_seeds(d2v_dir: Path, tmp_path: Path) -> None:
    """gensim seeds inference with Python's salted `hash`; embedlab's inference must not depend on it."""
    import os
    import subprocess
    import sys

    vectors = []
    for hash_seed in ("1", "2", "random"):
        out = tmp_path / f"{hash_seed}.npy"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", INFER, str(d2v_dir), str(out)], env=env, check=True)
        vectors.append(np.load(out))
    assert vectors[0].any()
    assert np.array_equal(vectors[0], vectors[1]) and np.array_equal(vectors[0], vectors[2])
    # and this process (its own hash seed) agrees too
    here = Doc2VecModel(d2v_dir).infer("Israeli helicopter gunships fired missiles at Palestinian police posts")
    assert np.array_equal(here, vectors[0])


def test_doc2vec_pickle_is_refused_without_a_valid_signature(
    d2v_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(d2v_dir, copy)
    monkeypatch.setenv("EMBEDLAB_CONFIG_DIR", str(tmp_path / "another-user"))
    model = Doc2VecModel(copy)
    assert model.neighbors("1", 3)  # vectors load without unpickling anything
    with pytest.raises(EmbedlabError, match="not signed by embedlab for this user"):
        model.infer("fire near Sydney")


def test_doc2vec_pickle_with_a_forged_signature_is_refused(d2v_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(d2v_dir, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["signature"] = "0" * 64
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(EmbedlabError, match="signature .* does not match"):
        Doc2VecModel(copy).infer("fire near Sydney")


@pytest.mark.parametrize("damage", ["flip-byte", "drop-file", "drop-manifest", "bad-json"])
def test_corrupted_model_folder_is_a_clear_error(w2v_dir: Path, tmp_path: Path, damage: str) -> None:
    import shutil

    copy = tmp_path / "broken"
    shutil.copytree(w2v_dir, copy)
    if damage == "flip-byte":
        data = bytearray((copy / "vectors.bin").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (copy / "vectors.bin").write_bytes(bytes(data))
    elif damage == "drop-file":
        (copy / "counts.npy").unlink()
    elif damage == "drop-manifest":
        (copy / MANIFEST).unlink()
    else:
        (copy / MANIFEST).write_text("{not json")
    with pytest.raises(EmbedlabError):
        load(f"word2vec:{copy}")


def test_empty_corpus_writes_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "empty.txt"
    corpus.write_text("\n  \n...\n")
    with pytest.raises(EmbedlabError, match="has no words"):
        train("word2vec", corpus, tmp_path / "out", TrainOptions(workers=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt"]


def test_nothing_above_min_count_writes_nothing(tmp_path: Path, lee_path: Path) -> None:
    with pytest.raises(EmbedlabError, match="no word occurs 100000 times"):
        train("word2vec", lee_path, tmp_path / "out", TrainOptions(min_count=100_000, workers=1))
    assert not any(tmp_path.iterdir())


def test_existing_model_is_kept_unless_overwrite(tmp_path: Path, lee_path: Path) -> None:
    out = tmp_path / "m"
    options = TrainOptions(dim=10, epochs=1, min_count=5, workers=1)
    train("word2vec", lee_path, out, options)
    before = (out / MANIFEST).read_text()
    with pytest.raises(EmbedlabError, match="already exists"):
        train("word2vec", lee_path, out, options)
    assert (out / MANIFEST).read_text() == before
    train(
        "fasttext", lee_path, out, TrainOptions(dim=10, epochs=1, min_count=5, workers=1, buckets=1000), overwrite=True
    )
    assert read_manifest(out)[1]["kind"] == "fasttext"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_corpus_from_csv_jsonl_and_folder(tmp_path: Path) -> None:
    records = lee_news()[:20]
    import csv

    with open(tmp_path / "news.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "story"])
        writer.writerows([r.id, r.text] for r in records)
    with open(tmp_path / "news.jsonl", "w", encoding="utf-8") as handle:
        for r in records:
            handle.write(json.dumps({"text": r.text}) + "\n")
    folder = tmp_path / "stories"
    folder.mkdir()
    for r in records[:3]:
        (folder / f"{r.id}.txt").write_text(r.text + "\n", encoding="utf-8")
    from_csv = Corpus(tmp_path / "news.csv", text_column="story")
    assert [d.tag for d in from_csv.documents()][:2] == ["lee-1", "lee-2"]
    assert sum(1 for _ in from_csv) == 20 and sum(1 for _ in from_csv) == 20  # restartable
    assert [d.words for d in Corpus(tmp_path / "news.jsonl").documents()] == [d.words for d in from_csv.documents()]
    assert [d.tag for d in Corpus(folder).documents()] == ["lee-1.txt:1", "lee-2.txt:1", "lee-3.txt:1"]
    result = train("doc2vec", from_csv, tmp_path / "d2v", TrainOptions(dim=10, epochs=2, min_count=1, workers=1))
    assert result.documents == 20 and Doc2VecModel(tmp_path / "d2v").tags[:2] == ["lee-1", "lee-2"]
    with pytest.raises(EmbedlabError, match="no column 'body'"):
        list(Corpus(tmp_path / "news.csv", text_column="body"))


def test_signing_key_is_private_and_signatures_bind_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedlab.encoders import trust

    monkeypatch.setenv("EMBEDLAB_CONFIG_DIR", str(tmp_path / "config"))
    target = tmp_path / "model.gensim"
    target.write_bytes(b"payload")
    signature = trust.sign(target)
    key = tmp_path / "config" / "signing.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32
    trust.verify(target, signature)
    target.write_bytes(b"payload!")
    with pytest.raises(EmbedlabError, match="does not match"):
        trust.verify(target, signature)
    with pytest.raises(EmbedlabError, match="not signed"):
        trust.verify(target, None)
