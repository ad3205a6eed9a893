"""Failures are never silent and never final: transient errors are redone by a resume (bounded
attempts), an endpoint that keeps failing stops the sweep as `failed`, a run where every call
failed is never `complete`, spend is the directory's ledger, and written files carry no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surfturf.models import ModelSession
from surfturf.models.redact import redact, register_secret
from surfturf.surf import load_candidates, load_manifest, run_surf
from surfturf.surf.rundir import MAX_ATTEMPTS
from surfturf.io.files import JsonlAppender, write_json_atomic
from surfturf.testing.cli import run_main as invoke
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.surf import code_world, scripted_config

from conftest import FAST_RETRY

POOL = ["The query uses formal vocabulary.", "The query is about rivers.", "The query is about birds."]


@pytest.fixture
def server():
    with FakeLLMServer(code_world).in_thread() as running:
        yield running


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    path = tmp_path / "pool.txt"
    path.write_text("\n".join(POOL) + "\n")
    return path


async def sweep(server: FakeLLMServer, pool: Path, out: Path, tmp_path: Path, **settings):
    config = scripted_config(server, pool, **(dict(runs=1, iterations=2, candidates=6, max_k=1) | settings))
    async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=4, timeout_s=5.0, retry=FAST_RETRY,
                            ledger=out / "spend.jsonl") as session:
        return await run_surf(config, session, out)


async def test_all_failed_is_failed_then_a_resume_redoes_them(server, pool, tmp_path: Path) -> None:
    out = tmp_path / "run"
    server.fail_always("500")
    first = await sweep(server, pool, out, tmp_path)
    assert first.status == "failed" and first.errors == first.candidates == 12
    manifest = load_manifest(out)
    assert manifest["status"] == "failed" and "every one of 12 candidates failed" in manifest["stopped"]
    assert manifest["counts"]["retryable"] == 12
    server.fail_always(None)
    second = await sweep(server, pool, out, tmp_path)
    assert second.status == "complete" and second.errors == 0 and second.candidates == 12
    rows = load_candidates(out)
    assert len(rows) == 12 and all(r["attempts"] == 2 and r["score"] is not None for r in rows)
    assert (out / "candidates.jsonl").read_text().count("\n") == 12  # compacted: one row per candidate
    assert "stopped" not in load_manifest(out)


async def test_attempts_are_bounded(server, pool, tmp_path: Path) -> None:
    out = tmp_path / "run"
    server.fail_always("500")
    for _ in range(MAX_ATTEMPTS):
        await sweep(server, pool, out, tmp_path, iterations=1, candidates=4)
    assert all(r["attempts"] == MAX_ATTEMPTS for r in load_candidates(out))
    server.reset_counts()
    server.fail_always(None)
    again = await sweep(server, pool, out, tmp_path, iterations=1, candidates=4)
    assert server.requests == 0 and again.status == "failed" and load_manifest(out)["counts"]["retryable"] == 0


async def test_a_resume_redoes_a_logged_iteration_and_samples_later_ones_alike(server, pool, tmp_path: Path) -> None:
    clean = await sweep(server, pool, tmp_path / "clean", tmp_path / "c1", iterations=3)
    out = tmp_path / "run"
    server.fail_next(8, "500")  # with 3 retries each, the first two calls fail for good
    await sweep(server, pool, out, tmp_path / "c2", iterations=3)
    redone = await sweep(server, pool, out, tmp_path / "c2", iterations=3)
    assert redone.status == "complete" and redone.errors == 0
    ours = {r["id"]: r["attributes"] for r in load_candidates(out)}
    assert ours == {r["id"]: r["attributes"] for r in load_candidates(tmp_path / "clean")} and clean.errors == 0


async def test_an_endpoint_that_keeps_failing_stops_the_sweep(server, pool, tmp_path: Path) -> None:
    out = tmp_path / "run"
    server.fail_always("500")
    first = await sweep(server, pool, out, tmp_path, iterations=1, candidates=40)
    manifest = load_manifest(out)
    assert first.status == "failed" and manifest["status"] == "failed" and manifest["stopped"] == first.stopped
    assert first.candidates < 40 and "\n" not in manifest["stopped"]
    server.fail_always(None)
    second = await sweep(server, pool, out, tmp_path, iterations=1, candidates=40)
    assert second.status == "complete" and second.candidates == 40 and second.errors == 0


async def test_manifest_spend_is_the_ledgers(server, pool, tmp_path: Path) -> None:
    out = tmp_path / "run"
    server.fail_next(3, "500")
    await sweep(server, pool, out, tmp_path)
    await sweep(server, pool, out, tmp_path / "other-cache", iterations=3)
    lines = [json.loads(line) for line in (out / "spend.jsonl").read_text().splitlines()]
    total = load_manifest(out)["usage"]["total"]
    assert total["input_tokens"] == sum(line["input_tokens"] for line in lines) > 0
    assert total["output_tokens"] == sum(line["output_tokens"] for line in lines)


def test_writers_redact_registered_keys_and_url_passwords(tmp_path: Path) -> None:
    register_secret("sk-test-0123456789abcdef")
    appender = JsonlAppender(tmp_path / "c.jsonl")
    appender.append({"error": "server: 401 bad key sk-test-0123456789abcdef"})
    appender.close()
    write_json_atomic(tmp_path / "m.json", {"base_url": "http://alice:hunter2@127.0.0.1:8000/v1"})
    written = (tmp_path / "c.jsonl").read_text() + (tmp_path / "m.json").read_text()
    assert "sk-test-0123456789abcdef" not in written and "hunter2" not in written and "***" in written
    assert redact("plain text") == "plain text"


def test_cli_failed_run_exits_1_and_top_says_so(server, pool, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr("surfturf.models.session.RetryPolicy", lambda: FAST_RETRY)
    server.fail_always("500")
    url = server.base_url
    code, out, err = invoke(
        monkeypatch, capsys, "surf", "run", "--rubric", "code", "--pool", str(pool), "--out", str(tmp_path / "run"),
        "--target", "openai-compatible/target", "--generator", "openai-compatible/generator",
        "--judge", "openai-compatible/judge", "--target-base-url", url, "--generator-base-url", url,
        "--judge-base-url", url, "--runs", "1", "--iterations", "1", "--candidates", "4", "--max-k", "1",
        "--cache-dir", str(tmp_path / "cache"))
    assert code == 1, err
    assert json.loads(out.splitlines()[-1])["status"] == "failed"
    assert err.splitlines()[-1].startswith("surf: failed: ")
    code, out, err = invoke(monkeypatch, capsys, "surf", "top", str(tmp_path / "run"))
    assert code == 0 and err.startswith("status: failed")


async def test_a_password_in_a_base_url_is_not_recorded_and_resume_still_matches(server, pool, tmp_path: Path) -> None:
    out = tmp_path / "run"
    secret_url = server.base_url.replace("http://", "http://alice:hunter2@")
    config = scripted_config(server, pool, runs=1, iterations=1, candidates=3, max_k=1)
    config = config.model_copy(update={"target": config.target.model_copy(update={"base_url": secret_url})})
    for _ in range(2):  # the second is a resume: the recorded (redacted) config must still match
        async with ModelSession(cache_dir=tmp_path / "cache", retry=FAST_RETRY, ledger=out / "spend.jsonl") as session:
            summary = await run_surf(config, session, out)
    assert summary.candidates == 3
    written = "".join(p.read_text() for p in out.iterdir() if p.is_file())
    assert "hunter2" not in written and "***@127.0.0.1" in (out / "manifest.json").read_text()
