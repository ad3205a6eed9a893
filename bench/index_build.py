"""Index build bench: N rows drawn from sft-mix (ids varied so every row is distinct), end to end.

Prints rows/s, peak RSS and disk of the finished INDEX (with the distinct attribute texts, which
the embeddings and FAISS file grow with), each stage's share of the time, and the offline
extractor's share (measured on a sample of rows, as that extractor is being replaced). With
`--engine ray` the shard map runs on a local Ray started before the clock (as a cluster is
already up when a build joins it; its start is reported as `ray_start_s`), and RSS and CPU
seconds are the driver's. Last line: one JSON object.

    python bench/index_build.py --rows 100000 [--engine ray]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
from itertools import islice
from pathlib import Path

from surfturf.attributes.extract import heuristic_extract
from surfturf.data import CorpusStats, read_corpus, resolve_inputs
from surfturf.models import ModelSession
from surfturf.turf.build import BuildConfig, IndexBuilder

# $SURFTURF_SFT_MIX (as the tests read it), else ../shared beside the checkout
SFT_MIX = Path(os.environ.get("SURFTURF_SFT_MIX") or Path(__file__).resolve().parents[2] / "shared" / "data" / "sft-mix")
SHARE_SAMPLE = 2000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s() -> float:
    """CPU seconds of this process and its waited-for children (Ray workers are not counted)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def write_corpus(path: Path, n: int) -> None:
    """n rows cycling over sft-mix, each id suffixed with its draw number (streamed, not held in memory)."""
    number = 0
    with open(path, "w", encoding="utf-8") as handle:
        while number < n:
            for row in islice(read_corpus(resolve_inputs([str(SFT_MIX)]), CorpusStats(), None), n - number):
                handle.write(json.dumps({"id": f"{row.id}-{number}", "source": row.source, "messages": [
                    {"role": "user", "content": row.query}, {"role": "assistant", "content": row.response}]}) + "\n")
                number += 1


def extractor_seconds_per_row(path: Path) -> float:
    rows = list(islice(read_corpus(resolve_inputs([str(path)]), CorpusStats(), None), SHARE_SAMPLE))
    started = time.perf_counter()
    for row in rows:
        heuristic_extract(row.query, "query")
        heuristic_extract(row.response, "response")
    return (time.perf_counter() - started) / max(1, len(rows))


async def build(corpus: Path, out: Path, engine_name: str, shard_rows: int) -> dict:
    session = ModelSession(cache_dir=None, cache_mode="off")
    config = BuildConfig(embedder="hash/384", shard_rows=shard_rows)
    engine = None
    if engine_name == "ray":
        from surfturf.turf.engine_ray import RayEngine

        engine = RayEngine(_HashModels(), config.dtype)
    builder = IndexBuilder(resolve_inputs([str(corpus)]), out, config, session, None,
                           session.model("embedder", config.embedder), engine=engine)
    try:
        return await builder.run()
    finally:
        await session.aclose()


class _HashModels:
    """Worker models for the Ray engine: the offline extractor and the hash embedder."""

    def __call__(self) -> tuple:
        session = ModelSession(cache_dir=None, cache_mode="off")
        return session, None, session.model("embedder", "hash/384")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--engine", choices=["in-process", "ray"], default="in-process")
    parser.add_argument("--shard-rows", type=int, default=4096)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="index-build-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        write_corpus(corpus, args.rows)
        per_row = extractor_seconds_per_row(corpus)
        ray_start = time.perf_counter()
        if args.engine == "ray":
            from surfturf.turf.engine_ray import connect

            connect(None)
        ray_start_s = time.perf_counter() - ray_start
        started, cpu0 = time.perf_counter(), cpu_s()
        manifest = asyncio.run(build(corpus, Path(tmp) / "INDEX", args.engine, args.shard_rows))
        wall, cpu = time.perf_counter() - started, cpu_s() - cpu0
        disk = disk_mb(Path(tmp) / "INDEX")
    rate = args.rows / wall
    share = min(1.0, per_row * args.rows / wall)
    print(f"{args.rows:,} rows ({args.engine}): {wall:.1f} s, {rate:,.0f} rows/s, peak RSS {peak_rss_mb():,.0f} MB, "
          f"disk {disk:,.1f} MB, {cpu:,.1f} CPU s (driver); offline extractor {per_row * 1e3:.2f} ms/row (~{share:.0%} of the time)")
    counts, timings = manifest["counts"], manifest["timings_s"]
    shares = {stage: round(seconds / wall, 3) for stage, seconds in timings.items()}
    print(f"stages (s): {timings}; share of the wall time: {shares}")
    print(f"counts: {counts['query_attributes']:,} query attributes ({counts['query_texts']:,} distinct texts), "
          f"{counts['response_attributes']:,} response attributes ({counts['response_texts']:,} distinct)")
    print(json.dumps({"rows": args.rows, "engine": args.engine, "rows_per_s": round(rate, 1),
                      "peak_rss_mb": round(peak_rss_mb(), 1), "disk_mb": round(disk, 1), "cpu_s": round(cpu, 1),
                      "wall_s": round(wall, 1), "ray_start_s": round(ray_start_s, 1), "extractor_share": round(share, 3), "timings_s": timings,
                      "stage_shares": shares, "query_texts": counts["query_texts"],
                      "response_texts": counts["response_texts"]}))


if __name__ == "__main__":
    main()
