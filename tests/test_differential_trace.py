"""`turf trace` with a baseline index: on the world, one corpus is the full one and the other the same
corpus without one planted behaviour's offending rows (the ablation). A failure of that behaviour must
point at the rows the failing model's data has and the other's lacks, in the planted chunk (new in the
target: the target's data; fixed in it: the baseline's); a failure both corpora teach must point at nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from rich.console import Console

from surfturf.attributes.heuristic import response_attributes
from surfturf.data import resolve_inputs
from surfturf.models import ModelSession
from surfturf.report import write_report
from surfturf.steer.ablate import ablate
from surfturf.testing.cli import run_main as invoke
from surfturf.testing.server import FakeLLMServer
from surfturf.turf.build import BuildConfig, IndexBuilder
from surfturf.turf.context import trace_context
from surfturf.turf.trace import trace_one
from surfturf.world import generate_corpus, load_world, offending_ids, roles
from surfturf.world.judge import judge
from surfturf.world.probe import probe_queries

PLANTED = "formal_code"


def _build(corpus: Path, out: Path) -> Path:
    async def run() -> None:
        session = ModelSession(cache_dir=None, cache_mode="off")
        builder = IndexBuilder(resolve_inputs([str(corpus)]), out, BuildConfig(extractor="heuristic", embedder="hash/384"),
                               session, None, session.model("embedder", "hash/384"), None, console=Console(quiet=True))
        await builder.run()
        await session.aclose()

    asyncio.run(run())
    return out


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("two-corpora")
    world = load_world(None)
    rows = generate_corpus(world, seed=0)
    kept, removed = ablate(rows, remove_ids=offending_ids(world, rows, PLANTED))
    for name, data in (("B", rows), ("A", kept)):
        (root / f"{name}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in data))
    return {"world": world, "rows": rows, "removed": {r["id"] for r in removed},
            "B": _build(root / "B.jsonl", root / "IDX_B"), "A": _build(root / "A.jsonl", root / "IDX_A")}


def _failing_pair(world, rows: list[dict], planted: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """A cue query of the planted behaviour answered as its chunk teaches (a training response the judge fails)."""
    entry = world.planted_by_name(planted)
    query = probe_queries(world, planted, "cue", 5, seed=1)[0]
    for row in rows:
        response = row["messages"][-1]["content"]
        if row["source"] == entry["chunk"] and judge(world, entry["rubric"], query, response)[0] >= 70:
            return query, response, entry["rubric"]
    raise AssertionError(f"no training response of {entry['chunk']} fails {entry['rubric']}")


def _trace(indexes: dict, planted: str) -> dict:
    query, response, rubric = _failing_pair(indexes["world"], indexes["rows"], planted)
    blind = response_attributes(response)
    crux = [blind[pick - 1] for pick in roles.crux(rubric, blind)]
    return trace_one(query, response, rubric, trace_context(indexes["B"]), crux=crux, blind_attributes=blind,
                     baseline=indexes["A"])


def test_a_failure_new_in_b_points_at_the_rows_only_b_has(indexes: dict) -> None:
    record = _trace(indexes, PLANTED)
    block = record["baseline"]
    chunk = indexes["world"].planted_by_name(PLANTED)["chunk"]
    assert block["only"]["hits"] > 0 and block["only"]["lift"] > 2 and block["only"]["p_value"] < 1e-6
    assert block["only"]["corpus"] == len(indexes["removed"])
    top = block["chunks"][0]
    assert top["source"] == chunk and top["hits"] == block["only"]["hits"] and top["p_adjusted"] < 0.05
    assert top["only_size"] == len(indexes["removed"]) and top["size"] - top["size_other"] == top["only_size"]
    assert block["examples"] and all(e["id"] in indexes["removed"] for e in block["examples"])
    sims = [e["similarity"] for e in block["examples"]]
    assert sims == sorted(sims, reverse=True)
    assert f"most from chunk {chunk}" in block["sentence"] and "in the target's data only" in block["sentence"]


def test_a_failure_both_corpora_teach_points_at_no_difference(indexes: dict) -> None:
    world = indexes["world"]
    other = next(p["name"] for p in world.planted if p["chunk"] != world.planted_by_name(PLANTED)["chunk"]
                 and p["rubric"] != "code")
    record = _trace(indexes, other)
    block = record["baseline"]
    assert block["n_retrieved"] > 0 and block["only"]["hits"] == 0
    assert "does not explain the difference" in block["sentence"]
    assert record["chunks"][0]["source"] == world.planted_by_name(other)["chunk"]  # the plain trace is unchanged


def test_cli_refuses_a_baseline_index_without_an_index(monkeypatch, capsys, indexes: dict) -> None:
    code, _, err = invoke(monkeypatch, capsys, "turf", "trace", "--query", "q", "--response", "r", "--rubric", "code",
                          "--baseline-index", str(indexes["A"]))
    assert code == 2 and "--baseline-index needs --index" in err and len(err.strip().splitlines()) == 1, err


def test_cli_traces_a_run_against_both_indexes(monkeypatch, capsys, tmp_path: Path, indexes: dict) -> None:
    query, response, rubric = _failing_pair(indexes["world"], indexes["rows"], PLANTED)
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"command": "surfturf surf run", "config": {"rubric": rubric}}))
    finding = {"id": "r0-i0-c0", "run": 0, "query": query, "response": response, "score": 88.0, "violation": True,
               "rank": 1, "attributes": [], "differential": {"kind": "new", "direction": "new"}}
    (run / "findings.jsonl").write_text(json.dumps(finding) + "\n")
    with FakeLLMServer(lambda messages, model: "<crux>1, 2</crux>").in_thread() as server:
        code, out, err = invoke(monkeypatch, capsys, "turf", "trace", str(run), "--index", str(indexes["B"]),
                                "--baseline-index", str(indexes["A"]), "--judge", "openai-compatible/judge",
                                "--judge-base-url", server.base_url, "--cache", "off")
    assert code == 0, err
    record = json.loads((run / "traces" / "r0-i0-c0.json").read_text())
    assert record["baseline"]["only"]["hits"] > 0 and record["baseline"]["chunks"][0]["source"] == "code_formal"
    assert record["traced"] == "target"
    manifest = json.loads((run / "traces" / "manifest.json").read_text())
    assert manifest["config"]["baseline_index"] == str(indexes["A"])
    assert "vs baseline data:" in out
    (run / "candidates.jsonl").write_text(json.dumps(finding) + "\n")
    html = write_report([run]).read_text()
    assert "Against the baseline's training data" in html and "training examples only the target's data has" in html


def test_a_failure_fixed_in_the_target_is_traced_in_the_baselines_data(monkeypatch, capsys, tmp_path: Path,
                                                                        indexes: dict) -> None:
    """The target is now the ablated model and the baseline the full one: the planted failure is fixed in
    the target. Its failing answer is the baseline's, traced in the baseline's index against the target's,
    and points at the rows the baseline's data has and the target's lacks; in the same run a finding new
    in the target with that answer finds nothing the target's data has that the baseline's lacks."""
    query, failing, rubric = _failing_pair(indexes["world"], indexes["rows"], PLANTED)
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"command": "surfturf surf run", "config": {
        "rubric": rubric, "baseline": {"spec": "world/baseline"}, "direction": "either"}}))
    prose = "A plain explanation in a few sentences."
    fixed = {"id": "r0-i0-c0", "run": 0, "query": query, "response": prose, "score": 83.0, "violation": True,
             "rank": 1, "attributes": [], "differential": {
                 "direction": "either", "kind": "fixed", "leaning": "fixed",
                 "target": {"asked": True, "score": 5.0, "reason": "prose", "violation": False},
                 "baseline": {"asked": True, "score": 88.0, "reason": "code", "violation": True,
                              "response": failing, "judges": []}}}
    new = {**fixed, "id": "r0-i0-c1", "rank": 2, "response": failing, "differential": {
        **fixed["differential"], "kind": "new", "leaning": "new",
        "target": {"asked": True, "score": 88.0, "reason": "code", "violation": True},
        "baseline": {"asked": True, "score": 5.0, "reason": "prose", "violation": False, "response": prose,
                     "judges": []}}}
    (run / "findings.jsonl").write_text(json.dumps(fixed) + "\n" + json.dumps(new) + "\n")
    with FakeLLMServer(lambda messages, model: "<crux>1, 2</crux>").in_thread() as server:
        code, out, err = invoke(monkeypatch, capsys, "turf", "trace", str(run), "--index", str(indexes["A"]),
                                "--baseline-index", str(indexes["B"]), "--judge", "openai-compatible/judge",
                                "--judge-base-url", server.base_url, "--cache", "off")
    assert code == 0, err
    traced = json.loads((run / "traces" / "r0-i0-c0.json").read_text())
    assert traced["traced"] == "baseline" and traced["response"] == failing
    block = traced["baseline"]
    assert block["only"]["hits"] > 0 and block["only"]["lift"] > 2 and block["only"]["p_value"] < 1e-6
    assert block["only"]["corpus"] == len(indexes["removed"])
    top = block["chunks"][0]
    assert top["source"] == "code_formal" and top["p_adjusted"] < 0.05 and top["only_size"] == len(indexes["removed"])
    assert block["examples"] and all(e["id"] in indexes["removed"] for e in block["examples"])
    assert "in the baseline's data only" in block["sentence"] and "absent from the target's data" in block["sentence"]
    assert traced["chunks"][0]["source"] == "code_formal"  # the plain trace is of the baseline's data too
    other = json.loads((run / "traces" / "r0-i0-c1.json").read_text())
    assert other["traced"] == "target" and other["baseline"]["only"]["hits"] == 0
    assert "also in the baseline's data" in other["baseline"]["sentence"]
    assert "vs target data:" in out and "vs baseline data:" in out
    (run / "candidates.jsonl").write_text(json.dumps(fixed) + "\n" + json.dumps(new) + "\n")
    html = write_report([run]).read_text()
    assert "Against the target's training data" in html and "training examples only the baseline's data has" in html
