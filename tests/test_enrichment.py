"""Enrichment statistics against exact reference values, and the ranking a trace relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from surfturf.turf.enrichment import enrichment


def test_expected_lift_and_binomial_tail_match_hand_values() -> None:
    # 1000 examples; groups of 100, 300 and 600 examples; 50 distinct examples drawn.
    stats = enrichment(np.array([25, 15, 10]), np.array([100, 300, 600]), population=1000, n_drawn=50)
    assert stats.expected.tolist() == pytest.approx([5.0, 15.0, 30.0])
    assert stats.lift.tolist() == pytest.approx([5.0, 1.0, 1 / 3])
    # P(X >= 25), X ~ Bin(50, 0.1), summed term by term
    exact = sum(math.comb(50, j) * 0.1**j * 0.9 ** (50 - j) for j in range(25, 51))
    assert stats.p_value[0] == pytest.approx(exact, rel=1e-9)
    assert stats.p_value[2] > 0.99  # depleted group: nothing surprising upwards


def test_benjamini_hochberg_over_all_groups() -> None:
    hits = np.array([30, 12, 9, 0, 0])
    members = np.array([100, 100, 100, 100, 600])
    stats = enrichment(hits, members, population=1000, n_drawn=60)
    raw = binom.sf(hits - 1, 60, members / 1000)
    order = np.argsort(raw)
    ranked = raw[order] * len(raw) / np.arange(1, len(raw) + 1)
    expected = np.minimum.accumulate(ranked[::-1])[::-1]
    assert stats.p_adjusted[order] == pytest.approx(np.minimum(expected, 1.0))
    assert np.all(stats.p_adjusted >= stats.p_value - 1e-15)


def test_order_prefers_surprise_over_raw_hits() -> None:
    # A huge group gets the most hits by chance; a small one is far more than expected.
    stats = enrichment(np.array([900, 80]), np.array([90_000, 1_000]), population=100_000, n_drawn=1000)
    assert stats.hits.argmax() == 0
    assert stats.order()[0] == 1 and stats.lift[1] == pytest.approx(8.0)


def test_underflowing_p_values_still_rank_by_extremity() -> None:
    stats = enrichment(np.array([700, 900]), np.array([2000, 2000]), population=100_000, n_drawn=1000)
    assert stats.p_value[0] == 0.0 and stats.p_value[1] == 0.0  # beyond double precision
    assert stats.log_p[1] < stats.log_p[0] < -700
    assert stats.order()[0] == 1


def test_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        enrichment(np.array([5]), np.array([3]), population=10, n_drawn=5)


def test_the_lower_bound_of_the_lift_ranks_a_broad_pattern_above_a_small_co_occurring_one() -> None:
    """11 hits at lift 16.6 against 42 at lift 16.1 (of 45 drawn): the point estimates put the small group
    first, the lift the hits vouch for puts the broad one first; a much stronger lift still wins."""
    population, drawn = 10_000, 45
    members = np.array([147, 578, 20])
    stats = enrichment(np.array([11, 42, 12]), members, population, drawn)
    assert stats.lift[0] > stats.lift[1] and stats.lift_low[1] > stats.lift_low[0]
    assert list(stats.order()) == [2, 1, 0]
    assert 0 < stats.lift_low[0] < stats.lift[0]
    assert stats.row(1)["lift_low"] == pytest.approx(float(stats.lift_low[1]), abs=1e-4)
