"""Model-layer throughput against the fake server in a separate process (so the client has its own core).

Drives ModelSession.generate with a concurrency bound and a read-write cache (every call a miss, every
answer committed), and prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from surfturf.models import ModelSession


async def drive(base_url: str, cache_dir: Path, concurrency: int, calls: int) -> dict[str, float]:
    async with ModelSession(cache_dir=cache_dir, max_concurrency=concurrency, timeout_s=30.0) as session:
        model = session.model("target", "openai-compatible/bench", base_url=base_url)
        warm = await asyncio.gather(*(model.generate(f"warm-up {i}") for i in range(concurrency)))
        started, cpu_started = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(model.generate(f"prompt {i}") for i in range(calls)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        errors = sum(1 for r in [*warm, *results] if r.error)
        summary = session.usage.summary()["total"]
    return {"elapsed_s": elapsed, "cpu_s": cpu, "errors": errors, "latency_p50_s": summary["latency_p50_s"],
            "latency_p95_s": summary["latency_p95_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--calls", type=int, default=None, help="default: enough for ~10 s at the ideal rate")
    args = parser.parse_args()
    ideal = args.concurrency / (args.latency_ms / 1000.0)
    calls = args.calls or max(args.concurrency * 4, min(int(ideal * 10), 20_000))
    server = subprocess.Popen(
        [sys.executable, "-m", "surfturf.testing.server", "--latency-ms", str(args.latency_ms)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        base_url = server.stdout.readline().strip()
        server_process = psutil.Process(server.pid)
        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as cache_dir:
            server_cpu = sum(server_process.cpu_times()[:2])
            measured = asyncio.run(drive(base_url, Path(cache_dir), args.concurrency, calls))
            server_cpu = sum(server_process.cpu_times()[:2]) - server_cpu
        server.stdin.write("counts\n")
        server.stdin.flush()
        counts = json.loads(server.stdout.readline())
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(10)
    rate = calls / measured["elapsed_s"]
    print(f"{calls} calls in {measured['elapsed_s']:.2f}s: {rate:.1f}/s of ideal {ideal:.1f}/s "
          f"({100 * rate / ideal:.1f}%), server max in flight {counts['max_in_flight']}", file=sys.stderr)
    print(json.dumps({
        "latency_ms": args.latency_ms, "concurrency": args.concurrency, "calls": calls,
        "calls_per_s": round(rate, 1), "ideal_calls_per_s": round(ideal, 1),
        "fraction_of_ideal": round(rate / ideal, 3), "errors": measured["errors"],
        "server_max_in_flight": counts["max_in_flight"], "latency_p50_s": measured["latency_p50_s"],
        "latency_p95_s": measured["latency_p95_s"],
        "client_cpu_ms_per_call": round(1000 * measured["cpu_s"] / calls, 3),
        "server_cpu_ms_per_call": round(1000 * server_cpu / (calls + args.concurrency), 3),
        "load_average_1m": round(load, 2),
    }))


if __name__ == "__main__":
    main()
