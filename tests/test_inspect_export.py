"""`surfturf export inspect`: a run as an .eval log, read back with Inspect's own reader sample for sample."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai")

from inspect_ai.log import read_eval_log

from surfturf.report.load import load_run
from surfturf.report.sample import write_sample_run
from surfturf.testing.cli import run_main


@pytest.fixture
def exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> tuple[Path, Path]:
    run = write_sample_run(tmp_path / "modelA", seed=3)
    out = tmp_path / "modelA.eval"
    code, stdout, _ = run_main(monkeypatch, capsys, "export", "inspect", str(run), "-o", str(out))
    assert code == 0 and stdout.strip() == str(out)
    return run, out


def test_every_candidate_is_a_sample(exported: tuple[Path, Path]) -> None:
    run_dir, out = exported
    log = read_eval_log(str(out))
    candidates = [json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines() if line.strip()]
    assert log.samples is not None and len(log.samples) == len(candidates)
    threshold = load_run(run_dir).config.get("threshold", 50.0)
    for sample, candidate in zip(log.samples, candidates):
        assert sample.id == candidate["id"]
        assert sample.input == candidate["query"]
        assert sample.output.completion == (candidate["response"] or "")
        assert sample.metadata["attributes"] == candidate["attributes"]
        assert sample.metadata["iteration"] == candidate["iteration"]
        if candidate.get("error"):
            assert sample.error is not None and sample.error.message == candidate["error"]
        else:
            assert sample.error is None
        if candidate.get("score") is None:
            assert not sample.scores or math.isnan(sample.scores["rubric"].value)
        else:
            score = sample.scores["rubric"]
            assert score.value == candidate["score"]
            assert score.metadata["violation"] == (candidate.get("violation", candidate["score"] > threshold))
            assert score.explanation == candidate["reason"]


def test_spec_results_traces_and_robustness(exported: tuple[Path, Path]) -> None:
    run_dir, out = exported
    log = read_eval_log(str(out))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert log.eval.model == manifest["models"]["target"]
    assert log.eval.metadata["surfturf"]["models"] == manifest["models"]
    assert log.eval.metadata["surfturf"]["config"]["rubric"] == manifest["config"]["rubric"]
    assert (log.stats.started_at, log.stats.completed_at) == (manifest["created"], manifest["updated"])  # the viewer's duration
    judged = [s for s in log.samples if s.scores and not math.isnan(s.scores["rubric"].value)]
    rate = sum(bool(s.scores["rubric"].metadata["violation"]) for s in judged) / len(judged)
    metrics = log.results.scores[0].metrics
    assert metrics["violation_rate"].value == pytest.approx(rate)
    assert metrics["judged"].value == len(judged)
    run = load_run(run_dir)
    by_id = {s.id: s for s in log.samples}
    traced = [str(t["finding"]) for t in run.traces if str(t.get("finding")) in by_id]
    checked = [str(r["finding"]) for r in run.robust if str(r.get("finding")) in by_id]
    assert traced and checked
    assert all(by_id[f].metadata["trace"]["finding"] == f for f in traced)
    assert all(by_id[f].metadata["robust"]["finding"] == f for f in checked)


def test_bad_output_names_are_refused(exported: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture) -> None:
    run_dir, out = exported
    code, _, err = run_main(monkeypatch, capsys, "export", "inspect", str(run_dir), "-o", str(tmp_path / "x.json"))
    assert code == 2 and "does not end in .eval" in err
    code, _, err = run_main(monkeypatch, capsys, "export", "inspect", str(run_dir), "-o", str(out))
    assert code == 2 and "already exists" in err
