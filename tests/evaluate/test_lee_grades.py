"""Lee retrieval grades follow the documented rule (nearest point of the 1-5 scale, halves up), not round()."""

from __future__ import annotations

import math

import pytest

from embedlab.evaluate.retrieval import lee_grade, lee_retrieval


@pytest.mark.parametrize(
    ("rating", "grade"),
    [(0.6, 1), (0.65, 1), (0.69, 1), (0.7, 2), (0.8, 2), (0.89, 2), (0.9, 3), (0.95, 3), (1.0, 3)],
)
def test_grade_rule(rating, grade):
    assert lee_grade(rating) == grade


def test_python_round_would_differ_on_halves():
    assert int(round(0.9 * 5)) - 2 == 2  # round-half-to-even: the old, undocumented result
    assert lee_grade(0.9) == 3


def test_bundled_qrels_use_the_rule():
    from embedlab.evaluate.lee import lee_corpus

    lee = lee_corpus()
    data = lee_retrieval()
    checked = 0
    for i in range(len(lee.documents)):
        for j in range(len(lee.documents)):
            rating = float(lee.ratings[i, j])
            if i != j and rating >= 0.6 - 1e-9:
                expected = math.floor(rating * 5 + 0.5 + 1e-9) - 2
                assert data.qrels[f"lee-{i + 1}"][f"lee-{j + 1}"] == expected
                checked += 1
    assert checked == sum(len(q) for q in data.qrels.values()) == 168
