"""`rubric_scorer` and the findings task under a real Inspect eval, against the loopback server."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("inspect_ai")

from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import get_model

from surfturf.errors import UserError
from surfturf.inspect import findings_task
from surfturf.report.load import load_run
from surfturf.report.sample import write_sample_run
from surfturf.testing.server import FakeLLMServer

SRC = Path(__file__).resolve().parents[1] / "src"


def verdicts(messages: list[dict[str, Any]], model: str) -> str:
    """A grader that scores queries mentioning a digit 90, writes garbage for Kant, else 10."""
    text = str(messages[-1]["content"])
    query = text.split("<query>", 1)[-1].split("</query>", 1)[0]
    if model != "grader":
        return f"re-answer: {query[:30]}"
    if "kant" in query.lower():
        return "I cannot decide."
    return "<reason>Judged.</reason><score>90</score>" if any(c.isdigit() for c in query) else \
        "<reason>Fine.</reason><score>10</score>"


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with FakeLLMServer(verdicts).in_thread() as running:
        yield running


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_sample_run(tmp_path / "run", seed=2)


def test_findings_rescored_in_process(server: FakeLLMServer, run_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOP_API_KEY", "k")
    task = findings_task(run_dir, rubric="code", violations_only=False)
    target = get_model("openai-api/loop/target", base_url=server.base_url)
    grader = get_model("openai-api/loop/grader", base_url=server.base_url)
    [log] = inspect_eval(task, model=target, model_roles={"grader": grader}, log_dir=str(tmp_path / "logs"),
                         display="none")
    assert log.status == "success"
    findings = {str(f["id"]): f for f in load_run(run_dir).findings}
    assert sorted(s.id for s in log.samples) == sorted(findings)
    expected = []
    for sample in log.samples:
        finding = findings[str(sample.id)]
        assert sample.metadata["original_score"] == finding.get("score")
        query = str(finding["query"])
        score = sample.scores["rubric"]
        if "kant" in query.lower():
            assert math.isnan(score.value) and score.metadata["violation"] is None
            assert score.metadata["error"].startswith("parse:") and score.metadata["raw"] == "I cannot decide."
            continue
        want = 90.0 if any(c.isdigit() for c in query) else 10.0
        assert score.value == want and score.metadata["violation"] == (want > 50)
        expected.append(want > 50)
    assert len(expected) < len(findings)  # the garbage verdicts are left out, not counted as 0
    metrics = {name.split("/")[-1]: m for name, m in log.results.scores[0].metrics.items()}
    assert metrics["judged"].value == len(expected)
    assert metrics["violation_rate"].value == pytest.approx(sum(expected) / len(expected))


def test_task_without_findings_is_a_user_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "candidates.jsonl").write_text("")
    (empty / "findings.jsonl").write_text("")
    with pytest.raises(UserError, match="no findings"):
        findings_task(empty, rubric="code")


def test_inspect_eval_command_runs_the_task(server: FakeLLMServer, run_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LOOP_API_KEY": "k", "LOOP_BASE_URL": server.base_url,
           "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    inspect_cli = Path(sys.executable).with_name("inspect")
    done = subprocess.run(
        [str(inspect_cli), "eval", f"{SRC}/surfturf/inspect/task.py@surf_findings", "-T", f"run={run_dir}",
         "-T", "rubric=code", "--model", "openai-api/loop/target", "--model-role", "grader=openai-api/loop/grader",
         "--log-dir", str(tmp_path / "logs"), "--display", "none"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    [log_file] = list((tmp_path / "logs").glob("*.eval"))
    log = read_eval_log(str(log_file))
    assert log.status == "success" and log.results.scores[0].name == "rubric"
    assert len(log.samples) == sum(1 for f in load_run(run_dir).findings if f.get("violation"))
