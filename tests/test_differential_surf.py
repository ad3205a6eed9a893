"""Differential SURF against a real local HTTP server: a target (B) and a baseline (A) that share one
failure (code for slang queries), B alone fails on formal queries and A alone on archaic ones.
The search must follow the failure that differs, record both sides, resume, and refuse misuse."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from surfturf.models import ModelSession
from surfturf.surf import RoleSpec, load_candidates, load_findings, load_manifest, run_surf
from surfturf.testing.cli import run_main as invoke
from surfturf.testing.differential import FIXED, NEW, SHARED, differential_config, two_checkpoints, write_pool
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.surf import ROLE_FLAGS, scripted_config


@pytest.fixture
def pool_file(tmp_path: Path) -> Path:
    return write_pool(tmp_path / "pool.txt")


async def test_new_direction_follows_failures_only_the_target_has(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(two_checkpoints) as server:
        async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=8) as session:
            summary = await run_surf(differential_config(server, pool_file), session, tmp_path / "run")
    assert summary.status == "complete" and summary.errors == 0
    records = load_candidates(tmp_path / "run")
    assert len(records) == 2 * 4 * 10
    for record in records:
        sides = record["differential"]
        query = record["query"]
        expected = "shared" if "slang" in query else "new" if "formal" in query else "unasked"
        assert sides["kind"] == expected, record
        assert record["violation"] == (expected == "new")
        assert record["models"]["baseline"] == "openai-compatible/baseline"
        assert record["response"] and sides["target"]["asked"]
        if expected == "unasked":
            # The target passed, so the candidate cannot be new whatever the baseline says: it was not asked,
            # and the search follows the target's score.
            assert sides["baseline"]["asked"] is False and "cannot be new" in sides["baseline"]["why"]
            assert sides["baseline"]["response"] is None and sides["baseline"]["score"] is None
            assert record["score"] == sides["target"]["score"] and not sides["target"]["violation"]
        else:  # both models answered and were judged; the score is their clipped difference
            assert sides["baseline"]["asked"] and sides["baseline"]["response"]
            assert record["score"] == max(0.0, sides["target"]["score"] - sides["baseline"]["score"])
    findings = load_findings(tmp_path / "run")
    violating = [f for f in findings if f["violation"]]
    assert violating and all(NEW in f["attributes"] and SHARED not in f["attributes"] for f in violating)
    assert findings[0]["differential"]["kind"] == "new"
    manifest = load_manifest(tmp_path / "run")
    assert manifest["models"]["baseline"] == "openai-compatible/baseline"
    assert manifest["config"]["baseline"]["temperature"] == 0.7 and manifest["config"]["direction"] == "new"
    kinds = manifest["counts"]["kinds"]
    assert sum(kinds.values()) == len(records) and kinds["new"] >= 1 and kinds["shared"] >= 1
    assert kinds["fixed"] == kinds["neither"] == 0  # the baseline is asked only where the target violates


async def test_a_plain_run_on_the_target_ranks_shared_failures_too(tmp_path: Path, pool_file: Path) -> None:
    """The contrast: without a baseline the shared failure counts as much as the new one."""
    async with FakeLLMServer(two_checkpoints) as server:
        async with ModelSession(cache_dir=None, max_concurrency=8) as session:
            await run_surf(scripted_config(server, pool_file, runs=2, iterations=4, candidates=10, seed=3, max_k=2),
                           session, tmp_path / "plain")
    findings = [f for f in load_findings(tmp_path / "plain") if f["violation"]]
    assert any(SHARED in f["attributes"] and NEW not in f["attributes"] for f in findings)
    assert all("differential" not in f for f in findings)
    assert "baseline" not in load_manifest(tmp_path / "plain")["models"]


async def test_fixed_direction_follows_failures_only_the_baseline_has(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(two_checkpoints) as server:
        async with ModelSession(cache_dir=None, max_concurrency=8) as session:
            await run_surf(differential_config(server, pool_file, direction="fixed"), session, tmp_path / "run")
    violating = [f for f in load_findings(tmp_path / "run") if f["violation"]]
    assert violating and all(FIXED in f["attributes"] and SHARED not in f["attributes"] for f in violating)
    top = violating[0]
    assert top["differential"]["kind"] == "fixed" and top["response"]
    assert top["score"] == top["differential"]["baseline"]["score"] - top["differential"]["target"]["score"]
    assert top["reason"] == top["differential"]["baseline"]["reason"]
    for record in load_candidates(tmp_path / "run"):  # the mirror of `new`: the target only where the baseline fails
        sides = record["differential"]
        assert sides["baseline"]["asked"] and sides["baseline"]["response"]
        if not sides["baseline"]["violation"]:
            assert sides["kind"] == "unasked" and sides["target"]["asked"] is False and record["response"] is None
            assert "cannot be fixed" in sides["target"]["why"] and record["score"] == sides["baseline"]["score"]


async def test_either_direction_records_which_way_each_difference_points(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(two_checkpoints) as server:
        async with ModelSession(cache_dir=None, max_concurrency=8) as session:
            await run_surf(differential_config(server, pool_file, direction="either", iterations=3), session,
                           tmp_path / "run")
    for record in load_candidates(tmp_path / "run"):
        sides = record["differential"]
        assert record["score"] == abs(sides["target"]["score"] - sides["baseline"]["score"])
        assert sides["leaning"] == {"new": "new", "fixed": "fixed"}.get(sides["kind"])
        assert record["violation"] == (sides["kind"] in ("new", "fixed"))


async def test_a_killed_differential_run_resumes_without_redoing_candidates(tmp_path: Path, pool_file: Path) -> None:
    calls: Counter[str] = Counter()

    def counted(messages: list[dict], model: str) -> str:
        calls[model] += 1
        return two_checkpoints(messages, model)

    async with FakeLLMServer(counted) as server:
        config = differential_config(server, pool_file)
        async with ModelSession(cache_dir=None, max_concurrency=8) as session:
            await run_surf(config, session, tmp_path / "run")
        complete = load_candidates(tmp_path / "run")
        path = tmp_path / "run" / "candidates.jsonl"
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:25]) + lines[25][:40])  # a kill mid-write after 25 candidates
        (tmp_path / "run" / "iterations.jsonl").write_text("")
        calls.clear()
        async with ModelSession(cache_dir=None, max_concurrency=8) as session:
            summary = await run_surf(config, session, tmp_path / "run")
        # Only the 55 candidates lost to the kill are redone, the baseline answering those the target fails.
        redone = complete[25:]
        failed = sum(1 for r in redone if r["differential"]["baseline"]["asked"])
        assert 0 < failed < len(redone)
        assert (calls["generator"], calls["target"], calls["baseline"]) == (len(redone), len(redone), failed)
        with pytest.raises(Exception, match="different baseline"):
            async with ModelSession(cache_dir=None) as session:
                other = config.model_copy(update={"baseline": RoleSpec(spec="openai-compatible/other",
                                                                       base_url=server.base_url)})
                await run_surf(other, session, tmp_path / "run")
    resumed = load_candidates(tmp_path / "run")
    assert summary.candidates == len(complete) and len({r["id"] for r in resumed}) == len(resumed)
    strip = lambda rows: sorted(({k: v for k, v in r.items() if k not in {"time_s", "calls", "cost_usd"}}  # noqa: E731
                                 for r in rows), key=lambda r: r["id"])
    assert strip(resumed) == strip(complete)


def test_cli_differential_run_and_dry_run_count_both_models(monkeypatch, capsys, tmp_path: Path, pool_file: Path) -> None:
    with FakeLLMServer(two_checkpoints).in_thread() as server:
        urls = ["--target-base-url", server.base_url, "--generator-base-url", server.base_url,
                "--judge-base-url", server.base_url, "--baseline-base-url", server.base_url]
        common = ["surf", "run", "--rubric", "code", "--pool", str(pool_file), *ROLE_FLAGS, *urls,
                  "--baseline", "openai-compatible/baseline", "--runs", "1", "--iterations", "2", "--candidates", "5",
                  "--max-k", "2", "--cache-dir", str(tmp_path / "cache")]
        code, out, err = invoke(monkeypatch, capsys, *common, "--out", str(tmp_path / "dry"), "--dry-run",
                                "--cache", "off")
        assert code == 0, err
        rows = {line.split()[0]: line for line in out.splitlines() if line.split()[0] in ("target", "baseline", "judge")}
        assert " 10 calls" in rows["target"] and " 10 calls" in rows["baseline"] and " 20 calls" in rows["judge"]
        code, out, err = invoke(monkeypatch, capsys, *common, "--out", str(tmp_path / "run"),
                                "--baseline-temperature", "0.3")
        assert code == 0, err
        assert json.loads(out.splitlines()[-1])["candidates"] == 10
        assert load_manifest(tmp_path / "run")["config"]["baseline"]["temperature"] == 0.3
        code, out, _ = invoke(monkeypatch, capsys, "surf", "top", str(tmp_path / "run"), "-n", "1")
        assert code == 0 and "baseline: " in out and "target 90, baseline 5" in out
        code, out, _ = invoke(monkeypatch, capsys, "surf", "top", str(tmp_path / "run"), "-n", "5")
        assert code == 0 and "unasked: target 5, baseline not asked" in out, out


@pytest.mark.parametrize(("extra", "message"), [
    (["--direction", "fixed"], "--direction fixed compares two models but no baseline was given"),
    (["--baseline", "openai-compatible/target"], "--baseline is the same model"),
])
def test_cli_refuses_differential_misuse_in_one_line(monkeypatch, capsys, tmp_path: Path, pool_file: Path,
                                                     extra: list[str], message: str) -> None:
    code, _, err = invoke(monkeypatch, capsys, "surf", "run", "--rubric", "code", "--pool", str(pool_file), *ROLE_FLAGS,
                          "--out", str(tmp_path / "run"), *extra)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run" / "candidates.jsonl").exists()


def test_cli_refuses_a_baseline_without_a_target(monkeypatch, capsys, tmp_path: Path, pool_file: Path) -> None:
    monkeypatch.delenv("SURFTURF_TARGET", raising=False)
    code, _, err = invoke(monkeypatch, capsys, "surf", "run", "--rubric", "code", "--pool", str(pool_file),
                          "--generator", "openai-compatible/generator", "--judge", "openai-compatible/judge",
                          "--baseline", "openai-compatible/baseline", "--out", str(tmp_path / "run"))
    assert code == 2 and "--baseline needs a target" in err and len(err.strip().splitlines()) == 1, err
