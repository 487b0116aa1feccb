"""Hostile and careless input over every command: exit code 2, a message (and a hint), no traceback, and the
store exactly as it was before the call.

Each case is a command line with placeholders ({tmp}: a folder of bad files made here; {file}: a regular
file, so `{file}/x` is a path whose folder cannot exist). Cases run in-process through the real entry point
(`embedlab.cli.main`): any exception other than a handled one fails the test with its traceback.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedlab.encoders.transformer import bundled_minilm_path
from embedlab.store import Store

TEXTS = [
    "The fire brigade fought a bushfire near Sydney.",
    "Storms flooded the streets of Brisbane.",
    "The cricket team won the test match.",
    "Markets fell as the dollar dropped.",
    "Police arrested two men after a robbery.",
    "A new vaccine was approved by the health department.",
]


def make_files(tmp: Path) -> None:
    (tmp / "file").write_text("not a folder\n")
    (tmp / "dotted.csv").write_text("text,a.b\nhello world,1\nbye now,2\n")
    (tmp / "empty-header.csv").write_text("text,,x\nhello world,1,2\n")
    (tmp / "empty-key.jsonl").write_text('{"text": "hello world", "": 1}\n')
    (tmp / "long.txt").write_text("short line\n" + "word " * 400 + "\n")
    (tmp / "latin1.txt").write_bytes("caf\xe9\nna\xefve\n".encode("latin-1"))
    (tmp / "header-bomb.txt").write_text("1 2000000000\nking 0.1\n")
    (tmp / "rows-bomb.txt").write_text("2000000000 300\nking 0.1\n")
    (tmp / "glove-short-row.txt").write_text("king 0.1 0.2 0.3\nqueen 0.3\n")
    (tmp / "w2v-short-row.txt").write_text("2 3\nking 0.1 0.2 0.3\nqueen 0.3\n")
    (tmp / "glove-nan.txt").write_text("king 0.1 0.2 0.3\nqueen nan 0.1 0.2\n")
    (tmp / "glove-inf.txt").write_text("king 0.1 0.2 0.3\nqueen 0.5 -inf 0.2\n")
    (tmp / "labels.csv").write_text(
        "text,label\n" + "".join(f'"{t}",{"a" if i % 2 else "b"}\n' for i, t in enumerate(TEXTS * 4))
    )
    broken = tmp / "broken-model"
    shutil.copytree(bundled_minilm_path(), broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 64 + b"not safetensors at all")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A store with one wordllama collection and one tfidf collection, and a folder of bad files."""
    tmp = tmp_path_factory.mktemp("bad-input")
    make_files(tmp)
    store = Store(tmp / "store")
    store.create("news", "wordllama").add(TEXTS, ids=[f"n{i}" for i in range(len(TEXTS))])
    store.create("words", "tfidf").add(TEXTS, ids=[f"w{i}" for i in range(len(TEXTS))])
    return tmp, store


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under the store with its size and modification time (the empty per-collection lock files,
    which writers create and never delete, are not data)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".lock"
    }


