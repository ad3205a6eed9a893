"""Which findings of a SURF run get traced, and how their files are named and written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surfturf.errors import UserError
from surfturf.rubrics.loader import rubric_text
from surfturf.turf.trace_files import run_cases, save_traces, trace_filename


def _run(root: Path, config: dict) -> Path:
    run = root / "RUN"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"command": "surf run", "config": config}))
    findings = [{"id": f"r0-i0-c{n}", "query": f"q{n}", "response": f"r{n}", "score": 90 - n, "violation": n != 1,
                 "rank": n + 1} for n in range(4)]
    (run / "findings.jsonl").write_text("".join(json.dumps(f) + "\n" for f in findings))
    return run


def test_violations_best_first_top_and_named_findings(tmp_path: Path) -> None:
    run = _run(tmp_path, {"rubric": "code", "rubric_text": rubric_text("code")})
    cases, rubric = run_cases(run)
    assert rubric.name == "code" and [c.finding for c in cases] == ["r0-i0-c0", "r0-i0-c2", "r0-i0-c3"]
    assert cases[0].score == 90 and cases[0].rubric_title == rubric.title and "Principle" in cases[0].rubric_text
    assert [c.finding for c in run_cases(run, top=2)[0]] == ["r0-i0-c0", "r0-i0-c2"]
    assert [c.finding for c in run_cases(run, ["r0-i0-c1"])[0]] == ["r0-i0-c1"]  # named: traced even if not a violation
    with pytest.raises(UserError, match="no finding r9"):
        run_cases(run, ["r9"])


def test_a_run_without_a_rubric_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="names no rubric"):
        run_cases(_run(tmp_path, {}))


def test_files_are_named_safely_and_written_with_a_manifest(tmp_path: Path) -> None:
    assert trace_filename("r0-i3-c17") == "r0-i3-c17.json" and trace_filename("../x y") == ".._x_y.json"
    records = [{"finding": "a/b", "error": None}, {"finding": "c", "error": "judge: timeout"}]
    save_traces(tmp_path / "traces", records, run_dir=None, index_dir=None, config={"k": 5},
                models={"judge": "x/y"}, usage={})
    assert json.loads((tmp_path / "traces" / "a_b.json").read_text()) == records[0]
    assert len((tmp_path / "traces" / "summary.jsonl").read_text().splitlines()) == 2
    manifest = json.loads((tmp_path / "traces" / "manifest.json").read_text())
    assert manifest["counts"] == {"traced": 1, "errors": 1} and manifest["config"]["k"] == 5
    assert not list((tmp_path / "traces").glob(".*tmp"))
