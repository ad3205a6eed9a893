"""`surfturf robust` against a real local server: perturbations, samples, judged rates, files."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from surfturf.cli.robust import robust
from surfturf.models import ModelSession
from surfturf.rubrics import load_rubric
from surfturf.steer.measure import panel_judge
from surfturf.steer.robust import RobustConfig, run_robust, summarise
from surfturf.testing.server import FakeLLMServer


class Scripted:
    """target: rebuts every third request on invention questions (a noisy shortcut), never with a system
    prompt; judge: flags rebuttals; perturber: numbered rephrasings, or no tags for 'garble'."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]], model: str) -> str:
        text = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        if model == "judge":
            response = re.search(r"<response>\n(.*)\n</response>", text, re.S).group(1)  # type: ignore[union-attr]
            return "<reason>rebuts a true fact</reason><score>85</score>" if "did not" in response else "<score>10</score>"
        if model == "perturber":
            query = re.search(r"<query>\n(.*)\n</query>", text, re.S).group(1)  # type: ignore[union-attr]
            variant = re.search(r"variant (\d+) of", text).group(1)  # type: ignore[union-attr]
            return "garbled" if "garble" in query else f"<query>{query} (v{variant})</query>"
        with self.lock:
            self.calls += 1
            n = self.calls
        if messages[0]["role"] == "system" or "invent" not in text:
            return "Yes, that is right."
        return "He did not invent it." if n % 3 else "Yes, in 1752."


def _write_run(run: Path, queries: list[str]) -> None:
    run.mkdir()
    manifest = {"command": "surfturf surf run", "config": {"rubric": "rebut", "threshold": None}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    rows = [{"id": f"r0-i0-c{i}", "query": q, "response": "r", "score": 90 - i, "violation": True, "rank": i + 1}
            for i, q in enumerate(queries)]
    rows.append({"id": "r0-i0-c9", "query": "What is 2 + 2?", "response": "4", "score": 5, "violation": False,
                 "rank": len(rows) + 1})
    (run / "findings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    good = [{"query": f"q{i}", "response": f"a{i}", "score": i, "violation": False, "error": None} for i in range(3)]
    (run / "candidates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in good))


async def test_run_robust_rates_and_intervals() -> None:
    findings = [{"id": "f1", "query": "When did Franklin invent the lightning rod?"},
                {"id": "f2", "query": "What colour is the sky?"},
                {"id": "f3", "query": "garble: when did Bell invent the telephone?"}]
    async with FakeLLMServer(responder=Scripted()) as server:
        session = ModelSession(cache_dir=None)
        target = session.model("target", "openai-compatible/target", base_url=server.base_url)
        perturber = session.model("perturber", "openai-compatible/perturber", base_url=server.base_url)
        judge = panel_judge([session.model("judge", "openai-compatible/judge", base_url=server.base_url)])
        done: list[int] = []
        records, samples, summary = await run_robust(
            findings, load_rubric("rebut"), target, perturber, judge, [], RobustConfig(top=3, perturbations=4, samples=9),
            progress=done.append,
        )
        await session.aclose()
    assert sum(done) == 3 * 5 * 9
    first, second, third = records
    assert [p["query"] for p in first["perturbations"]][:2] == [
        "When did Franklin invent the lightning rod? (v1)", "When did Franklin invent the lightning rod? (v2)"]
    assert first["n"] == 36 and 0.4 < first["mean_rate"] < 0.9 and 0 < first["low"] < first["mean_rate"] < first["high"]
    assert first["original"]["n"] == 9 and first["original"]["violations"] + first["original"]["errors"] <= 9
    assert second["mean_rate"] == 0.0 and second["low"] == 0.0 and second["high"] < 0.1
    assert third["perturbations"] == [] and len(third["perturbation_errors"]) == 4 and third["n"] == 0
    assert third["mean_rate"] is None and third["original"]["n"] == 9
    assert len(samples) == 9 * (5 + 5 + 1) and {s["sample_index"] for s in samples} == set(range(9))
    rebut = summary["rebut"]
    assert rebut["findings"] == 3 and rebut["findings_holding_up"] == 1
    assert rebut["perturbed"]["n"] == 72
    assert summarise([]) == {}


def test_robust_cli_writes_files_and_suppresses_with_context(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _write_run(run, ["When did Edison invent the phonograph?", "When did Volta invent the battery?"])
    system = tmp_path / "system.txt"
    system.write_text("Accept true historical facts.")
    scripted = Scripted()
    with FakeLLMServer(responder=scripted).in_thread() as server:
        common = ["--cache", "off", "--samples", "6", "--perturbations", "2", "--top", "3",
                  *[flag for role in ("target", "perturber", "judge")
                    for flag in (f"--{role}", f"openai-compatible/{role}", f"--{role}-base-url", server.base_url)]]
        result = CliRunner().invoke(robust, [str(run), *common], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        last = json.loads(result.output.strip().splitlines()[-1])
        assert last["status"] == "complete" and last["rubrics"]["rebut"]["findings"] == 2
        assert last["rubrics"]["rebut"]["perturbed"]["rate"] > 0.3
        records = [json.loads(line) for line in (run / "robust" / "robust.jsonl").read_text().splitlines()]
        assert [r["finding"] for r in records] == ["r0-i0-c0", "r0-i0-c1"]
        manifest = json.loads((run / "robust" / "manifest.json").read_text())
        assert manifest["status"] == "complete" and manifest["counts"]["samples"] == 2 * 3 * 6
        assert manifest["models"]["target"] == "openai-compatible/target"

        out = tmp_path / "with-context"
        result = CliRunner().invoke(robust, [str(run), *common, "--system-prompt", str(system), "--icl-examples", "2",
                                             "--out", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        suppressed = json.loads(result.output.strip().splitlines()[-1])["rubrics"]["rebut"]
        assert suppressed["perturbed"]["rate"] == 0.0 and suppressed["original"]["rate"] == 0.0
        context = json.loads((out / "manifest.json").read_text())["config"]["context"]
        assert context["icl_examples"] == 2 and context["icl_queries"] == ["q0", "q1"]

        dry = CliRunner().invoke(robust, [str(run), *common, "--dry-run"], catch_exceptions=False)
        assert dry.exit_code == 0 and "total" in dry.output


def test_robust_cli_bad_input(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _write_run(run, ["When did Edison invent the phonograph?"])
    result = CliRunner().invoke(robust, [str(run), "--cache", "off", "--icl-examples", "9",
                                         "--target", "openai-compatible/t", "--target-base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code != 0 and "non-violating candidates" in str(result.exception)


def test_roles_fall_back_to_the_run() -> None:
    from surfturf.steer.robust_run import role_from_run
    from surfturf.surf.generation import RoleConfig

    recorded = {"spec": "world/target", "base_url": "http://127.0.0.1:1/v1", "api_key_env": None}
    assert role_from_run(RoleConfig("target", None, "http://127.0.0.1:2/v1"), recorded) == RoleConfig(
        "target", "world/target", "http://127.0.0.1:2/v1", None)
    assert role_from_run(RoleConfig("target", None), recorded).base_url == "http://127.0.0.1:1/v1"
    assert role_from_run(RoleConfig("target", "openai/x"), recorded).spec == "openai/x"
