"""Differential TURF: what the target's training data (B's index) has near a failure's crux that the
baseline's data (A's index) lacks.

The crux is searched in both indexes with the same floors as a plain trace. A retrieved B example
is *B-only* when A's corpus holds no example with the same query and response text (whitespace and
case folded): an ablated or extended corpus shares every other row verbatim. The statistics are a
trace's: the B-only hits per chunk of B against the chunk's share of B's corpus (binomial tail, BH),
and the B-only hits overall against the share of B's corpus that A lacks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from surfturf.turf.attribution import collect
from surfturf.turf.corpus import CorpusView
from surfturf.turf.enrichment import enrichment

EXCERPT = 300


def _key(query: str | None, response: str | None) -> tuple[str, str]:
    return " ".join((query or "").lower().split()), " ".join((response or "").lower().split())


def example_keys(corpus: CorpusView, examples: np.ndarray | None = None) -> list[tuple[str, str]]:
    """The folded (query, response) text of every example (or of `examples`), what "the same row" means."""
    table = corpus.examples if examples is None else corpus.examples.take(examples)
    return [_key(q, r) for q, r in zip(table.column("query").to_pylist(), table.column("response").to_pylist())]


class BaselineCorpus:
    """A's corpus, as B's traces need it: its row texts (built once) and chunk sizes by name."""

    def __init__(self, corpus: CorpusView) -> None:
        self.corpus = corpus
        self.keys = set(example_keys(corpus))
        self.sizes = dict(zip(corpus.sources, corpus.source_sizes.tolist()))

    def lacks(self, corpus: CorpusView, examples: np.ndarray | None = None) -> np.ndarray:
        """Boolean mask: which of B's examples (all, or `examples`) A's corpus does not hold."""
        return np.array([key not in self.keys for key in example_keys(corpus, examples)], dtype=bool)


def _excerpt(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def contrast(target: CorpusView, target_response_example: np.ndarray, scores: np.ndarray, rows: np.ndarray,
             baseline: BaselineCorpus, baseline_response_example: np.ndarray, baseline_scores: np.ndarray,
             baseline_rows: np.ndarray, b_only_corpus: np.ndarray, n_evidence: int) -> dict[str, Any]:
    """The `baseline` block of a differential trace from both retrievals (rows < 0 already dropped by
    the trace's floors) and the mask of B's examples A lacks (`b_only_corpus`)."""
    kept_b = collect(scores, rows, target_response_example) if (rows >= 0).any() else None
    kept_a = collect(baseline_scores, baseline_rows, baseline_response_example) if (baseline_rows >= 0).any() else None
    retrieved = kept_b.examples if kept_b is not None else np.zeros(0, dtype=np.int64)
    n = int(retrieved.size)
    b_only = b_only_corpus[retrieved]
    overall = enrichment(np.array([int(b_only.sum())]), np.array([int(b_only_corpus.sum())]), target.n_examples, n)
    chunk_hits = np.bincount(target.source_codes[retrieved[b_only]], minlength=len(target.sources))
    chunks = enrichment(chunk_hits, target.source_sizes, target.n_examples, n)
    a_sources = baseline.corpus.source_codes[kept_a.examples] if kept_a is not None else np.zeros(0, dtype=np.int64)
    a_hits = dict(zip(baseline.corpus.sources, np.bincount(a_sources, minlength=len(baseline.corpus.sources)).tolist()))
    b_hits = np.bincount(target.source_codes[retrieved], minlength=len(target.sources))
    b_only_sizes = np.bincount(target.source_codes[b_only_corpus], minlength=len(target.sources))
    rows_out = []
    for index in chunks.order():
        name = target.sources[int(index)]
        rows_out.append({
            "source": name, **chunks.row(int(index)), "retrieved": int(b_hits[index]),
            "retrieved_baseline": int(a_hits.get(name, 0)), "size": int(target.source_sizes[index]),
            "size_baseline": int(baseline.sizes.get(name, 0)), "b_only_size": int(b_only_sizes[index]),
        })
    examples = []
    if kept_b is not None and b_only.any():
        order = np.argsort(-kept_b.similarity[b_only], kind="stable")[:n_evidence]
        picked = retrieved[b_only][order]
        for row, similarity in zip(target.examples.take(picked).to_pylist(), kept_b.similarity[b_only][order]):
            examples.append({"id": row["id"], "source": row["source"], "query": _excerpt(row["query"]),
                             "response": _excerpt(row["response"]), "similarity": round(float(similarity), 4)})
    block = {
        "n_retrieved": n, "n_retrieved_baseline": int(kept_a.examples.size) if kept_a is not None else 0,
        "b_only": {**overall.row(0), "corpus": int(b_only_corpus.sum())},
        "chunks": rows_out, "examples": examples,
    }
    block["sentence"] = contrast_sentence(block)
    return block


def contrast_sentence(block: dict[str, Any]) -> str:
    """One line: how many crux neighbours only B's data has, and the chunk they come from."""
    b_only, n = block["b_only"], block["n_retrieved"]
    if not n:
        return "no training example of the target's data is near the crux"
    if not b_only["hits"]:
        return (f"every one of the {n} retrieved training examples near the crux is also in the baseline's data "
                f"({block['n_retrieved_baseline']} retrieved there): the data does not explain the difference")
    text = (f"{b_only['hits']} of {n} training examples near the crux are in the target's data only "
            f"(expected {b_only['expected']:.1f}, lift {b_only['lift']:.1f}, p {b_only['p_value']:.2g}); "
            f"{block['n_retrieved_baseline']} are retrieved from the baseline's data")
    top = block["chunks"][0] if block["chunks"] else None
    if top and top["hits"]:
        text += (f"; most from chunk {top['source']} ({top['hits']} of its {top['retrieved']} retrieved, "
                 f"{top['b_only_size']} of its {top['size']} rows absent from the baseline's data, "
                 f"lift {top['lift']:.1f})")
    return text
