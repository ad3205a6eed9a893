"""Latency of one TURF trace (LLM calls excluded) against a synthetic index with 1M response attributes.

The index is written directly in the store format (docs/CONTRACTS.md, INDEX directory, format 2):
random unit vectors (float16 memmaps, one per distinct text), random example and cluster
assignments, short random texts (nearly all distinct, so search scans about one vector per row). The
crux and query attributes are given, so the trace runs everything but the judges: embedding the
crux and query attributes with the index's embedder (hash/384), exact top-k search, cluster
assignment, hit counts, enrichment, chunks, evidence and rare-word keywords.

Reported: `context_s` (one-time per index: reading the columns a trace needs, the corpus
arrays, the keyword vocabulary, the groups of identical texts and, for float16 embeddings, their
float32 copy; shared by every trace of a run), `trace_s` (one trace on a ready context: the figure a
trace of one more finding costs), `cold_trace_s` (context plus first trace), and
`batch_trace_s_per_finding` (10 findings traced in one batch), and `search_s` (the exact top-k
search alone, 3 crux attributes, the bulk of a trace). Last line: one JSON object.

    .venv/bin/python bench/trace_latency.py [--n-response-attributes 1000000] [--dim 384] [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from surfturf.models import ModelSession
from surfturf.turf import store
from surfturf.turf.case import Case
from surfturf.turf.describe import AttributeSource
from surfturf.turf.context import TraceContext
from surfturf.turf.trace import TraceSettings, trace_cases

ATTRIBUTES_PER_EXAMPLE = 10
SOURCES = ("code", "math", "chat", "extract", "refuse")
WORDS = np.array([f"w{i}" for i in range(20_000)])
BLOCK = 131_072


def _unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    block = rng.standard_normal((n, dim), dtype=np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    return block


def _write_vectors(path: Path, n: int, dim: int, rng: np.random.Generator, dtype: str) -> None:
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, dim))
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        array[start:stop] = _unit_rows(rng, stop - start, dim)
    array.flush()
    del array


def _texts(rng: np.random.Generator, n: int, length: int, prefix: str = "") -> list[str]:
    picks = WORDS[rng.zipf(1.3, size=(n, length)) % len(WORDS)]
    return [prefix + " ".join(row) for row in picks]


def build_index(path: Path, n_response_attributes: int, dim: int, n_clusters: int, dtype: str, seed: int = 0) -> None:
    """A complete INDEX directory of random data in the store's own file layout."""
    rng = np.random.default_rng(seed)
    n_examples = n_response_attributes // ATTRIBUTES_PER_EXAMPLE
    n_query = n_examples * ATTRIBUTES_PER_EXAMPLE
    (path / "embeddings").mkdir(parents=True, exist_ok=True)
    examples = np.arange(n_examples)
    pq.write_table(pa.table({
        "example": examples, "id": [f"ex-{i}" for i in examples],
        "source": pa.array(np.array(SOURCES)[rng.integers(0, len(SOURCES), n_examples)]),
        "query": _texts(rng, n_examples, 12), "response": _texts(rng, n_examples, 24),
    }), path / store.EXAMPLES)
    owner = np.repeat(examples, ATTRIBUTES_PER_EXAMPLE)
    position = np.tile(np.arange(ATTRIBUTES_PER_EXAMPLE), n_examples)
    query_ids, query_texts = _distinct(_texts(rng, n_query, 5, "The query "))
    text_clusters = rng.integers(0, n_clusters, len(query_texts)).astype(np.int32)
    pq.write_table(pa.table({
        "attribute": np.arange(n_query), "example": owner, "position": position, "text_id": query_ids,
        "cluster": text_clusters[query_ids],
    }), path / store.QUERY_ATTRIBUTES)
    response_ids, response_texts = _distinct(_texts(rng, n_response_attributes, 5, "The response "))
    pq.write_table(pa.table({
        "attribute": np.arange(n_response_attributes), "example": owner[:n_response_attributes],
        "position": position[:n_response_attributes], "text_id": response_ids,
    }), path / store.RESPONSE_ATTRIBUTES)
    pq.write_table(pa.table({"text_id": np.arange(len(query_texts)), "text": query_texts,
                             "count": np.bincount(query_ids), "cluster": text_clusters}), path / store.QUERY_TEXTS)
    pq.write_table(pa.table({"text_id": np.arange(len(response_texts)), "text": response_texts,
                             "count": np.bincount(response_ids)}), path / store.RESPONSE_TEXTS)
    pq.write_table(pa.table({
        "cluster": np.arange(n_clusters, dtype=np.int32), "size": np.full(n_clusters, n_query // n_clusters),
        "summary": _texts(rng, n_clusters, 5, "The query "), "central": [[] for _ in range(n_clusters)],
    }), path / store.CLUSTERS)
    _write_vectors(path / store.RESPONSE_EMBEDDINGS, len(response_texts), dim, rng, dtype)
    _write_vectors(path / store.QUERY_EMBEDDINGS, len(query_texts), dim, rng, dtype)
    np.save(path / store.CENTROIDS, _unit_rows(rng, n_clusters, dim), allow_pickle=False)
    manifest = {
        "command": "bench/trace_latency.py", "version": "bench", "format": store.INDEX_FORMAT, "created": "",
        "config": {"synthetic": True},
        "seeds": {"data": seed}, "models": {"extractor": "heuristic", "embedder": f"hash/{dim}", "summariser": "central-attribute"},
        "inputs": {}, "embeddings": {"dim": dim, "dtype": dtype},
        "counts": {"examples": n_examples, "query_attributes": n_query, "response_attributes": n_response_attributes,
                   "multi_turn": 0, "extraction_errors": 0, "sources": {}, "empty_clusters": 0,
                   "query_texts": len(query_texts), "response_texts": len(response_texts),
                   "clusters": n_clusters},
        "usage": {}, "status": "complete",
    }
    (path / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _distinct(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each row's text id and the distinct texts, in order of first appearance (the store's format 2)."""
    encoded = pc.dictionary_encode(pa.array(texts))
    return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary.to_pylist()


def _case(number: int, rng: np.random.Generator) -> Case:
    query = " ".join(WORDS[rng.integers(0, len(WORDS), 15)])
    return Case(finding=f"bench-{number}", query=query, response="synthetic", rubric="code",
                rubric_title="Unwarranted code", crux=[f"The response shows trait {number}-{i}" for i in range(3)],
                blind_attributes=[f"The response shows trait {number}-{i}" for i in range(10)],
                query_attributes=[f"The query has property {number}-{i}" for i in range(10)])


async def _trace(context: TraceContext, cases: list[Case], session: ModelSession, k: int) -> list[dict]:
    return await trace_cases(cases, context, blind=AttributeSource(None), settings=TraceSettings(k=k), session=session)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-response-attributes", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--clusters", type=int, default=4096)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--dtype", choices=("float16", "float32"), default="float16",
                        help="Stored embedding type (the index builder writes either).")
    parser.add_argument("--dir", type=Path, default=None, help="Keep (or reuse) the synthetic index here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trace-bench-") as scratch:
        path = args.dir or Path(scratch) / "index"
        started = time.perf_counter()
        if not (path / store.MANIFEST).is_file():
            build_index(path, args.n_response_attributes, args.dim, args.clusters, args.dtype)
        build_s = time.perf_counter() - started
        rng = np.random.default_rng(1)
        session = ModelSession(cache_dir=None, cache_mode="off")

        started = time.perf_counter()
        context = TraceContext(store.Index.open(path))
        _ = context.corpus.cluster_members, context.corpus.source_sizes, context.vocabulary, context.text_groups, context.float32_responses
        context_s = time.perf_counter() - started
        first = asyncio.run(_trace(context, [_case(0, rng)], session, args.k))[0]
        cold_s = time.perf_counter() - started

        timings = []
        for number in range(1, 4):
            started = time.perf_counter()
            record = asyncio.run(_trace(context, [_case(number, rng)], session, args.k))[0]
            timings.append(time.perf_counter() - started)
        crux = _case(99, rng).crux
        vectors = asyncio.run(context.embed(crux, session))
        started = time.perf_counter()
        context.search(vectors, crux, args.k)
        search_s = time.perf_counter() - started
        started = time.perf_counter()
        batch = asyncio.run(_trace(context, [_case(10 + n, rng) for n in range(10)], session, args.k))
        batch_s = (time.perf_counter() - started) / len(batch)
    assert first["error"] is None and record["error"] is None and first["n_retrieved"] > 0
    print(f"index build {build_s:.1f}s; context {context_s:.3f}s; cold trace {cold_s:.3f}s; "
          f"trace {min(timings):.3f}s (median {float(np.median(timings)):.3f}s, of which the exact search of 3 crux "
          f"attributes {search_s:.3f}s); batch {batch_s:.3f}s per finding")
    print(json.dumps({
        "n_response_attributes": args.n_response_attributes, "dim": args.dim, "dtype": args.dtype, "clusters": args.clusters, "k": args.k,
        "trace_s": round(float(np.median(timings)), 4), "trace_s_min": round(min(timings), 4),
        "search_s": round(search_s, 4), "context_s": round(context_s, 4), "cold_trace_s": round(cold_s, 4),
        "batch_trace_s_per_finding": round(batch_s, 4), "n_retrieved": record["n_retrieved"],
    }))


if __name__ == "__main__":
    main()