# (command line, text the error must contain)
CASES = [
    # searching: bad filters, Rich markup in user text, empty and unknown queries
    ('search news fire --where "[/bold]"', "[/bold]"),
    ('search news fire --where "[red]x[/red] = 1"', "[red]x[/red]"),
    ("search news fire --where \"nosuch = 'x'\"", "nosuch"),
    ('search news ""', "query is empty"),
    ("search news fire -k 0", "-k"),
    ("search nosuch fire", "no collection 'nosuch'"),
    ("search words beretta", "all zeros"),
    ("search words beretta --mode hybrid", "all zeros"),
    ("similar news nosuch-id", "no item with id 'nosuch-id'"),
    ("similar news [/x]", "[/x]"),
    # indexing: names LanceDB cannot store, too-long lines, missing and non-UTF-8 files
    ("index dotted {tmp}/dotted.csv -m wordllama", "'a.b'"),
    ("index blank {tmp}/empty-header.csv -m wordllama", "metadata field ''"),
    ("index blankkey {tmp}/empty-key.jsonl -m wordllama", "metadata field ''"),
    ("index longs {tmp}/long.txt -m wordllama --max-chars 100", "line 2"),
    ("index longs {tmp}/long.txt -m wordllama --max-chars 0", "--max-chars"),
    ("index brackets {tmp}/[red]x[/red].txt -m wordllama", "[red]x[/red].txt"),
    ("index latin {tmp}/latin1.txt -m wordllama", "not UTF-8"),
    ("index news {tmp}/long.txt -m minilm", "minilm"),
    # embedding: vectors files that lie, outputs that cannot be written, broken weights
    ("embed vectors:{tmp}/header-bomb.txt king", "cannot hold them"),
    ("embed vectors:{tmp}/rows-bomb.txt king", "cannot hold them"),
    ("embed vectors:{tmp}/glove-short-row.txt king", "line 2 has 1 values"),
    ("embed vectors:{tmp}/w2v-short-row.txt king", "line 3 has 1 values"),
    ("embed vectors:{tmp}/glove-nan.txt king", "line 2"),
    ("embed vectors:{tmp}/glove-inf.txt king", "line 2"),
    ("embed wordllama hello -o {tmp}/file/out.npy", "does not exist"),
    ("embed wordllama -i {tmp}/long.txt --max-chars 100", "line 2"),
    ("embed {tmp}/broken-model hello", "could not load"),
    ("embed tfidf hello --max-features 0", "--max-features"),
    ("embed tfidf hello --stop-words french", "--stop-words"),
    # maps, evaluate, words, training: outputs that cannot be written, bad word lists and knobs
    ("map news -o {tmp}/file/map.html", "does not exist"),
    ("map news -o {tmp}/m.html --projector {tmp}/file/x", "does not exist"),
    ("evaluate docsim -m wordllama -o {tmp}/missing/report.md", "does not exist"),
    ("train word2vec {tmp}/long.txt -o {tmp}/file/w2v", "cannot create"),
    ("bias wordllama --weat @{tmp}/latin1.txt flowers pleasant unpleasant", "not UTF-8"),
    ("analogy wordllama man king woman --exclude nothing", "--exclude"),
    ("train classifier {tmp}/labels.csv -o {tmp}/head -m wordllama --lr -1", "--lr"),
    ("train classifier {tmp}/labels.csv -o {tmp}/head -m wordllama --lr nan", "--lr"),
    ("train bag {tmp}/labels.csv -o {tmp}/bag --lr 0", "--lr"),
    ("train contrastive {tmp}/labels.csv -o {tmp}/bag --lr -0.5", "--lr"),
    # the other commands
    ("neighbors wordllama zzqxzzqx", "not in the vocabulary"),
    ("oov wordllama {tmp}/latin1.txt", "not UTF-8"),
    ("similarity wordllama [/only-one]", "at least two"),
    ("collections info nosuch", "no collection 'nosuch'"),
    ("collections drop nosuch", "no collection 'nosuch'"),
    ("reembed nosuch copy -m wordllama", "no collection 'nosuch'"),
    ("predict {tmp}/file a storm", "not a trained head folder"),
]


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0].split(" {")[0][:60] for c in CASES])
def test_bad_input_is_a_clear_error_and_changes_nothing(world, run_cli, monkeypatch, line, expected):
    import shlex

    tmp, store = world
    monkeypatch.setenv("EMBEDLAB_STORE", str(store.path))
    args = [a.format(tmp=tmp) for a in shlex.split(line)]
    before = snapshot(store.path)
    code, out, err = run_cli(*args)
    assert code == 2, (line, out, err)
    assert "error:" in err and expected in err, err
    assert "Traceback" not in err + out
    assert snapshot(store.path) == before
    assert not (tmp / "head").exists() and not (tmp / "bag").exists()


