"""Enrichment statistics: is a cluster or a chunk over-represented among the retrieved examples?

Raw hit counts favour big clusters (a cluster holding half the corpus gets half the hits by
chance). Enrichment compares each count with what a random draw of the same number of distinct
training examples would give, and says how surprising the excess is.

The test is a one-sided binomial tail: the retrieved examples are `n_drawn` distinct examples out
of `population`, `members[c]` of which carry feature c (a query attribute in cluster c, or
`source == c`), and p = P(X >= hits[c]) for X ~ Binomial(n_drawn, members[c] / population).
The exact model of a draw without replacement is hypergeometric; the binomial has the same mean
and a larger variance, so its upper-tail p-values are slightly conservative, and unlike SciPy's
hypergeometric (a Python-level loop, ~0.3 ms a cluster) it is a vectorised special function,
which matters with 25k clusters and a 1 s trace budget. Where p underflows double precision
(< 1e-308), `log_p` falls back to the log of the tail's first term, a close lower bound, so
extreme groups still rank by how extreme they are.

p-values are corrected over every group tested with Benjamini-Hochberg (false discovery rate):
with thousands of clusters Bonferroni would hide every real but moderate effect, and a trace
reports a ranking, not a single yes/no decision.

Groups are ranked by `lift_low`, the lift the data supports at the same level: the one-sided
Clopper-Pearson lower bound of the retrieved share over the group's corpus share. A lift measured
on a few hits is noisy, so a small group co-occurring with a big pattern (11 hits, lift 16.6) would
outrank the pattern itself (42 hits, lift 16.1) by its point estimate; by its lower bound (9.8
against 14.5, of 45 retrieved) it does not, while a large, clearly stronger lift still wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import beta, binom, false_discovery_control

ALPHA = 0.05  # false discovery rate under which an enrichment counts as significant


@dataclass(frozen=True)
class Enrichment:
    """Per-group statistics, aligned with the `members` array they were computed from."""

    hits: np.ndarray  # int64: retrieved examples carrying the feature
    expected: np.ndarray  # float64: n_drawn x members / population
    lift: np.ndarray  # float64: hits / expected (0 where expected is 0)
    lift_low: np.ndarray  # float64: one-sided (1 - ALPHA) lower confidence bound of the lift
    p_value: np.ndarray  # float64: P(X >= hits) under the binomial null
    log_p: np.ndarray  # float64: natural log of p_value, finite where p_value underflows
    p_adjusted: np.ndarray  # float64: Benjamini-Hochberg over all groups

    def order(self, alpha: float = ALPHA) -> np.ndarray:
        """Group indices, most enriched first: see `rank_keys`."""
        return np.lexsort(self.rank_keys(np.arange(self.hits.size), alpha))

    def rank_keys(self, groups: np.ndarray, alpha: float = ALPHA) -> tuple[np.ndarray, ...]:
        """np.lexsort keys (last = primary) ranking `groups` by enrichment.

        Significant groups (p_adjusted < alpha) first, then by the lift's lower bound, then by
        p-value: lift is the size of the effect, its lower bound the size the hits vouch for, and
        significance keeps a 2-of-2 fluke in a tiny group from outranking a 90-of-100 pattern.
        Among non-significant groups the same order applies.
        """
        return (-self.hits[groups], self.log_p[groups], -self.lift_low[groups], self.p_adjusted[groups] >= alpha)

    def row(self, index: int) -> dict[str, float | int]:
        """One group's statistics as JSON-ready numbers."""
        return {
            "hits": int(self.hits[index]),
            "expected": round(float(self.expected[index]), 4),
            "lift": round(float(self.lift[index]), 4),
            "lift_low": round(float(self.lift_low[index]), 4),
            "p_value": float(self.p_value[index]),
            "p_adjusted": float(self.p_adjusted[index]),
        }


def enrichment(hits: np.ndarray, members: np.ndarray, population: int, n_drawn: int) -> Enrichment:
    """Enrichment of `hits[c]` among `n_drawn` distinct examples of `population` (binomial tail)."""
    hits = np.asarray(hits, dtype=np.int64)
    members = np.asarray(members, dtype=np.int64)
    if hits.shape != members.shape:
        raise ValueError(f"hits {hits.shape} and members {members.shape} must align")
    if np.any(hits > members) or n_drawn > population or np.any(hits > n_drawn):
        raise ValueError("hits cannot exceed the group size or the number of examples drawn")
    expected = n_drawn * members / max(population, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(expected > 0, hits / np.where(expected > 0, expected, 1.0), 0.0)
    if hits.size == 0:
        empty = np.zeros(0)
        return Enrichment(hits, expected, lift, empty, empty, empty, empty)
    log_p = np.zeros(hits.shape)
    hit = hits > 0  # P(X >= 0) = 1
    if hit.any():
        share = members[hit] / max(population, 1)
        tail = binom.logsf(hits[hit] - 1, n_drawn, share)
        underflow = ~np.isfinite(tail)
        if underflow.any():
            tail[underflow] = binom.logpmf(hits[hit][underflow], n_drawn, share[underflow])
        log_p[hit] = np.minimum(np.nan_to_num(tail, nan=0.0, neginf=-1e300), 0.0)
    p_value = np.exp(log_p)
    p_adjusted = false_discovery_control(p_value, method="bh")
    return Enrichment(hits, expected, lift, lift_lower_bound(hits, expected, n_drawn), p_value, log_p,
                      np.minimum(p_adjusted, 1.0))


def lift_lower_bound(hits: np.ndarray, expected: np.ndarray, n_drawn: int, alpha: float = ALPHA) -> np.ndarray:
    """The one-sided Clopper-Pearson lower bound of hits / n_drawn, over the null share expected / n_drawn."""
    low = np.zeros(hits.shape)
    hit = (hits > 0) & (expected > 0)
    if hit.any():
        share = beta.ppf(alpha, hits[hit], n_drawn - hits[hit] + 1)
        low[hit] = share * n_drawn / expected[hit]
    return low
