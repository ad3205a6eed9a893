"""Benchmark: SURF loop throughput against a local server with lognormal latency.

A sweep of 5 runs x 120 candidates x 5 iterations (3 calls per candidate) runs against a
FakeLLMServer in a separate process whose latency is lognormal (median 300 ms). With every call
taking L seconds on average and C calls in flight, the ideal rate is C / L calls per second; a
loop with phase barriers waits for the slowest call of each phase and falls well short of it.
Prints calls/s and the fraction of ideal; the last line is one JSON object.

    python bench/surf_loop.py [--concurrency 32] [--latency-ms 300] [--sigma 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from surfturf.models import ModelSession
from surfturf.surf import RoleSpec, SurfConfig, run_surf
from surfturf.testing.server import FakeLLMServer


def responder(messages: list[dict[str, Any]], model: str) -> str:
    """A tiny world: queries name their attributes; formal queries get code; code scores high."""
    text = messages[-1]["content"]
    if model == "generator":
        attributes = re.findall(r"^- The query (.*)$", text, re.M)
        return "<query>" + "; ".join(attributes) + "</query>"
    if model == "target":
        return "```python\nprint(1)\n```" if "formal" in text else "A plain answer."
    return "<reason>r</reason><score>85</score>" if "```" in text else "<reason>r</reason><score>20</score>"


def serve(latency_ms: float, sigma: float) -> None:
    """The server process: print the base URL, serve until stdin closes."""

    async def main() -> None:
        server = await FakeLLMServer(responder, latency_ms=latency_ms, latency_sigma=sigma).start()
        print(server.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await server.stop()

    asyncio.run(main())


async def sweep(base_url: str, concurrency: int, runs: int, candidates: int, iterations: int) -> dict[str, Any]:
    role = lambda name: RoleSpec(spec=f"openai-compatible/{name}", base_url=base_url)  # noqa: E731
    config = SurfConfig(rubric="code", pool="builtin", target=role("target"), generator=role("generator"),
                        judges=[role("judge")], runs=runs, candidates=candidates, iterations=iterations, patience=0)
    with tempfile.TemporaryDirectory() as out:
        async with ModelSession(cache_dir=None, max_concurrency=concurrency, timeout_s=60) as session:
            started = time.perf_counter()
            summary = await run_surf(config, session, Path(out))
            elapsed = time.perf_counter() - started
            total = session.usage.summary()["total"]
    return {"elapsed_s": elapsed, "calls": total["calls"], "errors": summary.errors, "status": summary.status,
            "candidates": summary.candidates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight requests (the CLI default)")
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--sigma", type=float, default=0.5, help="log-space spread of the lognormal latency")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=120)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency_ms, args.sigma)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--latency-ms", str(args.latency_ms), "--sigma", str(args.sigma)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        result = asyncio.run(sweep(base_url, args.concurrency, args.runs, args.candidates, args.iterations))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)
    mean_latency = args.latency_ms / 1000.0 * math.exp(args.sigma**2 / 2)
    ideal = args.concurrency / mean_latency
    rate = result["calls"] / result["elapsed_s"]
    figures = {
        "bench": "surf_loop", "runs": args.runs, "candidates": args.candidates, "iterations": args.iterations,
        "concurrency": args.concurrency, "latency_median_ms": args.latency_ms, "latency_sigma": args.sigma,
        "calls": result["calls"], "errors": result["errors"], "status": result["status"],
        "elapsed_s": round(result["elapsed_s"], 2), "calls_per_s": round(rate, 2),
        "ideal_calls_per_s": round(ideal, 2), "fraction_of_ideal": round(rate / ideal, 3),
    }
    print(f"{result['calls']} calls in {result['elapsed_s']:.1f}s: {rate:.1f} calls/s, "
          f"ideal {ideal:.1f} at concurrency {args.concurrency} -> {rate / ideal:.0%}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
