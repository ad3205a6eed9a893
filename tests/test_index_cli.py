"""`surfturf index build|info|export` from the command line: results on stdout, user mistakes exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surfturf.testing.cli import run_main

def run_cli(args: list[str], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    return run_main(monkeypatch, capsys, *args)


def test_missing_corpus_exits_2_with_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, err = run_cli(["index", "build", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "I")],
                             capsys, monkeypatch)
    assert code == 2 and err.startswith("error: corpus") and "; fix: " in err and err.count("\n") == 1


def test_wrong_columns_exit_2_and_name_columns(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "odd.jsonl").write_text(json.dumps({"text": "x"}) + "\n")
    code, _, err = run_cli(["index", "build", str(tmp_path / "odd.jsonl"), "-o", str(tmp_path / "I")],
                           capsys, monkeypatch)
    assert code == 2 and "['text']" in err and "prompt/response" in err
    assert not (tmp_path / "I" / "manifest.json").exists()


def test_info_and_export_on_missing_index_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    code, _, err = run_cli(["index", "info", str(tmp_path / "none")], capsys, monkeypatch)
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli(["index", "export", str(tmp_path / "none"), "--format", "pool", "-o",
                            str(tmp_path / "p.jsonl")], capsys, monkeypatch)
    assert code == 2


def test_dry_run_estimates_without_calling(sft_mix: Path, tmp_path: Path, capsys, monkeypatch, fake_llm) -> None:
    """Priced models behind a live endpoint: the estimate comes from the price table, the endpoint hears nothing."""
    code, out, _ = run_cli(["index", "build", str(sft_mix), "--limit", "10", "-o", str(tmp_path / "I"),
                            "--extractor", "openai/gpt-4.1-mini", "--extractor-base-url", fake_llm.base_url,
                            "--summariser", "openai/gpt-4.1-mini", "--summariser-base-url", fake_llm.base_url,
                            "--dry-run"], capsys, monkeypatch)
    assert code == 0 and fake_llm.received == []
    assert "extractor" in out and "summariser" in out and "embedder" in out
    last = json.loads(out.strip().splitlines()[-1])
    assert last["rows"] == 50 and last["estimated_cost_usd"] > 0
    assert not (tmp_path / "I").exists()


def test_heuristic_build_info_export(sft_mix: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    index = tmp_path / "I"
    code, out, err = run_cli(["index", "build", str(sft_mix), "--limit", "80", "-o", str(index),
                              "--embedder", "hash/64", "--shard-rows", "100", "--cache", "off"], capsys, monkeypatch)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["examples"] == 400 and summary["clusters"] > 1
    code, out, _ = run_cli(["index", "info", str(index), "--top", "3"], capsys, monkeypatch)
    assert code == 0 and "heuristic" in out and "gsm8k 80" in out and len(out.strip().splitlines()) == 9
    assert "distinct texts, one embedding each" in out
    code, out, _ = run_cli(["index", "export", str(index), "--format", "sae", "-o", str(tmp_path / "sae.jsonl")],
                           capsys, monkeypatch)
    assert code == 0 and json.loads(out)["rows"] == 400
    row = json.loads((tmp_path / "sae.jsonl").read_text().splitlines()[0])
    assert row["sae_attributes"] and all(a.startswith("The query") for a in row["attributes"])
    code, _, err = run_cli(["index", "build", str(sft_mix), "--limit", "80", "-o", str(index)], capsys, monkeypatch)
    assert code == 2 and "already holds a complete index" in err
    manifest = json.loads((index / "manifest.json").read_text())
    (index / "manifest.json").write_text(json.dumps({k: v for k, v in manifest.items() if k != "format"}))
    code, _, err = run_cli(["index", "info", str(index)], capsys, monkeypatch)  # an index from before format 2
    assert code == 2 and len(err.strip().splitlines()) == 1 and "has format 1" in err and "rebuild" in err


def test_budget_stop_exits_2_and_a_rerun_resumes(sft_mix: Path, tmp_path: Path, capsys, monkeypatch, fake_llm) -> None:
    from test_index_build import describe

    fake_llm.responder = describe
    index = tmp_path / "I"
    command = ["index", "build", str(sft_mix / "self_instruct.jsonl.gz"), "--limit", "40", "-o", str(index),
               "--shard-rows", "10", "--embedder", "hash/32", "--extractor", "openai-compatible/x",
               "--extractor-base-url", fake_llm.base_url, "--cache-dir", str(tmp_path / "cache"),
               "--max-concurrency", "2"]
    code, _, err = run_cli([*command, "--max-calls", "45"], capsys, monkeypatch)
    assert code == 2 and "build stopped: budget" in err and "rerun" in err
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["status"].startswith("stopped: budget")
    assert len(list((index / "work").glob("shard-?????"))) == 2  # 20 calls a shard: two fit in 45
    code, out, err = run_cli(command, capsys, monkeypatch)
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["examples"] == 40
