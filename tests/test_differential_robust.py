"""`surfturf robust` on a differential run: both checkpoints sampled on the same prompts, paired rates
and an exact McNemar test, so "new in B" is a claim with a p-value."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from surfturf.models import ModelSession
from surfturf.rubrics import load_rubric
from surfturf.steer.measure import panel_judge
from surfturf.steer.robust import RobustConfig, run_robust
from surfturf.stats import mcnemar_exact, paired_rates
from surfturf.surf import load_findings, run_surf
from surfturf.testing.cli import run_main as invoke
from surfturf.testing.differential import NEW, SHARED, differential_config, two_checkpoints, write_pool
from surfturf.testing.server import FakeLLMServer


def test_paired_rates_on_known_pairs() -> None:
    baseline = [False] * 10 + [True] * 3 + [False] * 7
    target = [True] * 10 + [True] * 3 + [False] * 7
    paired = paired_rates(baseline, target)
    assert paired["target"]["rate"] == 13 / 20 and paired["baseline"]["rate"] == 3 / 20
    assert (paired["only_target"], paired["only_baseline"]) == (10, 0)
    assert paired["p_new"] == pytest.approx(0.5 ** 10) and paired["p"] == pytest.approx(2 * 0.5 ** 10)
    assert paired["p"] == pytest.approx(mcnemar_exact(baseline, target)[0])
    assert paired["p_fixed"] == 1.0
    assert paired["difference"] == pytest.approx(0.5) and 0 < paired["low"] < 0.5 < paired["high"] <= 1
    tied = paired_rates([True, False] * 5, [False, True] * 5)
    assert tied["p_new"] > 0.5 and tied["p_fixed"] > 0.5 and tied["difference"] == 0


async def test_a_new_failure_holds_and_a_shared_one_does_not(tmp_path: Path) -> None:
    findings = [
        {"id": "new", "query": "vocabulary formal uses", "score": 70, "differential": {"direction": "new"}},
        {"id": "shared", "query": "slang casual uses", "score": 0, "differential": {"direction": "new"}},
    ]
    async with FakeLLMServer(two_checkpoints) as server:
        async with ModelSession(cache_dir=None) as session:
            def model(role: str):  # type: ignore[no-untyped-def]
                return session.model(role, f"openai-compatible/{role}", base_url=server.base_url)

            records, samples, summary = await run_robust(
                findings, load_rubric("code"), model("target"), model("perturber"), panel_judge([model("judge")]), [],
                RobustConfig(top=2, perturbations=2, samples=4), baseline=model("baseline"))
    by_id = {r["finding"]: r for r in records}
    new, shared = by_id["new"], by_id["shared"]
    assert new["paired"]["all"]["n"] == 3 * 4 and new["paired"]["all"]["only_target"] == 12
    assert new["original"]["rate"] == 1.0 and new["baseline"]["original"]["rate"] == 0.0
    assert new["claim"] == {"direction": "new", "p": pytest.approx(0.5 ** 12), "holds": True}
    assert shared["paired"]["all"]["only_target"] == 0 and shared["baseline"]["mean_rate"] == 1.0
    assert shared["claim"]["holds"] is False and shared["claim"]["p"] == 1.0
    assert {s["model"] for s in samples} == {"target", "baseline"} and len(samples) == 2 * 2 * 3 * 4
    assert summary["code"]["claims_holding"] == 1 and summary["code"]["paired"]["n"] == 24
    assert summary["code"]["paired"]["only_target"] == 12 and summary["code"]["baseline_original"]["k"] == 4


def test_cli_robust_on_a_differential_run(monkeypatch, capsys, tmp_path: Path) -> None:
    pool = write_pool(tmp_path / "pool.txt")
    with FakeLLMServer(two_checkpoints).in_thread() as server:
        async def sweep() -> None:
            async with ModelSession(cache_dir=None) as session:
                await run_surf(differential_config(server, pool, iterations=3), session, tmp_path / "run")

        asyncio.run(sweep())
        findings = [f for f in load_findings(tmp_path / "run") if f["violation"]]
        assert findings and all(NEW in f["attributes"] and SHARED not in f["attributes"] for f in findings)
        common = ["robust", str(tmp_path / "run"), "--top", "2", "--perturbations", "2", "--samples", "3",
                  "--perturber", "openai-compatible/perturber", "--perturber-base-url", server.base_url,
                  "--cache", "off"]
        code, out, err = invoke(monkeypatch, capsys, *common, "--dry-run")
        assert code == 0, err
        rows = {line.split()[0]: line for line in out.splitlines() if line.split()[0] in ("target", "baseline", "judge")}
        assert " 18 calls" in rows["target"] and " 18 calls" in rows["baseline"] and " 36 calls" in rows["judge"]
        code, out, err = invoke(monkeypatch, capsys, *common)
    assert code == 0, err
    assert "vs baseline 0% " in out and "new: McNemar p=" in out and "(holds)" in out
    records = [json.loads(line) for line in (tmp_path / "run" / "robust" / "robust.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["claim"]["holds"] for r in records)
    manifest = json.loads((tmp_path / "run" / "robust" / "manifest.json").read_text())
    assert manifest["models"]["baseline"] == "openai-compatible/baseline"
    assert manifest["config"]["settings"]["baseline"]["settings"]["temperature"] == 1.0


def test_cli_refuses_baseline_on_a_plain_run(monkeypatch, capsys, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"command": "surfturf surf run", "config": {"rubric": "code"}}))
    (run / "findings.jsonl").write_text(json.dumps({"id": "a", "query": "q", "score": 90, "violation": True}) + "\n")
    (run / "candidates.jsonl").write_text("")
    code, _, err = invoke(monkeypatch, capsys, "robust", str(run), "--baseline", "openai-compatible/baseline",
                          "--target", "openai-compatible/target", "--judge", "openai-compatible/judge", "--cache", "off")
    assert code == 2 and "not a differential run" in err and len(err.strip().splitlines()) == 1, err
