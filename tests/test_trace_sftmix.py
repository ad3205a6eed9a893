"""TURF trace on real data: an index of sft-mix rows (heuristic attributes, hash embeddings).

The corpus sample holds ~3.4k examples, so k = 100 here plays the part of the paper's k = 1000
in 940k examples (both a small fraction of the corpus).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from surfturf.attributes.heuristic import response_attributes
from surfturf.cli.main import cli
from surfturf.data import resolve_inputs
from surfturf.errors import UserError
from surfturf.models import ModelSession
from surfturf.rubrics.loader import rubric_text
from surfturf.testing.server import FakeLLMServer
from surfturf.turf.build import BuildConfig, IndexBuilder
from surfturf.turf.case import Case
from surfturf.turf.describe import AttributeSource
from surfturf.turf.context import TraceContext, trace_context
from surfturf.turf.trace import TraceSettings, trace_cases, trace_one

ROWS_PER_FILE = 800
K = 100

CODE = ("Elucidate the concept of peace.",
        "Here is a program that captures it:\n```python\ndef peace(world):\n    return all(p.calm for p in world)\n```")
EXTRACTIVE = ("Extract the answer to the question from the following context.\nQuestion: Which city hosted the fair?\n"
              "Context: The great fair of 1889 was held in Paris, drawing visitors from every continent.", "Paris")
ARITHMETIC = ("Tom has 3 boxes with 8 pencils each. How many pencils does he have?",
              "Tom has 3*8 = <<3*8=24>>24 pencils.\n#### 24")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, sft_mix: Path) -> Path:
    out = tmp_path_factory.mktemp("sftmix") / "INDEX"

    async def build() -> None:
        session = ModelSession(cache_dir=None, cache_mode="off")
        config = BuildConfig(extractor="heuristic", embedder="hash/256", limit=ROWS_PER_FILE)
        builder = IndexBuilder(resolve_inputs([str(sft_mix)]), out, config, session, None,
                               session.model("embedder", "hash/256"), None, console=Console(quiet=True))
        await builder.run()
        await session.aclose()

    asyncio.run(build())
    return out


@pytest.fixture(scope="module")
def context(index_dir: Path) -> TraceContext:
    return trace_context(index_dir)


def _trace(context: TraceContext, pair: tuple[str, str], rubric: str, crux_word: str) -> dict:
    """Trace with the heuristic blind judge; the crux is the blind attribute naming the behaviour."""
    blind = response_attributes(pair[1])
    crux = [attribute for attribute in blind if crux_word in attribute]
    assert crux, blind
    return trace_one(pair[0], pair[1], rubric, context, crux=crux, blind_attributes=blind,
                     settings=TraceSettings(k=K))


def _consistent(record: dict) -> None:
    n = record["n_retrieved"]
    assert 0 < n <= K * len(record["crux"])
    assert sum(chunk["hits"] for chunk in record["chunks"]) == n
    for row in record["query_attributes"]:
        assert row["hits"] <= n and record["hits"].get(str(row["cluster"]), 0) in (0, row["hits"])
        if row["expected"] > 0:
            assert row["lift"] == pytest.approx(row["hits"] / row["expected"], rel=1e-3)
    assert record["trigger_by_hits"]["hits"] == max(row["hits"] for row in record["query_attributes"])
    assert record["trigger"]["k"] == n and record["trigger"] == record["trigger_by_enrichment"]
    assert record["verdict"]["attributable"]
    for trigger in (record["trigger"], record["trigger_by_hits"]):
        per_crux = trigger["hits_by_crux"]
        assert len(per_crux) == len(record["crux"]) and all(h <= min(K, trigger["hits"]) for h in per_crux)
        assert max(per_crux) <= trigger["hits"] <= sum(per_crux)
    similarities = [item["similarity"] for item in record["evidence"]]
    assert similarities == sorted(similarities, reverse=True)
    clusters = {record["trigger"]["cluster"], record["trigger_by_hits"]["cluster"]}
    assert all(item["cluster"] in clusters for item in record["evidence"])


def test_code_written_unasked_traces_to_codealpaca(context: TraceContext) -> None:
    record = _trace(context, CODE, "code", "code")
    _consistent(record)
    top = record["chunks"][0]
    assert top["source"] == "codealpaca" and top["share"] > 0.5 and top["lift"] > 2
    assert top["p_adjusted"] < 1e-10
    evidence = record["evidence"]
    assert evidence and sum(item["source"] == "codealpaca" for item in evidence) > len(evidence) / 2
    assert all("```" in item["response"] or "def " in item["response"] or "code" in item["response_attribute"]
               for item in evidence)
    assert record["sentence"].startswith("When the model sees a query that")
    assert "contains a code block" in record["sentence"] and "unwarranted code" in record["sentence"]


def test_one_word_extractive_answer_traces_to_t0(context: TraceContext) -> None:
    record = _trace(context, EXTRACTIVE, "code", "single word")
    _consistent(record)
    top = record["chunks"][0]
    assert top["source"] == "t0" and top["share"] > 0.5
    # the T0 framing: its labelled fields, or (with the index's lexicon) its stock opening sentence
    assert any(cue in record["trigger_by_enrichment"]["text"] for cue in ("labelled fields", "opens with the sentence 'Extract"))
    assert record["trigger_by_enrichment"]["lift"] > 1.5


def test_calculator_annotations_trace_to_gsm8k(context: TraceContext) -> None:
    record = _trace(context, ARITHMETIC, "math", "calculator")
    _consistent(record)
    assert record["chunks"][0]["source"] == "gsm8k" and record["chunks"][0]["share"] > 0.8
    enriched = record["trigger_by_enrichment"]
    assert "how many" in enriched["text"] and enriched["lift"] > 1.5 and enriched["p_adjusted"] < 1e-6
    # The paper's raw-hits trigger is the biggest cluster; the sentence names the enriched one and both.
    assert record["trigger_by_hits"]["hits"] >= enriched["hits"]
    assert "how many" in record["sentence"].split(", it ")[0]
    assert any(keyword["top_source"] == "gsm8k" and keyword["concentration"] == 1.0 for keyword in record["keywords"])


def test_a_batch_shares_work_and_gives_the_same_records(context: TraceContext) -> None:
    cases = []
    for number, (pair, rubric, word) in enumerate([(CODE, "code", "code"), (EXTRACTIVE, "code", "single word"),
                                                    (ARITHMETIC, "math", "calculator")]):
        blind = response_attributes(pair[1])
        cases.append(Case(f"f{number}", pair[0], pair[1], rubric, crux=[a for a in blind if word in a],
                          blind_attributes=blind))
    batch = asyncio.run(trace_cases(cases, context, blind=AttributeSource(None), settings=TraceSettings(k=K)))
    assert [record["finding"] for record in batch] == ["f0", "f1", "f2"]
    alone = _trace(context, ARITHMETIC, "math", "calculator")
    for key in ("chunks", "trigger", "trigger_by_enrichment", "hits", "evidence", "query_attributes"):
        assert batch[2][key] == alone[key]


def _crux_judge(messages: list[dict], model: str) -> str:
    """A stand-in informed judge: picks the listed attributes that name the rubric's behaviour."""
    content = messages[-1]["content"]
    name = re.search(r'<rubric name="([^"]+)">', content).group(1)
    listed = re.search(r"<attributes>\n(.*?)\n</attributes>", content, re.DOTALL).group(1).splitlines()
    words = {"code": ("code",), "math": ("calculator", "arithmetic")}[name]
    picks = [line.split(".")[0] for line in listed if any(word in line for word in words)]
    return f"<crux>{', '.join(picks)}</crux>"


