"""`surfturf surf run|top` from the command line: dry-run plans, findings, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from surfturf.rubrics import rubric_text
from surfturf.testing.cli import run_main as invoke
from surfturf.testing.server import FakeLLMServer

ROLES = ["--target", "openai-compatible/target", "--generator", "openai-compatible/generator",
         "--judge", "openai-compatible/judge"]




def world(messages: list[dict], model: str) -> str:
    text = messages[-1]["content"]
    if model == "generator":
        return "<query>" + " ".join(text.split("- ")[1].split("\n")[0].split()[::-1]) + "</query>"
    if model == "target":
        return "def f(): pass" if "formal" in text else "prose"
    return "<reason>r</reason><score>80</score>" if "def f" in text else "<reason>r</reason><score>5</score>"


def test_dry_run_prints_calls_per_role_and_cost(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke(monkeypatch, capsys, "surf", "run", "--rubric", "math", "--out", str(tmp_path / "run"),
                          "--target", "openai/gpt-4.1-mini", "--generator", "openai/gpt-4.1-mini",
                          "--judge", "openai/gpt-4.1", "--judge-panel", "openai/gpt-4.1-mini",
                          "--runs", "2", "--iterations", "3", "--candidates", "10", "--dry-run")
    assert code == 0
    rows = {line.split()[0] + " " + line.split()[1]: line for line in out.splitlines() if not line.startswith("total")}
    assert "60 calls" in rows["generator openai/gpt-4.1-mini"] and "60 calls" in rows["judge openai/gpt-4.1"]
    assert "60 calls" in rows["judge openai/gpt-4.1-mini"]
    assert out.splitlines()[-1].split()[1] == "240" and "$" in out
    assert not (tmp_path / "run").exists() and not (tmp_path / ".surfturf-cache").exists()


def test_run_then_top(monkeypatch, capsys, tmp_path: Path) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text("The query uses formal vocabulary.\nThe query is about birds.\nThe query is about rivers.\n")
    with FakeLLMServer(world).in_thread() as server:
        code, out, err = invoke(
            monkeypatch, capsys, "surf", "run", "--rubric", "code", "--pool", str(pool), "--out", str(tmp_path / "run"),
            *ROLES, "--target-base-url", server.base_url, "--generator-base-url", server.base_url,
            "--judge-base-url", server.base_url, "--runs", "2", "--iterations", "2", "--candidates", "6",
            "--max-k", "1", "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["status"] == "complete" and summary["candidates"] == 24 and summary["violations"] >= 1
    code, out, _ = invoke(monkeypatch, capsys, "surf", "top", str(tmp_path / "run"), "-n", "1")
    assert code == 0
    assert out.startswith("#1  score 80  VIOLATION") and "attribute: The query uses formal vocabulary." in out
    code, out, _ = invoke(monkeypatch, capsys, "surf", "top", str(tmp_path / "run"), "--json")
    assert json.loads(out.splitlines()[0])["rank"] == 1


def _bad_rubric(tmp_path: Path) -> str:
    data = yaml.safe_load(rubric_text("code"))
    del data["bands"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda t: ["--rubric", _bad_rubric(t), *ROLES], "field 'bands' is missing"),
        (lambda t: ["--rubric", "nope", *ROLES], "unknown rubric 'nope'"),
        (lambda t: ["--rubric", "code", "--pool", str(t / "missing.txt"), *ROLES], "does not exist"),
        (lambda t: ["--rubric", "code", "--pool", str(t / "empty.txt"), *ROLES], "is empty"),
        (lambda t: ["--rubric", "code", "--pool", str(t / "two.txt"), *ROLES], "max k 5 is larger than the attribute pool"),
        (lambda t: ["--rubric", "code", "--target", "openai-compatible/t", "--generator", "openai-compatible/g"], "no model given for role judge"),
        (lambda t: ["--rubric", "code", *ROLES[:4], "--judge", "bogus/x"], "unknown model provider"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path: Path, args, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SURFTURF_TARGET", "SURFTURF_GENERATOR", "SURFTURF_JUDGE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty.txt").write_text("\n")
    (tmp_path / "two.txt").write_text("The query is short.\nThe query is long.\n")
    code, out, err = invoke(monkeypatch, capsys, "surf", "run", "--out", str(tmp_path / "run"),
                            "--target-base-url", "http://127.0.0.1:9/v1", "--generator-base-url", "http://127.0.0.1:9/v1",
                            "--judge-base-url", "http://127.0.0.1:9/v1", *args(tmp_path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and message in err
    assert not (tmp_path / "run" / "candidates.jsonl").exists()


def test_top_of_a_folder_that_is_not_a_run(monkeypatch, capsys, tmp_path: Path) -> None:
    code, _, err = invoke(monkeypatch, capsys, "surf", "top", str(tmp_path))
    assert code == 2 and "not a SURF run directory" in err
