"""A killed build resumes from its finished shards and ends with the same index as an uninterrupted build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surfturf.cli.main import main
from surfturf.testing.index import assert_same_index
from surfturf.testing.server import FakeLLMServer
from surfturf.turf import store

sys.path.insert(0, str(Path(__file__).parent))
from test_index_build import describe  # noqa: E402  (the same stand-in extractor)

SHARDS = 5
SHARD_ROWS = 20


def _command(sft_mix: Path, out: Path, base_url: str) -> list[str]:
    return [sys.executable, "-m", "surfturf.cli.main", "index", "build", str(sft_mix), "--limit", str(SHARD_ROWS),
            "-o", str(out), "--shard-rows", str(SHARD_ROWS), "--k", "8", "--embedder", "hash/32",
            "--extractor", "openai-compatible/extractor", "--extractor-base-url", base_url,
            "--cache", "off", "--max-concurrency", "4"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}


def _run_in_process(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The same CLI command without a second interpreter start-up."""
    monkeypatch.setattr(sys, "argv", ["surfturf", *command[3:]])
    main()


def test_killed_build_resumes_to_the_same_index(sft_mix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLMServer(responder=describe, latency_ms=25).in_thread() as server:
        interrupted = tmp_path / "interrupted"
        process = subprocess.Popen(_command(sft_mix, interrupted, server.base_url), env=_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (interrupted / "work" / "shard-00001").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        finished = sorted(p.name for p in (interrupted / "work").glob("shard-?????"))
        assert 2 <= len(finished) < SHARDS, finished
        assert not (interrupted / store.CLUSTERS).exists()

        time.sleep(0.5)  # the killed process's requests still in the server finish before counting starts
        server.reset_counts()
        bodies: list[str] = []
        server.responder = lambda messages, model: (bodies.append(repr(messages)), describe(messages, model))[1]
        _run_in_process(_command(sft_mix, interrupted, server.base_url), monkeypatch)
        # only the unfinished shards were extracted again: two calls (query, response) per row, identical ones once
        unfinished = SHARDS - len(finished)
        extraction = [body for body in bodies if "You catalogue examples" in body]
        assert server.requests == len(set(bodies))
        assert SHARD_ROWS * unfinished < len(extraction) <= 2 * SHARD_ROWS * unfinished

        whole = tmp_path / "whole"
        _run_in_process(_command(sft_mix, whole, server.base_url), monkeypatch)
    assert_same_index(interrupted, whole)


def test_a_dead_extractor_fails_the_build_and_a_rerun_finishes(sft_mix: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """An extractor endpoint that keeps failing ends the build `failed` (exit 1, the stop line in the
    manifest) without storing shards of rows without attributes; once it answers, a rerun completes."""
    from conftest import FAST_RETRY

    monkeypatch.setattr("surfturf.models.session.RetryPolicy", lambda: FAST_RETRY)
    out = tmp_path / "index"
    with FakeLLMServer(responder=describe).in_thread() as server:
        server.fail_always("500")
        with pytest.raises(SystemExit) as stopped:
            _run_in_process(_command(sft_mix, out, server.base_url), monkeypatch)
        assert stopped.value.code == 1
        manifest = json.loads((out / store.MANIFEST).read_text())
        assert manifest["status"] == "failed" and "\n" not in manifest["stopped"]
        assert not list((out / "work").glob("shard-?????"))  # no shard was stored as finished
        server.fail_always(None)
        _run_in_process(_command(sft_mix, out, server.base_url), monkeypatch)
    manifest = json.loads((out / store.MANIFEST).read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["transient_extraction_errors"] == 0