def test_a_bad_ingest_leaves_no_collection_behind(world, run_cli):
    tmp, store = world
    code, _, err = run_cli("index", "dotted", str(tmp / "dotted.csv"), "-m", "wordllama", "--store", str(store.path))
    assert code == 2 and "rename" in err
    assert "dotted" not in Store(store.path).names()
    fixed = tmp / "fixed.csv"
    fixed.write_text("text,a_b\nhello world,1\nbye now,2\n")
    code, _, err = run_cli("index", "dotted", str(fixed), "-m", "wordllama", "--store", str(store.path))
    assert code == 0, err
    assert Store(store.path).collection("dotted").metadata_columns == ["a_b"]
    Store(store.path).drop("dotted")


def test_user_text_prints_literally_in_tables_and_notes(world, run_cli, tmp_path):
    """Bracketed text is data, not Rich markup: it is printed as given, in results and in notes."""
    _, store = world
    source = tmp_path / "[bold]odd[x].txt"
    source.write_text("[red]alarm[/red] at the [/] station\n")
    code, out, err = run_cli("index", "odd", str(source), "-m", "wordllama", "--store", str(store.path))
    assert code == 0, err
    code, out, err = run_cli("search", "odd", "[red]alarm[/red]", "--store", str(store.path))
    assert code == 0, err
    assert "[red]alarm[/red]" in out and "[/]" in out
    code, out, err = run_cli("embed", "wordllama", "[b]x[/b]", "[/i]")
    assert code == 0 and "[b]x[/b]" in out and "[/i]" in out
    Store(store.path).drop("odd")


def test_an_edited_classifier_head_is_refused(world, run_cli):
    tmp, _ = world
    head = tmp / "logreg-head"
    code, _, err = run_cli("train", "classifier", str(tmp / "labels.csv"), "-o", str(head), "-m", "wordllama", "--json")
    assert code == 0, err
    good = np.load(head / "coef.npy")
    cases = {
        "wrong shape": good[:, :10],
        "object array": None,
        "not finite": np.full_like(good, np.nan),
    }
    for problem, array in cases.items():
        if array is None:  # an object array: what np.save writes for ragged data, pickled
            np.save(head / "coef.npy", np.array([1, "x"], dtype=object), allow_pickle=True)
        else:
            np.save(head / "coef.npy", array)
        code, out, err = run_cli("predict", str(head), "a storm")
        assert code == 2, (problem, err)
        assert "damaged" in err and "Traceback" not in err, (problem, err)
    torch_head = tmp / "linear-head"
    code, _, err = run_cli(
        "train", "classifier", str(tmp / "labels.csv"), "-o", str(torch_head), "-m", "wordllama", "--head",
        "linear", "--epochs", "2", "--json",
    )  # fmt: skip
    assert code == 0, err
    (torch_head / "head.safetensors").write_bytes(b"garbage")
    code, _, err = run_cli("predict", str(torch_head), "a storm")
    assert code == 2 and "damaged" in err, err


def test_a_16_bit_greyscale_png_is_indexed(tmp_path):
    from PIL import Image

    from embedlab.io.images import image_facts, load_image

    pixels = (np.linspace(0, 65535, 700 * 640) % 65536).astype(np.uint16).reshape(640, 700)
    path = tmp_path / "scan.png"
    Image.fromarray(pixels).save(path)
    assert Image.open(path).mode == "I;16"
    facts = image_facts(path)
    assert (facts.width, facts.height) == (700, 640)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (700, 640)
    # the grey ramp survives the conversion: black at the top, near white at the bottom
    column = np.asarray(image)[:, 0, 0]
    assert column[0] == 0 and column[-1] > 240


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write read-only folders")
def test_a_read_only_output_folder_is_refused(world, run_cli, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, _, err = run_cli("evaluate", "docsim", "-m", "wordllama", "-o", str(locked / "r.md"))
        assert code == 2 and "not writable" in err
    finally:
        locked.chmod(0o755)
