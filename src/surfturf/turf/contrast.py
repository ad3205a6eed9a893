"""Differential TURF: what the failing model's training data has near a failure's crux that the other
model's data lacks.

A failure new in the target B is traced in B's index against A's; one fixed in B (A fails, B does not)
is A's failure, traced in A's index against B's: the failure A learned and B unlearned
(turf/contrast_run.py). Below, "traced" is the failing side and "other" the compared one.

The crux is searched in both indexes with the same floors as a plain trace. A retrieved traced
example is *traced-only* (`only`) when the other corpus holds no example with the same query and
response text (whitespace and case folded): an ablated or extended corpus shares every other row
verbatim. The statistics are a trace's: the traced-only hits per chunk of the traced corpus against
the chunk's share of it (binomial tail, BH), and the traced-only hits overall against the share of
the traced corpus the other lacks.
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
    """The other model's corpus, as the traces need it: its row texts (built once) and chunk sizes by name."""

    def __init__(self, corpus: CorpusView) -> None:
        self.corpus = corpus
        self.keys = set(example_keys(corpus))
        self.sizes = dict(zip(corpus.sources, corpus.source_sizes.tolist()))

    def lacks(self, corpus: CorpusView, examples: np.ndarray | None = None) -> np.ndarray:
        """Boolean mask: which of the traced corpus's examples (all, or `examples`) this corpus does not hold."""
        return np.array([key not in self.keys for key in example_keys(corpus, examples)], dtype=bool)


def _excerpt(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def contrast(traced: CorpusView, traced_response_example: np.ndarray, scores: np.ndarray, rows: np.ndarray,
             other: BaselineCorpus, other_response_example: np.ndarray, other_scores: np.ndarray,
             other_rows: np.ndarray, only_corpus: np.ndarray, n_evidence: int) -> dict[str, Any]:
    """The `baseline` block of a differential trace from both retrievals (rows < 0 already dropped by
    the trace's floors) and the mask of the traced examples the other corpus lacks (`only_corpus`).
    Its sentence speaks of the target's data; `orient` rewords it for a failure traced in the baseline's."""
    kept = collect(scores, rows, traced_response_example) if (rows >= 0).any() else None
    kept_other = collect(other_scores, other_rows, other_response_example) if (other_rows >= 0).any() else None
    retrieved = kept.examples if kept is not None else np.zeros(0, dtype=np.int64)
    n = int(retrieved.size)
    only = only_corpus[retrieved]
    overall = enrichment(np.array([int(only.sum())]), np.array([int(only_corpus.sum())]), traced.n_examples, n)
    chunk_hits = np.bincount(traced.source_codes[retrieved[only]], minlength=len(traced.sources))
    chunks = enrichment(chunk_hits, traced.source_sizes, traced.n_examples, n)
    other_sources = other.corpus.source_codes[kept_other.examples] if kept_other is not None \
        else np.zeros(0, dtype=np.int64)
    other_hits = dict(zip(other.corpus.sources,
                          np.bincount(other_sources, minlength=len(other.corpus.sources)).tolist()))
    hits = np.bincount(traced.source_codes[retrieved], minlength=len(traced.sources))
    only_sizes = np.bincount(traced.source_codes[only_corpus], minlength=len(traced.sources))
    rows_out = []
    for index in chunks.order():
        name = traced.sources[int(index)]
        rows_out.append({
            "source": name, **chunks.row(int(index)), "retrieved": int(hits[index]),
            "retrieved_other": int(other_hits.get(name, 0)), "size": int(traced.source_sizes[index]),
            "size_other": int(other.sizes.get(name, 0)), "only_size": int(only_sizes[index]),
        })
    examples = []
    if kept is not None and only.any():
        order = np.argsort(-kept.similarity[only], kind="stable")[:n_evidence]
        picked = retrieved[only][order]
        for row, similarity in zip(traced.examples.take(picked).to_pylist(), kept.similarity[only][order]):
            examples.append({"id": row["id"], "source": row["source"], "query": _excerpt(row["query"]),
                             "response": _excerpt(row["response"]), "similarity": round(float(similarity), 4)})
    block = {
        "n_retrieved": n,
        "n_retrieved_other": int(kept_other.examples.size) if kept_other is not None else 0,
        "only": {**overall.row(0), "corpus": int(only_corpus.sum())},
        "chunks": rows_out, "examples": examples,
    }
    block["sentence"] = contrast_sentence(block)
    return block


SIDES = ("target", "baseline")


def orient(block: dict[str, Any], traced: str) -> dict[str, Any]:
    """The block of a trace whose failing answer and data are `traced`'s (target or baseline)."""
    block["sentence"] = contrast_sentence(block, traced)
    return block


def contrast_sentence(block: dict[str, Any], traced: str = "target") -> str:
    """One line: how many crux neighbours only the traced model's data has, and the chunk they come from."""
    if traced not in SIDES:
        raise ValueError(f"traced is one of {SIDES}, not {traced!r}")
    only, n = block["only"], block["n_retrieved"]
    mine, other = traced, SIDES[1 - SIDES.index(traced)]
    if not n:
        return f"no training example of the {mine}'s data is near the crux"
    if not only["hits"]:
        return (f"every one of the {n} retrieved training examples near the crux is also in the {other}'s data "
                f"({block['n_retrieved_other']} retrieved there): the data does not explain the difference")
    text = (f"{only['hits']} of {n} training examples near the crux are in the {mine}'s data only "
            f"(expected {only['expected']:.1f}, lift {only['lift']:.1f}, p {only['p_value']:.2g}); "
            f"{block['n_retrieved_other']} are retrieved from the {other}'s data")
    top = block["chunks"][0] if block["chunks"] else None
    if top and top["hits"]:
        text += (f"; most from chunk {top['source']} ({top['hits']} of its {top['retrieved']} retrieved, "
                 f"{top['only_size']} of its {top['size']} rows absent from the {other}'s data, "
                 f"lift {top['lift']:.1f})")
    return text
