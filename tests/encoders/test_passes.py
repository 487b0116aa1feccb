"""How a transformer cuts its sorted pieces into forward passes: on a CPU the cheapest cut by the cost model
(`plan_passes`, checked against every possible cut), on a GPU or with batch_size by rows; and the vectors do not
depend on the cut."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch

from embedlab.encoders.transformer import ATTENTION_TOKENS, MAX_ROWS, PASS_TOKENS, plan_passes


def cost(lengths: list[int], sizes: list[int], overhead: float) -> float:
    """The model written out: each pass costs overhead + rows x L x (1 + L / ATTENTION_TOKENS), L its longest."""
    total, at = 0.0, 0
    for rows in sizes:
        longest = max(lengths[at : at + rows])
        total += overhead + rows * longest * (1 + longest / ATTENTION_TOKENS)
        at += rows
    return total


def every_cut(n: int):
    """Every way to cut n sorted pieces into consecutive passes (2^(n-1) of them)."""
    for bars in itertools.product((False, True), repeat=n - 1):
        sizes, run = [], 1
        for bar in bars:
            if bar:
                sizes.append(run)
                run = 1
            else:
                run += 1
        yield [*sizes, run]


@pytest.mark.parametrize("seed", range(12))
def test_the_plan_is_the_cheapest_allowed_cut(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    lengths = sorted((int(x) for x in rng.integers(3, 300, n)), reverse=True)
    overhead = float(rng.choice([0.0, 12.0, 200.0]))
    budget = int(rng.choice([256, 1024, 100_000]))
    max_rows = int(rng.integers(1, 6))

    def allowed(sizes: list[int]) -> bool:
        at = 0
        for rows in sizes:
            if rows > max_rows or (rows > 1 and rows * lengths[at] > budget):
                return False
            at += rows
        return True

    plan = plan_passes(np.array(lengths), budget, max_rows, overhead)
    assert sum(plan) == n and allowed(plan)
    best = min(cost(lengths, sizes, overhead) for sizes in every_cut(n) if allowed(sizes))
    assert cost(lengths, plan, overhead) == pytest.approx(best, rel=1e-12)


def test_the_plan_trades_padding_against_passes():
    # one long piece and short ones: padding the short ones to 200 tokens costs more than a second pass
    assert plan_passes(np.array([200, 10, 10, 10, 10]), 100_000, 256, 12.0) == [1, 4]
    # equal lengths: nothing to pad, one pass (fixed cost once)
    assert plan_passes(np.array([30] * 8), 100_000, 256, 12.0) == [8]
    # no fixed cost: no pass pads anything (padding is the only cost)
    lengths = [40, 30, 30, 20, 20, 20]
    at = 0
    for rows in plan_passes(np.array(lengths), 100_000, 256, 0.0):
        assert len(set(lengths[at : at + rows])) == 1
        at += rows
    # the budget bounds rows x longest even when one pass would be cheaper
    assert plan_passes(np.array([30] * 8), 120, 256, 1000.0) == [4, 4]
    assert plan_passes(np.array([], dtype=np.int64), 2048, 256, 12.0) == []


def test_a_cpu_plans_passes_a_gpu_and_a_batch_size_fill_rows(minilm):
    lengths = np.array([5, 80, 7, 6, 90, 8, 5, 60])
    order = list(np.argsort(-lengths, kind="stable"))
    cpu = minilm.passes(lengths, None)
    assert [int(i) for rows in cpu for i in rows] == order  # longest first, every piece once
    sizes = plan_passes(lengths[order], minilm.batch_tokens, MAX_ROWS["cpu"], PASS_TOKENS["cpu"])
    assert [len(rows) for rows in cpu] == sizes
    assert [len(rows) for rows in minilm.passes(lengths, 3)] == [3, 3, 2]
    device = minilm.device
    try:
        minilm.device = torch.device("cuda")  # only its type is read: the GPU fills the token budget
        assert [len(rows) for rows in minilm.passes(lengths, None)] == [8]
    finally:
        minilm.device = device


def test_the_vectors_do_not_depend_on_the_cut(minilm, lee_records):
    sentences = [s for r in lee_records[:6] for s in re.split(r"(?<=[.!?])\s+", r.text) if len(s.split()) >= 3]
    alone = minilm.encode(sentences, batch_size=1)  # no padding at all
    planned = minilm.encode(sentences)
    assert len(minilm.passes(np.array(minilm.count_tokens(sentences)), None)) > 1
    np.testing.assert_allclose(planned, alone, atol=2e-5)
