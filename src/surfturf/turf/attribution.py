"""From the crux retrievals to the trigger, the chunk and the evidence: the arithmetic of a trace.

Definitions (also in docs/CONTRACTS.md, "TURF trace API"):
- retrieved examples: the distinct training examples owning at least one of the top-k response
  attributes of any crux attribute (so at most n_crux x k of them); each keeps its best
  similarity and the crux that found it.
- hit count h(c): the number of retrieved examples with at least one query attribute in cluster
  c. An example counts once per cluster, however many of its attributes fall there and however
  many crux attributes retrieved it, so h(c) <= n_retrieved, as in the paper's "831 of 1000".
- expected(c) = n_retrieved x (examples with an attribute in c) / (examples in the corpus); the
  null share is the share of examples, not of attributes, because hits count examples.
- the trigger is the failing query's attribute whose cluster has the most hits (the paper);
  `trigger_by_enrichment` is the one whose cluster is most enriched: significant (BH-adjusted
  p < 0.05) first, then highest lower bound of the lift, then smallest p. Chunks are ranked the same way;
  `chunks[0]` is the top chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from surfturf.turf.corpus import CorpusView, sorted_unique
from surfturf.turf.enrichment import Enrichment, enrichment

TOP_HITS = 50
EXCERPT = 400


@dataclass(frozen=True)
class Retrieved:
    """Distinct retrieved examples as aligned arrays, sorted by example number."""

    examples: np.ndarray  # int64 example numbers, sorted ascending
    similarity: np.ndarray  # float32 best cosine to any crux attribute
    crux: np.ndarray  # int64 index of the crux attribute that gave the best similarity
    attribute: np.ndarray  # int64 response attribute row that gave the best similarity


def collect(scores: np.ndarray, rows: np.ndarray, response_example: np.ndarray) -> Retrieved:
    """Union of the crux retrievals (n_crux x k arrays; rows < 0 are empty slots) by example."""
    crux = np.repeat(np.arange(rows.shape[0]), rows.shape[1])
    rows = rows.reshape(-1).astype(np.int64)
    scores = scores.reshape(-1)
    keep = rows >= 0
    rows, scores, crux = rows[keep], scores[keep], crux[keep]
    examples = response_example[rows].astype(np.int64)
    order = np.lexsort((-scores, examples))  # by example, best similarity first
    examples, scores, crux, rows = examples[order], scores[order], crux[order], rows[order]
    first = np.ones(examples.size, dtype=bool)
    first[1:] = examples[1:] != examples[:-1]
    return Retrieved(examples[first], scores[first].astype(np.float32), crux[first], rows[first])


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Attribution:
    """Everything the trace reports about where the crux behaviour was learned."""

    n_retrieved: int
    hits: np.ndarray  # per cluster
    clusters: Enrichment
    chunks: Enrichment
    retrieved: Retrieved
    owner: np.ndarray  # (example, cluster) pairs of the retrieved examples
    owner_cluster: np.ndarray


def attribute(corpus: CorpusView, retrieved: Retrieved) -> Attribution:
    """Hit counts and enrichment per query cluster and per chunk for the retrieved examples."""
    owner, owner_cluster = corpus.clusters_of(retrieved.examples)
    hits = np.bincount(owner_cluster, minlength=corpus.n_clusters)
    n = int(retrieved.examples.size)
    clusters = enrichment(hits, corpus.cluster_members, corpus.n_examples, n)
    chunk_hits = np.bincount(corpus.source_codes[retrieved.examples], minlength=len(corpus.sources))
    chunks = enrichment(chunk_hits, corpus.source_sizes, corpus.n_examples, n)
    return Attribution(n, hits, clusters, chunks, retrieved, owner, owner_cluster)


def hits_by_crux(corpus: CorpusView, rows: np.ndarray, response_example: np.ndarray, cluster: int) -> list[int]:
    """Per crux attribute, its own retrieved examples with an attribute in `cluster` (the paper's
    "831 of 1000" is this number for one crux)."""
    counts = []
    for crux_rows in rows:
        examples = sorted_unique(response_example[crux_rows[crux_rows >= 0]])
        owner, owner_cluster = corpus.clusters_of(examples)
        counts.append(int(np.count_nonzero(owner_cluster == cluster)))
    return counts


def top_hits(attribution: Attribution, limit: int = TOP_HITS) -> dict[str, int]:
    """The `limit` clusters with the most hits, as {cluster id: hits} (JSON keys are strings)."""
    hits = attribution.hits
    order = np.argsort(-hits, kind="stable")[:limit]
    return {str(int(c)): int(hits[c]) for c in order if hits[c] > 0}


def chunk_rows(corpus: CorpusView, attribution: Attribution) -> list[dict]:
    """Per chunk: hits, share of retrieved, share of corpus, lift, p-values; most enriched first."""
    stats = attribution.chunks
    rows = []
    for index in stats.order():
        row = {"source": corpus.sources[index], **stats.row(int(index))}
        row["share"] = round(row["hits"] / max(attribution.n_retrieved, 1), 4)
        row["corpus_share"] = round(float(corpus.source_sizes[index]) / max(corpus.n_examples, 1), 4)
        rows.append(row)
    return rows


def pick_triggers(clusters: np.ndarray, attribution: Attribution) -> tuple[int, int]:
    """Indices (into the query attributes) of the trigger by raw hits and by enrichment.

    Ties on hits go to the better-enriched cluster; ties on enrichment to the earlier attribute.
    """
    stats = attribution.clusters
    enriched = np.lexsort(stats.rank_keys(clusters))
    rank = np.empty(clusters.size, dtype=np.int64)
    rank[enriched] = np.arange(clusters.size)
    by_hits = int(np.lexsort((rank, -stats.hits[clusters]))[0])
    return by_hits, int(enriched[0])


def evidence(corpus: CorpusView, attribution: Attribution, clusters: list[int], crux: list[str],
             response_attribute_text: pa.ChunkedArray, limit: int) -> list[dict]:
    """Retrieved examples with a query attribute in one of `clusters`, most similar first."""
    retrieved = attribution.retrieved
    inside = np.isin(attribution.owner_cluster, clusters)
    members = sorted_unique(attribution.owner[inside])
    positions = np.searchsorted(retrieved.examples, members)
    positions = positions[np.argsort(-retrieved.similarity[positions], kind="stable")][:limit]
    if positions.size == 0:
        return []
    examples = retrieved.examples[positions]
    table = corpus.examples.take(pa.array(examples))
    matched = response_attribute_text.take(pa.array(retrieved.attribute[positions])).to_pylist()
    in_cluster = {}
    for cluster in clusters:
        for example in attribution.owner[attribution.owner_cluster == cluster]:
            in_cluster.setdefault(int(example), int(cluster))
    items = []
    for row, example, position, attribute_text in zip(table.to_pylist(), examples, positions, matched):
        items.append({
            "id": row["id"], "example": int(example), "source": row["source"],
            "query": _excerpt(row["query"]), "response": _excerpt(row["response"]),
            "similarity": round(float(retrieved.similarity[position]), 4),
            "crux": crux[int(retrieved.crux[position])], "response_attribute": attribute_text,
            "cluster": in_cluster[int(example)],
        })
    return items
