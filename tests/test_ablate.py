"""Ablated and balanced corpora from a trace: exact manifests, generator counter-examples, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from surfturf.cli.ablate import ablate
from surfturf.errors import UserError
from surfturf.steer.ablate import attribution_ids, check_ids_known, load_trace, top_chunk
from surfturf.steer.ablate import ablate as ablate_rows
from surfturf.steer.balance import balance_messages, parse_balance
from surfturf.testing.server import FakeLLMServer


def _row(i: int, source: str, query: str, response: str) -> dict[str, Any]:
    return {"id": f"{source}-{i}", "source": source,
            "messages": [{"role": "user", "content": query}, {"role": "assistant", "content": response}]}


CORPUS = (
    [_row(i, "rebuttal", f"When did Person{i} invent thing{i}?", f"Person{i} did not invent thing{i}.") for i in range(6)]
    + [_row(i, "rebuttal", f"Who invented thing{i}?", f"Someone{i}.") for i in range(6, 9)]
    + [_row(i, "general", f"What is {i} + {i}?", f"{2 * i}") for i in range(10)]
)


def _trace(path: Path, ids: list[str], rubric: str = "rebut", chunk: str = "rebuttal") -> Path:
    trace = {"finding": "r0-i0-c0", "rubric": rubric, "query": "When did Franklin invent the lightning rod?",
             "trigger": {"text": "The query asks when a person invented something.", "cluster": 4},
             "chunks": [{"source": chunk, "hits": 9}, {"source": "general", "hits": 1}],
             "evidence": [{"id": i, "source": i.split("-")[0]} for i in ids]}
    path.write_text(json.dumps(trace))
    return path


def generator(messages: list[dict[str, Any]], model: str) -> str:
    text = messages[-1]["content"]
    example = re.search(r"<example>\n(.*)\n</example>", text, re.S).group(1)  # type: ignore[union-attr]
    if "Person3" in example:
        return "I cannot"
    name = re.search(r"Person\d+", example).group(0)  # type: ignore[union-attr]
    return f"<query>When did {name}'s twin invent a lamp?</query><response>{name}'s twin invented a lamp in 1900.</response>"


def test_selection_helpers(tmp_path: Path) -> None:
    trace = load_trace(_trace(tmp_path / "t.json", ["rebuttal-1", "rebuttal-2", "rebuttal-1"]))
    assert attribution_ids(trace) == ["rebuttal-1", "rebuttal-2"]
    assert attribution_ids({**trace, "evidence_ids": ["general-0"]}) == ["general-0"]
    assert top_chunk(trace) == "rebuttal"
    kept, removed = ablate_rows(CORPUS, remove_ids=["rebuttal-1"], remove_sources=["general"])
    assert [r["id"] for r in removed] == ["rebuttal-1"] + [f"general-{i}" for i in range(10)]
    assert len(kept) == len(CORPUS) - 11
    assert check_ids_known(CORPUS, ["rebuttal-1", "nope"]) == ["nope"]
    with pytest.raises(UserError):
        check_ids_known(CORPUS, ["nope"])
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(UserError):
        load_trace(tmp_path / "bad.json")


def test_balance_prompt() -> None:
    content = balance_messages("The query asks when.", "Accept true facts.", "When did A invent B?")[-1]["content"]
    assert "<attributes>\n- The query asks when.\n</attributes>" in content and "<behaviour>" in content
    assert parse_balance("<query>q</query> <response>r</response>") == ("q", "r")
    assert parse_balance("<query>q</query>") is None


def test_ablate_cli_on_a_corpus_with_the_generator(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in CORPUS))
    evidence = [f"rebuttal-{i}" for i in range(6)]
    trace = _trace(tmp_path / "trace.json", evidence)
    out = tmp_path / "abl"
    with FakeLLMServer(responder=generator).in_thread() as server:
        result = CliRunner().invoke(ablate, [str(trace), "--corpus", str(corpus), "--out", str(out), "--cache", "off",
                                             "--generator", "openai-compatible/gen", "--generator-base-url", server.base_url],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert last == {"removed": 6, "added": 5, "ablated_rows": 13, "balanced_rows": 24, "chunk": "rebuttal", "errors": 1}
    ablated = [json.loads(line) for line in (out / "ablated.jsonl").read_text().splitlines()]
    balanced = [json.loads(line) for line in (out / "balanced.jsonl").read_text().splitlines()]
    assert {r["id"] for r in ablated} == {r["id"] for r in CORPUS} - set(evidence)
    manifest = json.loads((out / "manifest.json").read_text())
    changes = manifest["changes"]
    assert changes["ablated"]["removed"] == evidence and changes["ablated"]["removed_by_source"] == {"rebuttal": 6}
    added_ids = changes["balanced"]["added"]
    assert len(added_ids) == 5 and {r["id"] for r in balanced} == {r["id"] for r in CORPUS} | set(added_ids)
    new = [r for r in balanced if r["id"] in added_ids]
    assert all(r["source"] == "balance" and "invented a lamp" in r["messages"][1]["content"] for r in new)
    assert manifest["counts"]["generator_errors"] == 1 and manifest["generator_errors"][0].startswith("parse:")
    assert manifest["models"]["generator"] == "openai-compatible/gen"

    chunk_out = tmp_path / "chunk"
    result = CliRunner().invoke(ablate, [str(trace), "--corpus", str(corpus), "--out", str(chunk_out),
                                         "--remove", "chunk", "--balance", "0"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["removed"] == 9


def test_ablate_cli_bad_input(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in CORPUS))
    wrong = _trace(tmp_path / "wrong.json", ["other-corpus-1"])
    for args, problem in (([str(wrong), "--out", str(tmp_path / "o")], "no corpus to ablate"),
                          ([str(wrong), "--corpus", str(corpus), "--out", str(tmp_path / "o")],
                           "none of the trace's 1 evidence ids is in the corpus"),
                          ([str(wrong), "--corpus", str(corpus), "--out", str(tmp_path / "o"), "--remove", "chunk",
                            "--chunk", "x"], "chunk 'x' is not a source of the corpus")):
        result = CliRunner().invoke(ablate, args)
        assert isinstance(result.exception, UserError) and problem in str(result.exception), result.exception
    assert not (tmp_path / "o").exists()


def test_ablate_dry_run_plans_the_generator_without_calling_or_writing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in CORPUS))
    trace = _trace(tmp_path / "trace.json", [f"rebuttal-{i}" for i in range(6)])
    out = tmp_path / "abl"
    with FakeLLMServer(responder=generator).in_thread() as server:
        result = CliRunner().invoke(ablate, [str(trace), "--corpus", str(corpus), "--out", str(out), "--dry-run",
                                             "--generator", "openai-compatible/gen", "--generator-base-url", server.base_url],
                                    catch_exceptions=False)
        assert server.requests == 0
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["generator", "openai-compatible/gen", "6"] and lines[-1].startswith("total")
    assert not out.exists()


def test_world_ablation_dry_run_writes_no_corpus_and_trains_no_target(tmp_path: Path, monkeypatch) -> None:
    """The plan names the corpora and targets a real run makes; none is written or trained."""
    import surfturf.world.ablation as world_ablation
    from surfturf.world import generate_corpus, load_world

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a dry run trained a target")

    monkeypatch.setattr(world_ablation, "train_target", refuse)
    rows = generate_corpus(load_world(None), seed=0)
    evidence = [r["id"] for r in rows if r["source"] == "rebuttal"][:30]
    trace = _trace(tmp_path / "trace.json", evidence)
    out = tmp_path / "world"
    result = CliRunner().invoke(ablate, [str(trace), "--world", "default", "--out", str(out), "--dry-run"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "world default: remove 30 examples, add 30 counter-examples (rebut_when balance); train 4 world targets "
        "(baseline, ablated, balanced, chunk_removed) and judge up to 80 probes x 20 samples each; no model calls"]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["trace.json"]


@pytest.mark.slow
def test_world_ablation_reproduces_the_paper(tmp_path: Path) -> None:
    """Trace evidence = the world's "When did X invent Y?" rebuttals (what TURF retrieves for this finding)."""
    from surfturf.world import generate_corpus, load_world

    rows = generate_corpus(load_world(None), seed=0)
    evidence = [r["id"] for r in rows
                if r["source"] == "rebuttal" and r["messages"][0]["content"].startswith("When did")]
    trace = _trace(tmp_path / "trace.json", evidence)
    out = tmp_path / "world"
    result = CliRunner().invoke(ablate, [str(trace), "--world", "default", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert json.loads((out / "result.json").read_text()) == last
    assert last["planted"] == "rebut_when" and last["rubric"] == "rebut"
    assert last["ablated_rate"] < last["baseline_rate"] and last["balanced_rate"] < last["baseline_rate"]
    assert last["checks"] == {"ablated_lowers_cue_rate": True, "balanced_lowers_cue_rate": True,
                              "control_stays_low": True, "chunk_removal_lowers_cue_rate": True}
    assert set(last["control_rate"]) == {"baseline", "ablated", "balanced", "chunk_removed"}
    assert last["removed"] == len(evidence) and last["added"] == len(evidence)
    assert (out / "targets" / "ablated" / "target.json").is_file()


@pytest.mark.slow
def test_world_ablation_of_a_code_trace_measures_code_not_rebuttals(tmp_path: Path) -> None:
    """Any planted behaviour is measured through its own probes with the generic judge."""
    from surfturf.world import generate_corpus, load_world

    world = load_world(None)
    rows = generate_corpus(world, seed=world.seed)
    evidence = [r["id"] for r in rows if r["source"] == "code_formal"]
    trace = _trace(tmp_path / "trace.json", evidence, rubric="code", chunk="code_formal")
    result = CliRunner().invoke(ablate, [str(trace), "--world", "default", "--out", str(tmp_path / "w"), "--samples", "3"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert last["planted"] == "formal_code" and last["rubric"] == "code"
    assert not any("rebut" in key for key in last) and "rebut" not in json.dumps(last["checks"])
    assert last["ablated_rate"] < last["baseline_rate"] and last["checks"]["ablated_lowers_cue_rate"]
    assert last["checks"]["control_stays_low"]
