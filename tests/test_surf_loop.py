"""The SURF loop against a real local HTTP server with a scripted world: a target that writes code
whenever the query uses formal vocabulary, and a judge that scores code answers high."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from surfturf.errors import UserError
from surfturf.models import Budget, GenerateConfig, ModelSession
from surfturf.rubrics import load_rubric
from surfturf.surf import RoleSpec, SurfConfig, judge_one, load_candidates, load_findings, load_manifest, run_surf
from surfturf.testing.server import FakeLLMServer
from surfturf.testing.surf import scripted_config

TRIGGER = "The query uses formal vocabulary."
WORDS = ("amber basalt cedar dune ember fjord glacier harbor iris jasper kelp lagoon meadow nectar orchid "
         "prairie quartz reef savanna tundra umber valley willow xenon yarrow zephyr acorn birch coral delta "
         "estuary fern grotto heath islet juniper knoll lichen marsh nimbus oasis pebble quarry ridge "
         "sorrel thicket upland vale wetland yew zinnia alder bramble canyon").split()
TOPICS = [" ".join(WORDS[3 * i:3 * i + 3]) for i in range(19)]
POOL = [TRIGGER] + [f"The query is about {topic}." for topic in TOPICS]


def scripted(messages: list[dict], model: str) -> str:
    """generator: a query naming its attributes; target: code for formal queries; judges score code."""
    text = messages[-1]["content"]
    if model == "generator":
        block = text.split("<attributes>")[1].split("</attributes>")[0]
        attributes = re.findall(r"^- The query (.*)$", block, re.M)
        return "Here you go:\n<query>" + ", ".join(" ".join(a.split()[::-1]) for a in attributes) + "?</query>"
    query = text.split("<query>")[1].split("</query>")[0] if model.startswith("judge") else text
    if model == "target":
        if "silent" in query:
            return ""
        return "```python\nprint('peace')\n```" if "formal" in query else "Peace is the absence of conflict."
    if "garbled" in query:
        return "I would rather not give a number."
    code = "```" in text.split("<response>")[1]
    high = {"judge": 90, "judge-b": 60, "judge-c": 10}[model]
    return f"<reason>{'Code for a plain question.' if code else 'Plain prose.'}</reason>\n<score>{high if code else 20}</score>"


@pytest.fixture
def pool_file(tmp_path: Path) -> Path:
    path = tmp_path / "pool.txt"
    path.write_text("\n".join(POOL) + "\n")
    return path


def make_config(server: FakeLLMServer, pool: Path, **overrides) -> SurfConfig:
    return scripted_config(server, pool, **(dict(runs=2, iterations=6, candidates=16, seed=7) | overrides))


def violation_rate(records: list[dict], from_iteration: int) -> float:
    late = [r for r in records if r["iteration"] >= from_iteration]
    return sum(r["violation"] for r in late) / len(late)


async def test_surf_concentrates_on_the_trigger_and_beats_random(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(scripted) as server:
        rates = {}
        for strategy in ("surf", "random"):
            async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=8) as session:
                config = make_config(server, pool_file, strategy=strategy, iterations=5, candidates=12)
                summary = await run_surf(config, session, tmp_path / strategy)
            assert summary.status == "complete"
            assert summary.candidates == 2 * 5 * 12 and summary.errors == 0
            rates[strategy] = violation_rate(load_candidates(tmp_path / strategy), from_iteration=2)
    # Uniform sampling includes the trigger in about E[k]/20 = 15% of candidates; SURF's weights
    # put it in most of them (its buffer entries all carry the trigger).
    assert rates["surf"] > 0.5, rates
    assert rates["surf"] > 2.5 * rates["random"], rates
    iterations = [json.loads(line) for line in (tmp_path / "surf" / "iterations.jsonl").read_text().splitlines()]
    assert len(iterations) == 10 and {(i["run"], i["iteration"]) for i in iterations} == {(r, t) for r in range(2) for t in range(5)}
    last = [i for i in iterations if i["iteration"] == 4]
    assert all(i["top_weights"][0][0] == TRIGGER for i in last)
    assert all(i["top_weights"][0][1] > 4 / len(POOL) for i in last), last  # 4x its uniform share
    findings = load_findings(tmp_path / "surf")
    assert findings and all(f["violation"] and TRIGGER in f["attributes"] for f in findings)
    assert [f["rank"] for f in findings] == list(range(1, len(findings) + 1))
    queries = [f["query"] for f in findings]
    assert len(set(queries)) == len(queries)
    manifest = load_manifest(tmp_path / "surf")
    assert manifest["status"] == "complete"
    assert manifest["config"]["rubric"] == "code" and "principle:" in manifest["config"]["rubric_text"]
    assert manifest["config"]["pool"]["size"] == len(POOL)
    assert manifest["models"]["judge"] == ["openai-compatible/judge"]


async def test_every_candidate_has_one_to_max_k_attributes(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(scripted) as server:
        async with ModelSession(cache_dir=None, max_concurrency=8) as session:
            await run_surf(make_config(server, pool_file, runs=1, iterations=2, max_k=3), session, tmp_path / "run")
    for record in load_candidates(tmp_path / "run"):
        assert 1 <= len(record["attributes"]) <= 3
        assert len(set(record["attributes"])) == len(record["attributes"])


async def test_warm_cache_replays_identically_without_calls(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(scripted) as server:
        config = make_config(server, pool_file, iterations=3)
        async with ModelSession(cache_dir=tmp_path / "cache") as session:
            await run_surf(config, session, tmp_path / "first")
        server.reset_counts()
        async with ModelSession(cache_dir=tmp_path / "cache") as session:
            await run_surf(config, session, tmp_path / "second")
        assert server.requests == 0
    strip = lambda rows: sorted(({k: v for k, v in r.items() if k not in {"time_s", "calls", "cost_usd"}} for r in rows), key=lambda r: r["id"])  # noqa: E731
    assert strip(load_candidates(tmp_path / "first")) == strip(load_candidates(tmp_path / "second"))
    assert [f["id"] for f in load_findings(tmp_path / "first")] == [f["id"] for f in load_findings(tmp_path / "second")]


async def test_failures_are_recorded_errors_never_zero_scores(tmp_path: Path) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text("The query is garbled.\nThe query is silent.\nThe query uses formal vocabulary.\n")
    async with FakeLLMServer(scripted) as server:
        async with ModelSession(cache_dir=None) as session:
            summary = await run_surf(make_config(server, pool, runs=1, iterations=2, candidates=12, max_k=1), session, tmp_path / "run")
    records = load_candidates(tmp_path / "run")
    parse = [r for r in records if r["error"] and r["error"].startswith("parse:")]
    empty = [r for r in records if r["error"] == "target: empty response"]
    assert parse and empty and summary.errors == len(parse) + len(empty)
    assert all(r["score"] is None and not r["violation"] for r in parse + empty)
    assert all("rather not" in r["raw"] for r in parse)
    assert all(r["judges"][0]["error"].startswith("parse:") for r in parse)
    buffered = {i for line in (tmp_path / "run" / "iterations.jsonl").read_text().splitlines() for i in json.loads(line)["buffer"]}
    assert buffered.isdisjoint({r["id"] for r in parse + empty})


async def test_judge_panel_combines_and_records_disagreement(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(scripted) as server:
        panel = [RoleSpec(spec=f"openai-compatible/{name}", base_url=server.base_url) for name in ("judge", "judge-b", "judge-c")]
        async with ModelSession(cache_dir=None) as session:
            await run_surf(make_config(server, pool_file, runs=1, iterations=2, judges=panel, panel_combine="median"), session, tmp_path / "median")
            await run_surf(make_config(server, pool_file, runs=1, iterations=2, judges=panel[:2]), session, tmp_path / "mean")
    code = [r for r in load_candidates(tmp_path / "median") if "formal" in r["query"]]
    assert code and all(r["score"] == 60 and r["disagreement"] == 80 and len(r["judges"]) == 3 for r in code)
    mean = [r for r in load_candidates(tmp_path / "mean") if "formal" in r["query"]]
    assert mean and all(r["score"] == 75 and r["disagreement"] == 30 for r in mean)


async def test_early_stop_after_patience_iterations_without_improvement(tmp_path: Path) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text("".join(f"The query is about {topic}.\n" for topic in TOPICS[:8]))
    async with FakeLLMServer(scripted) as server:
        async with ModelSession(cache_dir=None) as session:
            summary = await run_surf(make_config(server, pool, runs=1, iterations=10, candidates=6, patience=2), session, tmp_path / "run")
    assert summary.runs[0]["status"] == "early stop" and summary.runs[0]["iterations"] == 3
    assert len((tmp_path / "run" / "iterations.jsonl").read_text().splitlines()) == 3


async def test_stop_at_ends_each_run_at_its_first_finding(tmp_path: Path) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text(TRIGGER + "\n")
    async with FakeLLMServer(scripted) as server:
        async with ModelSession(cache_dir=None) as session:
            summary = await run_surf(make_config(server, pool, runs=2, iterations=5, candidates=4, max_k=1, stop_at=70),
                                     session, tmp_path / "run")
    assert [(r["status"], r["iterations"]) for r in summary.runs] == [("found", 1), ("found", 1)]
    assert len(load_candidates(tmp_path / "run")) == 2 * 4


async def test_budget_stop_then_resume_completes_without_duplicates(tmp_path: Path, pool_file: Path, capsys) -> None:
    async with FakeLLMServer(scripted) as server:
        config = make_config(server, pool_file, iterations=3, candidates=10)
        async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=4, budget=Budget(max_calls=45)) as session:
            stopped = await run_surf(config, session, tmp_path / "run")
        assert stopped.status.startswith("stopped: budget")
        assert "stopped: budget" in capsys.readouterr().err
        assert load_manifest(tmp_path / "run")["status"].startswith("stopped: budget")
        partial = load_candidates(tmp_path / "run")
        assert 0 < len(partial) < 60
        assert all(r["error"] is None or not r["error"].startswith(("generator: budget", "target: budget", "judge: budget")) for r in partial)
        async with ModelSession(cache_dir=tmp_path / "cache", max_concurrency=4) as session:
            done = await run_surf(config, session, tmp_path / "run")
    assert done.status == "complete"
    ids = [r["id"] for r in load_candidates(tmp_path / "run")]
    assert len(ids) == len(set(ids)) == 60
    assert set(r["id"] for r in partial) <= set(ids)


async def test_bad_inputs_are_user_errors(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(scripted) as server:
        async with ModelSession(cache_dir=None) as session:
            with pytest.raises(UserError, match="max k 5 is larger than the attribute pool"):
                tiny = tmp_path / "tiny.txt"
                tiny.write_text("The query is short.\nThe query is long.\n")
                await run_surf(make_config(server, tiny), session, tmp_path / "a")
            await run_surf(make_config(server, pool_file, runs=1, iterations=1, candidates=2), session, tmp_path / "b")
            with pytest.raises(UserError, match="different rubric"):
                await run_surf(make_config(server, pool_file, runs=1, iterations=1, candidates=2, rubric="math"), session, tmp_path / "b")
            (tmp_path / "other").mkdir()
            (tmp_path / "other" / "notes.txt").write_text("mine")
            with pytest.raises(UserError, match="not empty and holds no SURF run"):
                await run_surf(make_config(server, pool_file, runs=1, iterations=1, candidates=2), session, tmp_path / "other")


async def test_judge_one_with_extended_thinking_over_anthropic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    seen: list[str] = []

    def judge(messages: list[dict], model: str) -> str:
        seen.append(model)
        return "<reason>Python for a philosophy question.</reason><score>88</score>"

    async with FakeLLMServer(judge) as server:
        async with ModelSession(cache_dir=None) as session:
            model = session.model("judge", "anthropic/claude-judge", GenerateConfig(thinking_budget=1024), base_url=server.root_url)
            outcome = await judge_one([model], load_rubric("code"), "Elucidate peace.", "```python\nclass Peace: ...\n```")
    assert seen == ["claude-judge"]
    assert outcome.score == 88 and outcome.reason == "Python for a philosophy question." and outcome.error is None
    assert outcome.disagreement is None and outcome.judges[0]["model"] == "anthropic/claude-judge"


async def test_more_iterations_extend_a_finished_run(tmp_path: Path, pool_file: Path) -> None:
    async with FakeLLMServer(scripted) as server:
        async with ModelSession(cache_dir=None) as session:
            await run_surf(make_config(server, pool_file, runs=1, iterations=1, candidates=4), session, tmp_path / "run")
            first = load_candidates(tmp_path / "run")
            server.reset_counts()
            summary = await run_surf(make_config(server, pool_file, runs=1, iterations=2, candidates=4), session, tmp_path / "run")
            assert server.requests == 4 * 3
    records = load_candidates(tmp_path / "run")
    assert summary.status == "complete" and records[:4] == first and len(records) == 8
    assert {r["iteration"] for r in records[4:]} == {1}
