"""Offline extractor speed on sft-mix: the lexicon's first pass, extraction rows/s, and its share of a build.

Reads up to --rows rows of every sft-mix file, fits the query and response lexicons, extracts
every row's query and response attributes, then builds a heuristic/hash index of --build-rows
rows and reports what share of that build the extraction (fit included) is. The machine's load
average is printed with the figures: on a shared machine they fall with it. Last line JSON.

    .venv/bin/python bench/extract_speed.py [--data DIR] [--rows N] [--build-rows N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
from itertools import islice
from pathlib import Path

from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.testing.index import build_offline_index


def read_pairs(data: Path, rows: int) -> list[tuple[str, str]]:
    pairs = []
    for path in sorted(data.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in islice(handle, rows):
                messages = json.loads(line)["messages"]
                pairs.append((messages[0]["content"], messages[1]["content"]))
    return pairs


def build_seconds(data: Path, rows: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build_offline_index([str(data)], Path(tmp) / "INDEX", rows)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SURFTURF_SFT_MIX") or Path(__file__).resolve()
                                                           .parents[2] / "shared" / "data" / "sft-mix"),
                        help="the sft-mix folder (default: $SURFTURF_SFT_MIX, else ../shared/data/sft-mix)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows read from each file")
    parser.add_argument("--build-rows", type=int, default=400, help="rows per file in the timed build")
    args = parser.parse_args()
    pairs = read_pairs(args.data, args.rows)
    start = time.perf_counter()
    extractor = OfflineExtractor.fit(pairs)
    fit_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    for query, response in pairs:
        extractor.query(query)
        extractor.response(response)
    extract_s, extract_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    sample = read_pairs(args.data, args.build_rows)
    start = time.perf_counter()
    fitted = OfflineExtractor.fit(sample)
    for query, response in sample:
        fitted.query(query)
        fitted.response(response)
    sample_s = time.perf_counter() - start
    total_s = build_seconds(args.data, args.build_rows)
    result = {"rows": len(pairs), "fit_s": round(fit_s, 2), "extract_s": round(extract_s, 2),
              "rows_per_s": round(len(pairs) / extract_s), "rows_per_cpu_s": round(len(pairs) / extract_cpu_s), "rows_per_s_with_fit": round(len(pairs) / (fit_s + extract_s)),
              "response_descriptors": len(extractor.responses.words) + len(extractor.responses.phrases),
              "build_rows": len(sample), "build_s": round(total_s, 2),
              "extraction_share_of_build": round(sample_s / total_s, 3),
              "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    print(f"{result['rows']} rows: fit {fit_s:.1f}s, extraction {extract_s:.1f}s = {result['rows_per_s']} rows/s "
          f"({result['rows_per_cpu_s']} per CPU-second); "
          f"extraction is {result['extraction_share_of_build']:.0%} of a {len(sample)}-row build ({total_s:.1f}s); "
          f"load average {result['load_average_1m']} on {result['cpus']} CPUs")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
