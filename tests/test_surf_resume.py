"""`surfturf surf run` as a real subprocess: SIGKILL it mid-run, rerun the same command, and the
run completes with no lost candidate, no duplicate line and no repeated paid request."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from surfturf.testing.server import FakeLLMServer

POOL = [f"The query mentions the word {word}." for word in
        "amber basalt cedar dune ember fjord glacier harbor iris jasper kelp lagoon meadow nectar".split()]


class LoggingWorld:
    """Scripted roles that log every request; generated queries carry a unique serial number, so
    any repeated target or judge request for a query is visible."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.serial = itertools.count()
        self.lock = threading.Lock()

    def __call__(self, messages: list[dict], model: str) -> str:
        text = messages[-1]["content"]
        with self.lock:
            self.log.append((model, text))
            number = next(self.serial)
        if model == "generator":
            words = re.findall(r"the word (\w+)", text)
            return f"<query>Tell me about {' and '.join(words)} (request {number})</query>"
        if model == "target":
            return "```python\nprint(1)\n```" if "amber" in text else "Plain words."
        return "<reason>r</reason><score>90</score>" if "```" in text else "<reason>r</reason><score>15</score>"


def command(url: str, pool: Path, out: Path, cache: Path) -> list[str]:
    return [
        sys.executable, "-m", "surfturf.cli.main", "surf", "run", "--rubric", "code", "--pool", str(pool),
        "--out", str(out), "--runs", "2", "--iterations", "3", "--candidates", "10", "--patience", "0",
        "--target", "openai-compatible/target", "--target-base-url", url,
        "--generator", "openai-compatible/generator", "--generator-base-url", url,
        "--judge", "openai-compatible/judge", "--judge-base-url", url,
        "--cache-dir", str(cache), "--max-concurrency", "4",
    ]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def paid_calls(manifest: Path) -> int:
    try:
        return int(json.loads(manifest.read_text())["usage"]["total"]["calls"])
    except (OSError, ValueError, KeyError):
        return 0


def test_sigkill_then_rerun_resumes_exactly(tmp_path: Path) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(POOL) + "\n")
    out, cache = tmp_path / "run", tmp_path / "cache"
    world = LoggingWorld()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with FakeLLMServer(world, latency_ms=25).in_thread() as server:
        args = command(server.base_url, pool, out, cache)
        first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        candidates = out / "candidates.jsonl"
        deadline = time.monotonic() + 60
        killed_usage = 0
        while time.monotonic() < deadline and first.poll() is None:
            # Kill once the running manifest holds some of this process's usage (its checkpoints).
            killed_usage = paid_calls(out / "manifest.json")
            if killed_usage and candidates.exists() and candidates.read_text().count("\n") >= 12:
                break
            time.sleep(0.01)
        assert first.poll() is None, "the first run finished before it could be killed"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        before = candidates.read_bytes().decode()
        completed = [json.loads(line) for line in before.splitlines(keepends=True) if line.endswith("\n")]
        assert 12 <= len(completed) < 60
        assert killed_usage > 4  # so the usage check below tells a merged usage from the rerun's alone
        requests_before = len(world.log)

        second = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert second.returncode == 0, second.stderr
    records = lines(candidates)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 2 * 3 * 10
    assert {r["id"] for r in completed} <= set(ids)
    by_id = {r["id"]: r for r in records}
    assert all(by_id[r["id"]] == r for r in completed)
    # The rerun sent no request for any candidate completed before the kill.
    later = world.log[requests_before:]
    for record in completed:
        assert not any(model == "target" and text == record["query"] for model, text in later)
        assert not any(model == "judge" and f"<query>\n{record['query']}\n</query>" in text for model, text in later)
    # Over both processes the target saw each query once, except the few in flight at the kill
    # (at most --max-concurrency of them): everything answered before was served by the cache.
    repeats = sum(1 for r in records if sum(1 for m, t in world.log if m == "target" and t == r["query"]) > 1)
    assert repeats <= 4
    iterations = lines(out / "iterations.jsonl")
    assert len(iterations) == len({(i["run"], i["iteration"]) for i in iterations}) == 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["candidates"] == 60
    # The usage adds the killed process's last checkpoint to the rerun's calls (a checkpoint lags a
    # kill by at most CHECKPOINT_EVERY_S, so the killed process's very last calls may be missing;
    # `later` may hold a few requests of the killed process that reached the server after the kill).
    assert killed_usage + len(later) - 4 <= manifest["usage"]["total"]["calls"] <= len(world.log)
    assert json.loads(second.stdout.strip().splitlines()[-1])["status"] == "complete"
