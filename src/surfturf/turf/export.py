"""Exports of an index for SURF: our attribute pool, and the official SURF pseudo-SAE rows.

Pseudo-SAE JSONL (as read by the official SURF code's attribute loader): one row per training
example, `{"id", "prompt", "response", "source", "attributes": [its query attributes],
"sae_attributes": [the summary of each attribute's cluster], "normalized_weights": [per
attribute (d_max - d) / d_max, d the cosine distance to its centroid and d_max the largest in
that cluster: 1.0 at the centroid, 0.0 at the cluster's edge]}`. Both readers below accept
what the exporters write, so the formats round-trip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from surfturf.data.readers import iter_jsonl_objects
from surfturf.errors import UserError
from surfturf.io.files import write_jsonl_atomic
from surfturf.models.providers.base import normalise
from surfturf.turf import store
from surfturf.turf.store import Index

BLOCK_ROWS = 65536


def _write_jsonl(path: Path, records: Any) -> int:
    """Write records atomically; ASCII-escaped, so no line holds a raw U+2028 or U+0085 that
    `str.splitlines` readers would split."""
    return write_jsonl_atomic(path, records, ensure_ascii=True)


def pool_records(index: Index) -> list[dict[str, Any]]:
    """Each non-empty cluster's summary, weighted by its size (the INDEX/pool.jsonl lines)."""
    table = index.table(store.CLUSTERS, ["cluster", "size", "summary"]).to_pylist()
    return [{"attribute": row["summary"], "weight": int(row["size"]), "cluster": int(row["cluster"])}
            for row in table if row["size"] > 0 and row["summary"]]


def export_pool(index: Index, path: Path) -> int:
    return _write_jsonl(Path(path), pool_records(index))


def centroid_similarity(index: Index) -> np.ndarray:
    """Cosine of every distinct query text to its own cluster's centroid, in blocks over the memmap
    (a query attribute row's is its text's)."""
    vectors = index.query_embeddings
    centroids = index.centroids
    clusters = index.table(store.QUERY_TEXTS, ["cluster"]).column("cluster").to_numpy().astype(np.int64)
    out = np.empty(len(clusters), dtype=np.float32)
    for start in range(0, len(clusters), BLOCK_ROWS):
        block = normalise(vectors[start:start + BLOCK_ROWS])
        out[start:start + len(block)] = np.einsum("ij,ij->i", block, centroids[clusters[start:start + len(block)]])
    return out


DISTANCE_TOLERANCE = 1e-5  # cosine distances below this are float rounding: the text sits at its centroid


def normalized_weights(clusters: np.ndarray, similarity: np.ndarray, k: int) -> np.ndarray:
    """(d_max - d) / d_max per attribute, d = 1 - cosine, d_max the largest d in its cluster.

    A cluster whose members all sit at its centroid (one distinct text) weighs them 1.0, however
    the float rounding of its centroid falls.
    """
    distance = np.clip(1.0 - similarity.astype(np.float64), 0.0, None)
    distance[distance < DISTANCE_TOLERANCE] = 0.0
    d_max = np.zeros(k, dtype=np.float64)
    np.maximum.at(d_max, clusters, distance)
    top = d_max[clusters]
    weights = np.where(top > 0, (top - distance) / np.where(top > 0, top, 1.0), 1.0)
    return np.clip(weights, 0.0, 1.0)


def sae_records(index: Index) -> Any:
    """Pseudo-SAE rows, one per example with at least one query attribute, in example order."""
    attributes = index.table(store.QUERY_ATTRIBUTES, ["example", "cluster"])
    examples = index.table(store.EXAMPLES, ["example", "id", "source", "query", "response"])
    clusters = attributes.column("cluster").to_numpy().astype(np.int64)
    weights = normalized_weights(clusters, centroid_similarity(index)[index.text_ids("query")], index.n_clusters)
    summaries = index.cluster_summaries
    owners = attributes.column("example").to_numpy()
    texts = index.attribute_texts("query").to_pylist()
    bounds = np.flatnonzero(np.diff(owners)) + 1
    starts = np.concatenate([[0], bounds]) if len(owners) else np.zeros(0, dtype=np.int64)
    ends = np.concatenate([bounds, [len(owners)]]) if len(owners) else np.zeros(0, dtype=np.int64)
    row_of = {int(e): i for i, e in enumerate(examples.column("example").to_numpy())}
    ids, sources = examples.column("id"), examples.column("source")
    queries, responses = examples.column("query"), examples.column("response")
    for start, end in zip(starts, ends):
        row = row_of[int(owners[start])]
        yield {
            "id": ids[row].as_py(), "prompt": queries[row].as_py(), "response": responses[row].as_py(),
            "source": sources[row].as_py(), "attributes": texts[start:end],
            "sae_attributes": [summaries[c] for c in clusters[start:end]],
            "normalized_weights": [round(float(w), 6) for w in weights[start:end]],
        }


def export_sae(index: Index, path: Path) -> int:
    return _write_jsonl(Path(path), sae_records(index))


def _read_jsonl(path: Path, required: tuple[str, ...], what: str) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} file {path} does not exist", "give the path of an exported JSONL file")
    records = []
    for number, record in iter_jsonl_objects(path, f"one {what} JSON object"):
        missing = [key for key in required if key not in record]
        if missing:
            raise UserError(f"{path} line {number} lacks {', '.join(missing)}",
                            f"a {what} line needs {', '.join(required)}")
        records.append(record)
    return records


def read_pool_jsonl(path: Path) -> list[dict[str, Any]]:
    """Pool lines `{"attribute", "weight", ...}` (our export or INDEX/pool.jsonl)."""
    return _read_jsonl(path, ("attribute", "weight"), "attribute pool")


def read_sae_jsonl(path: Path) -> list[dict[str, Any]]:
    """Pseudo-SAE rows; `normalized_weights` is optional, as in files the official code wrote by hand."""
    return _read_jsonl(path, ("sae_attributes",), "pseudo-SAE")


def pool_from_sae(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A weighted pool from pseudo-SAE rows: each distinct sae attribute, weighted by how many times it occurs."""
    counts: dict[str, int] = {}
    for record in records:
        for attribute in record["sae_attributes"]:
            counts[attribute] = counts.get(attribute, 0) + 1
    return [{"attribute": a, "weight": w} for a, w in sorted(counts.items(), key=lambda item: -item[1])]
