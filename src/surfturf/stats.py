"""Honest statistics for failure rates: Wilson intervals, exact McNemar and a paired bootstrap.

Rates from a few dozen samples are noisy; every rate this package reports carries an interval,
and every before/after comparison on the same prompts is tested as a paired design.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
from scipy.stats import binom, norm, wilcoxon


@dataclass(frozen=True)
class Rate:
    """A share of successes with its Wilson interval; `rate` is None when nothing was measured."""

    rate: float | None
    low: float
    high: float
    n: int
    k: int

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials (Wilson 1927; Newcombe 1998).

    Unlike the normal approximation it stays inside [0, 1] and is sensible at k = 0 or k = n.
    With n = 0 nothing is known and the interval is [0, 1].
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    z = float(norm.ppf(0.5 + confidence / 2))
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def rate(k: int, n: int, confidence: float = 0.95) -> Rate:
    """k of n as a `Rate` with its Wilson interval."""
    low, high = wilson_interval(k, n, confidence)
    return Rate(rate=(k / n if n else None), low=low, high=high, n=n, k=k)


def mcnemar_exact(before: Sequence[bool], after: Sequence[bool]) -> tuple[float, int, int]:
    """Exact (binomial) McNemar test on paired binary outcomes.

    Returns (two-sided p-value, b, c) with b = pairs true before and false after, c = the
    reverse. Only discordant pairs carry information; under no change b ~ Binomial(b + c, 1/2).
    """
    if len(before) != len(after):
        raise ValueError("paired outcomes need equal lengths")
    b = sum(1 for x, y in zip(before, after) if x and not y)
    c = sum(1 for x, y in zip(before, after) if y and not x)
    if b + c == 0:
        return 1.0, b, c
    p = 2.0 * float(binom.cdf(min(b, c), b + c, 0.5))
    return min(1.0, p), b, c


def wilcoxon_signed_rank(before: Sequence[float], after: Sequence[float]) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test for a paired continuous measure."""
    diffs = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    if not np.any(diffs != 0):
        return 1.0
    return float(wilcoxon(diffs, zero_method="wilcox").pvalue)


def paired_bootstrap(
    before: Sequence[float],
    after: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval of mean(after) - mean(before), resampling pairs.

    Resampling whole pairs keeps the correlation between the two conditions of one prompt,
    which is what makes the paired design tighter than two independent rates.
    Returns (difference, low, high); deterministic for a given seed.
    """
    x = np.asarray(before, dtype=float)
    y = np.asarray(after, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("paired outcomes need equal one-dimensional shapes")
    n = len(x)
    if n == 0:
        return 0.0, 0.0, 0.0
    diffs = y - x
    observed = float(diffs.mean())
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        means[start:stop] = diffs[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return observed, float(low), float(high)


def mcnemar_one_sided(b: int, c: int) -> float:
    """Exact one-sided McNemar p-value that the second condition's outcome is true more often:
    P(X >= c) for X ~ Binomial(b + c, 1/2), with b and c as `mcnemar_exact` returns them."""
    if b + c == 0:
        return 1.0
    return float(binom.sf(c - 1, b + c, 0.5))


def paired_rates(baseline: Sequence[bool], target: Sequence[bool], confidence: float = 0.95) -> dict[str, Any]:
    """Two failure rates measured on the same prompts and sample indexes (baseline A, target B).

    Each rate carries its Wilson interval, the difference B - A a paired bootstrap interval, and the
    exact McNemar test on the discordant pairs: `p` two-sided, `p_new` that B fails more often than
    A (a failure new in B), `p_fixed` the reverse (a failure B fixed)."""
    if len(baseline) != len(target):
        raise ValueError("paired outcomes need equal lengths")
    p, only_a, only_b = mcnemar_exact(baseline, target)
    difference, low, high = paired_bootstrap([float(x) for x in baseline], [float(y) for y in target],
                                             confidence=confidence)
    return {
        "n": len(target), "target": rate(sum(map(bool, target)), len(target), confidence).as_dict(),
        "baseline": rate(sum(map(bool, baseline)), len(baseline), confidence).as_dict(),
        "difference": difference, "low": low, "high": high,
        "only_target": only_b, "only_baseline": only_a,
        "p": p, "p_new": mcnemar_one_sided(only_a, only_b), "p_fixed": mcnemar_one_sided(only_b, only_a),
    }
