"""Conditional statistics: P(response feature | query feature) inside each chunk and outside it.

The paper's P("I hope it is correct" | "1.", "2.") = 93% is this number for one chunk. A
feature of the query is the conjunction of regular expressions over the query text and of
attribute clusters (the example has a query attribute in the cluster); the response feature is
a regular expression over the response text. Intervals are Wilson 95%.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from surfturf.errors import UserError
from surfturf.stats import wilson_interval
from surfturf.turf.corpus import CorpusView


@dataclass(frozen=True)
class QueryFeature:
    """All of these must hold: every regex matches the query, the example has every cluster."""

    regexes: tuple[str, ...] = ()
    clusters: tuple[int, ...] = ()
    labels: tuple[str, ...] = field(default=(), compare=False)  # readable names of the clusters

    def describe(self) -> str:
        parts = [f"query ~ /{regex}/" for regex in self.regexes]
        parts += [f"cluster {cluster}" + (f" ({label})" if label else "")
                  for cluster, label in zip(self.clusters, self.labels or ("",) * len(self.clusters))]
        return " and ".join(parts) or "any query"

    def mask(self, corpus: CorpusView) -> np.ndarray:
        mask = np.ones(corpus.n_examples, dtype=bool)
        for regex in self.regexes:
            mask &= corpus.matches("query", regex)
        for cluster in self.clusters:
            if not 0 <= cluster < corpus.n_clusters:
                raise UserError(f"cluster {cluster} does not exist", f"use a cluster id in 0..{corpus.n_clusters - 1}")
            mask &= corpus.cluster_mask(cluster)
        return mask


def _rate(hits: int, n: int) -> dict:
    low, high = wilson_interval(hits, n)
    return {"n": n, "hits": hits, "p": round(hits / n, 4) if n else None, "low": round(low, 4), "high": round(high, 4)}


def conditional_stats(corpus: CorpusView, query_feature: QueryFeature, response_regex: str) -> dict:
    """Rates of the response feature given the query feature, per chunk, outside it, and overall.

    Per chunk: `given` = P(response | query feature) in the chunk, `without` = P(response | not
    query feature) in the chunk (the chunk's background), `outside` = P(response | query feature)
    in all other chunks; `with_feature_share` = the chunk's share of all queries with the feature.
    """
    has_query = query_feature.mask(corpus)
    has_response = corpus.matches("response", response_regex)
    codes = corpus.source_codes
    n_sources = len(corpus.sources)
    given_n = np.bincount(codes[has_query], minlength=n_sources)
    given_hits = np.bincount(codes[has_query & has_response], minlength=n_sources)
    without_n = np.bincount(codes[~has_query], minlength=n_sources)
    without_hits = np.bincount(codes[~has_query & has_response], minlength=n_sources)
    total_n, total_hits = int(given_n.sum()), int(given_hits.sum())
    chunks = []
    for index in np.argsort(-given_n, kind="stable"):
        n, hits = int(given_n[index]), int(given_hits[index])
        chunks.append({
            "source": corpus.sources[index],
            "given": _rate(hits, n),
            "without": _rate(int(without_hits[index]), int(without_n[index])),
            "outside": _rate(total_hits - hits, total_n - n),
            "with_feature_share": round(n / total_n, 4) if total_n else 0.0,
        })
    return {
        "query_feature": query_feature.describe(),
        "response_feature": f"response ~ /{response_regex}/",
        "n_examples": corpus.n_examples,
        "overall": {"given": _rate(total_hits, total_n),
                    "without": _rate(int(without_hits.sum()), int(without_n.sum()))},
        "chunks": chunks,
    }
