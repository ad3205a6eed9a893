"""Spend recorded vs billed after SIGKILLs, and calls per distinct body when identical requests overlap.

A child process calls a loopback server (which counts every token it bills) through a session with a spend
ledger; it is SIGKILLed mid-run, three times, resuming on the same ledger. The ledger's sum is then compared
with the server's count: the difference is the calls in flight at each kill. Then 20 identical concurrent
calls, and 400 calls over 100 distinct bodies, are sent and the server's requests counted.

    .venv/bin/python bench/models_spend.py [--kills 3] [--run-s 1.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from surfturf.models import LEDGER_FILE, ModelSession
from surfturf.models.ledger import SpendLedger
from surfturf.testing.server import FakeLLMServer

CHILD = textwrap.dedent("""
    import asyncio, sys
    from surfturf.models import ModelSession
    async def main(url, ledger, tag):
        session = ModelSession(ledger=ledger, max_concurrency=8)
        model = session.model("target", "openai-compatible/t", base_url=url)
        async def worker(w):
            for i in range(10**6):
                await model.generate(f"{tag} worker {w} call {i}")
        print("ready", flush=True)
        await asyncio.gather(*(worker(w) for w in range(8)))
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
""")


class BillingServer(FakeLLMServer):
    """The scripted server, counting the tokens of every answer it sends (what a provider would bill)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.billed_tokens = 0
        self.billed_calls = 0
        self._bill_lock = threading.Lock()

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = super()._chat(body)
        with self._bill_lock:
            self.billed_tokens += answer["usage"]["total_tokens"]
            self.billed_calls += 1
        return answer


def kill_runs(server: BillingServer, directory: Path, kills: int, run_s: float) -> dict[str, Any]:
    ledger = directory / LEDGER_FILE
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for k in range(kills):
        child = subprocess.Popen([sys.executable, "-c", CHILD, server.base_url, str(ledger), f"run{k}"],
                                 stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout is not None
        child.stdout.readline()
        time.sleep(run_s)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    time.sleep(0.3)  # answers already on the wire are counted by the server before we read it
    recorded = SpendLedger(ledger)
    totals = recorded.totals()
    recorded.close()
    return {
        "kills": kills,
        "billed_calls": server.billed_calls, "recorded_calls": totals["calls"],
        "billed_tokens": server.billed_tokens,
        "recorded_tokens": totals["input_tokens"] + totals["output_tokens"],
        "recorded_share": round((totals["input_tokens"] + totals["output_tokens"]) / max(1, server.billed_tokens), 5),
        "lost_calls_per_kill": round((server.billed_calls - totals["calls"]) / kills, 2),
    }


async def overlap(server: BillingServer) -> dict[str, Any]:
    session = ModelSession(max_concurrency=32)
    model = session.model("judge", "openai-compatible/j", base_url=server.base_url)
    server.reset_counts()
    await asyncio.gather(*(model.generate("one identical body") for _ in range(20)))
    identical = server.requests
    server.reset_counts()
    await asyncio.gather(*(model.generate(f"body {i % 100}") for i in range(400)))
    mixed = server.requests
    await session.aclose()
    return {"identical_20_requests": identical, "calls_per_distinct_body_identical": identical / 1,
            "mixed_400_over_100_requests": mixed, "calls_per_distinct_body_mixed": mixed / 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--run-s", type=float, default=1.5)
    args = parser.parse_args()
    server = BillingServer(latency_ms=40.0, latency_sigma=0.5)
    with server.in_thread(), tempfile.TemporaryDirectory() as tmp:
        spend = kill_runs(server, Path(tmp), args.kills, args.run_s)
        server.set_latency(100.0)
        calls = asyncio.run(overlap(server))
    print(f"after {spend['kills']} SIGKILLs: ledger {spend['recorded_calls']} calls / {spend['recorded_tokens']} tokens, "
          f"server billed {spend['billed_calls']} calls / {spend['billed_tokens']} tokens "
          f"({spend['recorded_share']:.2%} recorded; {spend['lost_calls_per_kill']} calls in flight lost per kill)")
    print(f"20 identical concurrent calls: {calls['identical_20_requests']} request(s); "
          f"400 calls over 100 bodies: {calls['mixed_400_over_100_requests']} requests")
    print(json.dumps({"bench": "models_spend", **spend, **calls}))


if __name__ == "__main__":
    main()
