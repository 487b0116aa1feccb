"""The documents stay true: their examples run as written and print what they show (see tests/docs_check.py).

What runs where (each `embedlab` command starts a Python with torch, a few seconds on 2 cores):

- `make test` (CI): the checker's own tests, and the blocks of README.md not marked slow (about
  30 commands, 2-3 minutes on an idle 2-core machine);
- `make docs-check` (or EMBEDLAB_DOCS_CHECK=all for this file): every block of every document except
  those marked skip, the slow ones included (about 25 minutes).
"""

from __future__ import annotations

import os

import pytest

from tests.docs_check import ROOT, SETUP, clean_output, documents, line_matches, lines_match, parse, run_document

FULL = os.environ.get("EMBEDLAB_DOCS_CHECK") == "all"
IN_MAKE_TEST = ("README.md",)  # the front door; its images tour runs on a tiny random CLIP


def test_floats_within_tolerance_ids_and_integers_exact() -> None:
    assert line_matches("│ 1 │ 0.2918 │ great-wall │", "│ 1 │ 0.2925 │ great-wall  │")
    assert not line_matches("│ 1 │ 0.2918 │ great-wall │", "│ 1 │ 0.2990 │ great-wall │")
    assert not line_matches("│ 1 │ 0.2918 │ great-wall │", "│ 1 │ 0.2918 │ taj-mahal │")
    assert not line_matches("vocabulary 4,145 words", "vocabulary 4,146 words")
    assert line_matches("6 in the collection (4.5s)", "6 in the collection (12.0s)")
    assert line_matches("trained in 7.2 s (336,309 words/s).", "trained in 9.9 s (1,234 words/s).")


def test_ellipsis_stands_for_what_is_not_shown() -> None:
    shown = ["│ 1 │ 1.4995 │ sydney-opera │ The Sydney Opera House … │ …"]
    got = ["header", "│ 1 │ 1.4995 │ sydney-opera │ The Sydney Opera House is a centre. │ country=Australia │"]
    assert lines_match(shown, got) is None
    assert lines_match(shown, ["│ 1 │ 1.4995 │ liberty │ The Statue │ x │"]) is not None
    assert lines_match(["a", "...", "c"], ["a", "b", "b2", "c"]) is None
    assert lines_match(["a", "c"], ["a", "b", "c"]) is not None  # no ellipsis: line for line
    assert lines_match(["a"], ["a", "more"]) is not None
    assert lines_match(["c", "...", "a"], ["a", "b", "c"]) is not None  # order counts


def test_progress_bars_are_not_output() -> None:
    assert clean_output("indexing x:  50%|##  | 1/2\rindexing x: 100%|####| 2/2\nphotos: read 2 items\n") == [
        "photos: read 2 items"
    ]


def test_marks_and_blocks_are_read(tmp_path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "<!-- docs-check: skip (network) -->\n```console\n$ hf download x\n```\n\n"
        "```\n$ A=$(echo 1)\n$ echo $A \\\n   two\n1 two\n```\n\n  ```python\n  x = 1\n  ```\n",
        encoding="utf-8",
    )
    blocks = parse(doc)
    assert [(b.mark, b.reason, b.lang) for b in blocks] == [
        ("skip", "network", "console"),
        (None, "", ""),
        (None, "", "python"),
    ]
    assert [c.command for c in blocks[1].commands] == ["A=$(echo 1)", "echo $A  two"]
    assert blocks[1].commands[1].expected == ["1 two"]


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_document_examples_run_and_print_what_they_show(path) -> None:
    if not FULL and str(path.relative_to(ROOT)) not in IN_MAKE_TEST:
        pytest.skip("run by `make docs-check` (EMBEDLAB_DOCS_CHECK=all)")
    if not any(b.mark is None or (FULL and b.mark == "slow") for b in parse(path)):
        pytest.skip("no block to run here")
    failures = run_document(path, FULL, SETUP.get(str(path.relative_to(ROOT))), log=lambda _: None)
    assert not failures, "\n\n".join(map(str, failures))
