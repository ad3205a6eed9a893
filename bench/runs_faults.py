"""Benchmark: a small `surf run` sweep against a loopback server that fails 20% of requests (HTTP
500, malformed bodies, 504 after a hang), SIGKILLed twice mid-sweep and then rerun until it ends.
Prints the completion rate (scored candidates / planned) after the resumes and the spend the run
directory recorded against what the server billed (tokens it answered); the last line is JSON.

    python bench/runs_faults.py [--fault-rate 0.2] [--kinds 500,malformed,hang] [--candidates 20] [--iterations 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from surfturf.testing.server import Fault, FakeLLMServer

POOL = [f"The query is about topic {i}." for i in range(12)] + ["The query uses formal vocabulary."]


class FaultyServer(FakeLLMServer):
    """Fails a random share of requests and counts the tokens of every answer it serves (the bill)."""

    def __init__(self, rate: float, kinds: list[str], seed: int) -> None:
        super().__init__(self.answer, hang_s=0.3, seed=seed)
        self.rate = rate
        self.kinds = kinds
        self.faults = random.Random(seed)
        self.billed_tokens = 0
        self.billed_calls = 0
        self.count_lock = threading.Lock()

    def _next_fault(self) -> Fault | None:
        if self.faults.random() < self.rate:
            return Fault(self.faults.choice(self.kinds))
        return None

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = super()._chat(body)
        with self.count_lock:
            self.billed_calls += 1
            self.billed_tokens += reply["usage"]["total_tokens"]
        return reply

    @staticmethod
    def answer(messages: list[dict[str, Any]], model: str) -> str:
        text = messages[-1]["content"]
        if model == "generator":
            return "<query>" + " ".join(" ".join(a.split()[::-1]) for a in re.findall(r"^- (.*)$", text, re.M)) + "?</query>"
        if model == "target":
            return "def f(): pass" if "formal" in text else "Plain prose."
        return "<reason>r</reason><score>80</score>" if "def f" in text else "<reason>r</reason><score>10</score>"


def command(server: FakeLLMServer, work: Path, args: argparse.Namespace) -> list[str]:
    roles = []
    for role in ("target", "generator", "judge"):
        roles += [f"--{role}", f"openai-compatible/{role}", f"--{role}-base-url", server.base_url]
    return [sys.executable, "-m", "surfturf.cli.main", "surf", "run", "--rubric", "code", "--pool",
            str(work / "pool.txt"), "--out", str(work / "run"), *roles, "--runs", str(args.runs),
            "--iterations", str(args.iterations), "--candidates", str(args.candidates), "--max-k", "2",
            "--patience", "0", "--timeout", "2", "--cache-dir", str(work / "cache"), "--max-concurrency", "8"]


def rows(work: Path) -> dict[str, dict[str, Any]]:
    path = work / "run" / "candidates.jsonl"
    found: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            found[row["id"]] = row
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--kinds", default="500,malformed,hang", help="Fault kinds, comma-separated.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    planned = args.runs * args.iterations * args.candidates
    with tempfile.TemporaryDirectory() as tmp, FaultyServer(args.fault_rate, args.kinds.split(","), args.seed).in_thread() as server:
        work = Path(tmp)
        (work / "pool.txt").write_text("\n".join(POOL) + "\n")
        cmd = command(server, work, args)
        env = dict(os.environ)
        kills = 0
        for share in (0.25, 0.5):  # kill once a quarter, then half, of the candidates are on disk
            process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            while process.poll() is None and len(rows(work)) < share * planned:
                time.sleep(0.02)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
        statuses = []
        for _ in range(4):  # resumes: each redoes the transient failures left (bounded attempts)
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            summary = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
            statuses.append(summary.get("status", f"exit {done.returncode}: {done.stderr.strip()[-200:]}"))
            if summary.get("status") == "complete" and summary.get("errors") == 0:
                break
        manifest = json.loads((work / "run" / "manifest.json").read_text())
        found = rows(work)
        scored = sum(1 for r in found.values() if r["score"] is not None)
        total = manifest["usage"]["total"]
        recorded = (total.get("input_tokens") or 0) + (total.get("output_tokens") or 0)
        result = {
            "bench": "runs_faults", "fault_rate": args.fault_rate, "kinds": args.kinds, "planned": planned, "kills": kills,
            "resumes": len(statuses), "statuses": statuses, "candidates": len(found), "scored": scored,
            "completion_rate": round(scored / planned, 4),
            "attempts_max": max((int(r.get("attempts", 1)) for r in found.values()), default=0),
            "billed_tokens": server.billed_tokens, "recorded_tokens": recorded,
            "recorded_over_billed": round(recorded / server.billed_tokens, 4) if server.billed_tokens else None,
            "billed_calls": server.billed_calls, "server_requests": server.requests,
        }
    print(f"completion {scored}/{planned} ({100 * result['completion_rate']:.1f}%) after {kills} kills and "
          f"{len(statuses)} resumes; spend recorded {recorded} tokens vs billed {server.billed_tokens}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
