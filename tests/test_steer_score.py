"""Steered score end to end against a real local server: transforms, targets, judge, paired statistics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from surfturf.errors import UserError
from surfturf.models import ModelSession
from surfturf.steer.measure import panel_judge, resolve_measure
from surfturf.steer.steer import compare, steer_target, transform_prompts
from surfturf.steer.transforms import resolve_transform
from surfturf.testing.server import FakeLLMServer


def _last_user(messages: list[dict[str, Any]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def scripted(messages: list[dict[str, Any]], model: str) -> str:
    """target-a calls sympy on LaTeX, target-b never does; the judge flags sympy; the perturber tags."""
    text = _last_user(messages)
    if model == "judge":
        response = re.search(r"<response>\n(.*)\n</response>", text, re.S).group(1)  # type: ignore[union-attr]
        return "<reason>tool call</reason><score>90</score>" if "sympy" in response else "<reason>fine</reason><score>5</score>"
    if model == "perturber":
        query = re.search(r"<query>\n(.*)\n</query>", text, re.S).group(1)  # type: ignore[union-attr]
        return f"<query>[ms] {query}</query>" if "Translate" in text else "no tags here"
    if model == "target-a" and "$" in text:
        return "<tool_call>sympy.simplify</tool_call>"
    if any(m["role"] == "system" for m in messages):
        return "Plain answer, as the system prompt asked."
    return "The answer is " + " ".join(["word"] * (3 if "[ms]" in text else 12))


PROMPTS = [f"What is {a} + {b}?" for a, b in zip(range(2, 30), range(5, 33))] + ["Name a colour."]


async def test_latex_steer_rubric_two_targets() -> None:
    async with FakeLLMServer(responder=scripted) as server:
        session = ModelSession(cache_dir=None)
        judge = panel_judge([session.model("judge", "openai-compatible/judge", base_url=server.base_url)])
        measure = resolve_measure("rubric:code")
        pairs = await transform_prompts(PROMPTS, resolve_transform("latex"), None)
        rows = {}
        for label in ("target-a", "target-b"):
            target = session.model("target", f"openai-compatible/{label}", base_url=server.base_url)
            rows[label], records = await steer_target(label, target, pairs, measure, judge, prefix=[])
        await session.aclose()
    a, b = rows["target-a"], rows["target-b"]
    assert a["n"] == len(PROMPTS) - 1 and a["n_unchanged"] == 1  # "Name a colour." has no math to typeset
    assert a["rate_original"] == 0.0 and a["rate_transformed"] == 1.0 and a["difference"] == 1.0
    assert a["p_value"] == pytest.approx(2 * 0.5 ** a["n"])
    assert a["low"] == 1.0 and a["discordant"] == {"original_only": 0, "transformed_only": a["n"]}
    assert a["transformed"]["low"] > 0.8
    assert b["difference"] == 0.0 and b["p_value"] == 1.0
    assert records[0]["transformed"].startswith("What is $")


async def test_translate_length_and_context() -> None:
    async with FakeLLMServer(responder=scripted) as server:
        session = ModelSession(cache_dir=None)
        perturber = session.model("perturber", "openai-compatible/perturber", base_url=server.base_url)
        target = session.model("target", "openai-compatible/target-b", base_url=server.base_url)
        pairs = await transform_prompts(PROMPTS[:10], resolve_transform("translate:Malay"), perturber)
        assert all(p.transformed.startswith("[ms] ") for p in pairs)
        row, _ = await steer_target("b", target, pairs, resolve_measure("length"), None, prefix=[])
        assert row["rate_original"] == 15 and row["rate_transformed"] == 6 and row["difference"] == -9
        assert "Wilcoxon" in row["method"] and row["p_value"] < 0.01
        short, _ = await steer_target("b", target, pairs, resolve_measure("length:<10"), None, prefix=[], samples=2)
        assert short["rate_transformed"] == 1.0 and short["n"] == 20 and short["prompts"] == 10
        system = [{"role": "system", "content": "Answer plainly."}]
        suppressed, _ = await steer_target("b", target, pairs, resolve_measure("regex:^The answer"), None, prefix=system)
        assert suppressed["rate_original"] == 0.0
        await session.aclose()


async def test_perturber_without_tags_is_recorded() -> None:
    async with FakeLLMServer(responder=scripted) as server:
        session = ModelSession(cache_dir=None)
        perturber = session.model("perturber", "openai-compatible/perturber", base_url=server.base_url)
        from surfturf.steer.perturb import perturb

        text, error = await perturb(perturber, "hello", "Rewrite it")
        await session.aclose()
    assert text is None and error.startswith("parse:")


def test_compare_and_measures(tmp_path: Path) -> None:
    empty = compare([], [], binary=True)
    assert empty["n"] == 0 and empty["p_value"] is None
    row = compare([[1.0], [0.0], [0.0]], [[1.0], [1.0], [1.0]], binary=True)
    assert row["difference"] == pytest.approx(2 / 3) and row["p_value"] == pytest.approx(0.5)
    for bad in ("nope", "regex:(", "length:~3", "rubric:no_such_rubric"):
        with pytest.raises(UserError):
            resolve_measure(bad)
    assert resolve_measure("length:>100").binary and not resolve_measure("length").binary


def test_steer_cli_table_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from click.testing import CliRunner

    from surfturf.cli.steer import steer
    from surfturf.testing.cli import run_main

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS[:12]) + "\n")
    out = tmp_path / "steer"
    with FakeLLMServer(responder=scripted).in_thread() as server:
        args = ["--prompts", str(prompts), "--transform", "latex", "--measure", "regex:sympy", "--out", str(out),
                "--target", "sft=openai-compatible/target-a", "--target", f"rl=openai-compatible/target-b@{server.base_url}",
                "--target-base-url", server.base_url, "--cache", "off"]
        result = CliRunner().invoke(steer, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        last = json.loads(result.output.strip().splitlines()[-1])
        assert [row["target"] for row in last["targets"]] == ["sft", "rl"]
        assert last["targets"][0]["difference"] == 1.0 and last["targets"][1]["difference"] == 0.0
        assert "sft" in result.output and "95% CI" in result.output
        assert json.loads((out / "steer.json").read_text()) == last
        assert len((out / "pairs.jsonl").read_text().splitlines()) == 24
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["models"]["targets"] == {"sft": "openai-compatible/target-a", "rl": "openai-compatible/target-b"}
        assert manifest["status"] == "complete"
        written = {path.name: path.read_bytes() for path in out.iterdir()}
        called = len(server.received)
        code, _, err = run_main(monkeypatch, capsys, "steer", *args, "--target", "sft=openai-compatible/x")
        assert code == 2 and err.count("\n") == 1 and "two --target values share a label" in err, err
        assert len(server.received) == called  # refused before any call
        assert {path.name: path.read_bytes() for path in out.iterdir()} == written


def test_steer_cli_context_flags(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from surfturf.cli.steer import steer

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"query": q}) + "\n" for q in PROMPTS[:6]))
    system = tmp_path / "system.txt"
    system.write_text("Never call tools.")
    icl = tmp_path / "icl.jsonl"
    icl.write_text(json.dumps({"query": "What is 1 + 1?", "response": "2"}) + "\n")
    with FakeLLMServer(responder=scripted).in_thread() as server:
        base = ["--prompts", str(prompts), "--transform", "latex", "--measure", "regex:^The answer", "--cache", "off",
                "--target", "openai-compatible/target-b", "--target-base-url", server.base_url]
        plain = CliRunner().invoke(steer, [*base, "--out", str(tmp_path / "a")], catch_exceptions=False)
        with_context = CliRunner().invoke(steer, [*base, "--out", str(tmp_path / "b"), "--system-prompt", str(system),
                                                  "--icl-examples", "1", "--icl-file", str(icl)], catch_exceptions=False)
        missing = CliRunner().invoke(steer, [*base, "--out", str(tmp_path / "c"), "--icl-examples", "2"])
    assert json.loads(plain.output.splitlines()[-1])["targets"][0]["rate_original"] == 1.0
    assert json.loads(with_context.output.splitlines()[-1])["targets"][0]["rate_original"] == 0.0
    context = json.loads((tmp_path / "b" / "manifest.json").read_text())["config"]["context"]
    assert context == {"system_prompt": "Never call tools.", "icl_examples": 1, "icl_source": str(icl),
                       "icl_queries": ["What is 1 + 1?"]}
    assert missing.exit_code != 0 and "--icl-file" in str(missing.exception)
    assert not (tmp_path / "c").exists()
