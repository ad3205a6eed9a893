"""Intervals and paired tests against published or hand-computed reference values."""

from __future__ import annotations

import math

import pytest

from surfturf.stats import mcnemar_exact, paired_bootstrap, rate, wilcoxon_signed_rank, wilson_interval


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [  # Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe(k: int, n: int, low: float, high: float) -> None:
    got_low, got_high = wilson_interval(k, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_edges_and_width() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(29, 29)[1] == 1.0
    assert wilson_interval(29, 29)[0] == pytest.approx(0.8830, abs=5e-5)
    narrow = wilson_interval(500, 1000)
    wide = wilson_interval(5, 10)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    assert wilson_interval(5, 10, confidence=0.99)[1] > wide[1]
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_rate_record() -> None:
    r = rate(8, 10)
    assert r.rate == 0.8 and r.n == 10 and r.k == 8
    assert (round(r.low, 4), round(r.high, 4)) == (0.4902, 0.9433)
    assert rate(0, 0).rate is None


def test_mcnemar_exact_by_hand() -> None:
    # b = 1, c = 9: p = 2 * (C(10,0) + C(10,1)) / 2**10 = 22 / 1024
    before = [True] + [False] * 9 + [True] * 5
    after = [False] + [True] * 9 + [True] * 5  # five concordant pairs carry no information
    p, b, c = mcnemar_exact(before, after)
    assert (b, c) == (1, 9)
    assert p == pytest.approx(22 / 1024)
    assert mcnemar_exact([True, False], [True, False])[0] == 1.0
    assert mcnemar_exact([True] * 3, [False] * 3)[0] == pytest.approx(0.25)  # 2 * 1/8


def test_paired_bootstrap_properties() -> None:
    diff, low, high = paired_bootstrap([0, 0, 0, 0], [1, 1, 1, 1])
    assert (diff, low, high) == (1.0, 1.0, 1.0)
    before = [0, 0, 1, 0, 1, 0, 0, 1] * 5
    after = [1, 1, 1, 0, 1, 1, 0, 1] * 5
    first = paired_bootstrap(before, after, seed=3)
    assert first == paired_bootstrap(before, after, seed=3)
    assert first[0] == pytest.approx(0.375)
    assert 0.0 < first[1] < 0.375 < first[2] <= 0.6
    assert paired_bootstrap([], []) == (0.0, 0.0, 0.0)


def test_wilcoxon_no_change_and_shift() -> None:
    assert wilcoxon_signed_rank([1, 2, 3], [1, 2, 3]) == 1.0
    before = list(range(20))
    after = [x + 5 + (i % 3) for i, x in enumerate(before)]
    assert wilcoxon_signed_rank(before, after) < 0.001
    assert not math.isnan(wilcoxon_signed_rank(before, after))