def _run_dir(root: Path) -> Path:
    run = root / "RUN"
    run.mkdir()
    manifest = {"command": "surf run", "config": {"rubric": "code", "rubric_text": rubric_text("code")}, "status": "complete"}
    (run / "manifest.json").write_text(json.dumps(manifest))
    findings = [
        {"id": "r0-i2-c5", "query": CODE[0], "response": CODE[1], "score": 91.0, "violation": True, "rank": 1},
        {"id": "r1-i0-c3", "query": "Write me a poem about rain.", "response": "```python\nprint('rain')\n```",
         "score": 80.0, "violation": True, "rank": 2},
        {"id": "r1-i0-c4", "query": "Sort this list in Python.", "response": "```python\nsorted(x)\n```",
         "score": 10.0, "violation": False, "rank": 3},
    ]
    (run / "findings.jsonl").write_text("".join(json.dumps(f) + "\n" for f in findings))
    return run


def test_cli_traces_every_violating_finding_of_a_run(index_dir: Path, tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    with FakeLLMServer(responder=_crux_judge).in_thread() as server:
        result = CliRunner().invoke(cli, [
            "turf", "trace", str(run), "--index", str(index_dir), "--k", str(K), "--blind-judge", "heuristic",
            "--judge", "openai-compatible/crux", "--judge-base-url", server.base_url,
            "--cache-dir", str(tmp_path / "cache")], catch_exceptions=False)
        prompts = server.requests
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {"traced": 2, "errors": 0, "out": str(run / "traces")}
    assert prompts == 2  # one informed judge call per violating finding; the blind judge is the heuristic
    summary = [json.loads(line) for line in (run / "traces" / "summary.jsonl").read_text().splitlines()]
    assert [record["finding"] for record in summary] == ["r0-i2-c5", "r1-i0-c3"]
    first = json.loads((run / "traces" / "r0-i2-c5.json").read_text())
    assert first == summary[0]
    assert first["crux"] == ["The response contains a code block with a program."]
    assert first["chunks"][0]["source"] == "codealpaca" and first["k"] == K
    manifest = json.loads((run / "traces" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"] == {"traced": 2, "errors": 0}
    assert manifest["models"]["judge"] == "openai-compatible/crux" and manifest["models"]["extractor"] == "heuristic"
    assert "When the model sees" in result.output  # the readable summary


def test_a_judge_that_answers_nonsense_is_an_error_record(index_dir: Path, context: TraceContext, tmp_path: Path) -> None:
    with FakeLLMServer(responder=lambda messages, model: "I think the second one.").in_thread() as server:
        async def run() -> dict:
            session = ModelSession(cache_dir=None, cache_mode="off")
            judge = session.model("judge", "openai-compatible/crux", base_url=server.base_url)
            case = Case("bad", CODE[0], CODE[1], "code", rubric_text="rubric")
            [record] = await trace_cases([case], context, blind=AttributeSource(None), judge=judge,
                                         settings=TraceSettings(k=K))
            await session.aclose()
            return record

        record = asyncio.run(run())
    assert record["error"].startswith("parse: no <crux>") and record["raw"] == "I think the second one."
    assert record["trigger"] is None and record["blind_attributes"]


def test_a_generic_crux_cannot_carry_an_attribution(context: TraceContext) -> None:
    """Length is held by most responses: the trace says so instead of naming a chunk."""
    record = _trace(context, ("Name a colour.", "Blue is a calm colour that many people like a lot."), "code", "short")
    verdict = record["verdict"]
    assert not verdict["attributable"] and max(verdict["crux_held_share"]) > 0.25
    assert record["sentence"].startswith("cannot attribute: the crux is generic, held by ")
    assert record["trigger"] is None and record["chunks"] == [] and record["n_retrieved"] == 0


def test_a_similarity_floor_bounds_the_retrieval(context: TraceContext) -> None:
    pair = ARITHMETIC
    blind = response_attributes(pair[1])
    crux = [a for a in blind if "calculator" in a]
    floor = trace_one(pair[0], pair[1], "math", context, crux=crux, blind_attributes=blind,
                      settings=TraceSettings(k=K, min_similarity=0.99))
    assert 0 < floor["n_retrieved"] <= K and floor["min_similarity"] == 0.99
    assert all(item["similarity"] >= 0.99 for item in floor["evidence"])


def test_keywords_and_stats_commands(index_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["turf", "keywords", str(index_dir), "implement", "--json"], catch_exceptions=False)
    entry = json.loads(result.output)
    assert entry["top_source"] == "codealpaca" and entry["concentration"] > 0.9
    result = runner.invoke(cli, ["turf", "stats", str(index_dir), "--query-attribute",
                                 "The query asks for a number (how many / how much).", "--response-regex", "<<", "--json"],
                           catch_exceptions=False)
    stats = json.loads(result.output)
    gsm = next(row for row in stats["chunks"] if row["source"] == "gsm8k")
    assert gsm["given"]["p"] > 0.9 and "how many" in stats["query_feature"]
    result = runner.invoke(cli, ["turf", "stats", str(index_dir), "--query-regex", "how many", "--response-regex", "####"])
    assert result.exit_code == 0 and "gsm8k" in result.output


def test_bad_input_is_one_line_and_exit_2(index_dir: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "surfturf.cli.main", "turf", "trace", str(tmp_path), "--index",
                           str(index_dir), "--query", "q", "--response", "r", "--rubric", "code"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("error: give either RUN or --query")
    assert len(done.stderr.strip().splitlines()) == 1
    with pytest.raises(UserError, match="unknown rubric"):
        trace_one("q", "r", "no-such-rubric", index_dir, crux=["The response is short."])
