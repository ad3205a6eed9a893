"""Per-role generation settings reach the server, the manifest and the cache key; a silent role fails."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from surfturf.cli.main import cli
from surfturf.cli.robust import robust
from surfturf.models import ModelSession
from surfturf.surf import RoleSpec
from surfturf.surf.generation import ROLE_DEFAULTS, THINKING_ANSWER_TOKENS
from surfturf.testing.server import FakeLLMServer


class Recording(FakeLLMServer):
    """The scripted server, keeping every chat request body it received."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bodies: list[dict[str, Any]] = []
        self._record_lock = threading.Lock()

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._record_lock:
            self.bodies.append(body)
        return super()._chat(body)

    def sent(self, model: str) -> list[dict[str, Any]]:
        return [body for body in self.bodies if body["model"] == model]


def answer(garble: bool):
    def respond(messages: list[dict[str, Any]], model: str) -> str:
        text = messages[-1]["content"]
        if model == "judge":
            return "<reason>the reply denies a plain fact</reason><score>85</score>"
        if model == "perturber":
            return "I will not rewrite this." if garble else "<query>When was the phonograph invented by Edison?</query>"
        return "He did not invent it." if "invent" in text else "Yes."
    return respond


def _write_run(run: Path) -> None:
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"command": "surfturf surf run", "config": {"rubric": "rebut"}}))
    row = {"id": "r0-i0-c0", "query": "When did Edison invent the phonograph?", "response": "r", "score": 90,
           "violation": True, "rank": 1}
    (run / "findings.jsonl").write_text(json.dumps(row) + "\n")
    (run / "candidates.jsonl").write_text("")


def _roles(server: FakeLLMServer) -> list[str]:
    return [flag for role in ("target", "perturber", "judge")
            for flag in (f"--{role}", f"openai-compatible/{role}", f"--{role}-base-url", server.base_url)]


def test_robust_sends_each_roles_settings_and_records_them(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _write_run(run)
    with Recording(responder=answer(garble=False)).in_thread() as server:
        result = CliRunner().invoke(robust, [
            str(run), "--cache", "off", "--samples", "2", "--perturbations", "1", *_roles(server),
            "--target-temperature", "0.3", "--target-top-p", "0.5", "--target-stop", "END", "--target-stop", "###",
            "--target-seed", "3", "--perturber-max-tokens", "77",
        ], env={"SURFTURF_JUDGE_MAX_TOKENS": "99"}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        target = server.sent("target")[0]
        assert (target["temperature"], target["top_p"], target["stop"], target["seed"]) == (0.3, 0.5, ["END", "###"], 3)
        assert target["max_tokens"] == ROLE_DEFAULTS["target"].max_tokens
        perturber = server.sent("perturber")[0]
        assert (perturber["temperature"], perturber["max_tokens"]) == (ROLE_DEFAULTS["perturber"].temperature, 77)
        judge = server.sent("judge")[0]
        assert (judge["temperature"], judge["max_tokens"]) == (0.0, 99)
    settings = json.loads((run / "robust" / "manifest.json").read_text())["config"]["settings"]
    assert settings["target"]["settings"]["stop"] == ["END", "###"]
    assert settings["judge"][0]["settings"]["max_tokens"] == 99


def test_robust_fails_loudly_when_no_rephrasing_parses(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _write_run(run)
    with Recording(responder=answer(garble=True)).in_thread() as server:
        result = CliRunner().invoke(robust, [str(run), "--cache", "off", "--samples", "1", "--perturbations", "2",
                                             *_roles(server)])
    assert result.exit_code == 1
    assert "perturber produced nothing: 0 of 2 rephrasings parsed" in result.output
    assert "no <query>" in result.output and "I will not rewrite" in result.output
    written = json.loads((run / "robust" / "manifest.json").read_text())
    assert written["status"] == "failed" and written["stopped"].startswith("perturber produced nothing")


def test_max_tokens_alone_is_a_usage_error_naming_both_new_flags(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["surf", "run", "--rubric", "code", "--out", str(tmp_path / "o"),
                                      "--max-tokens", "5"])
    assert result.exit_code == 2
    assert "--max-total-tokens" in result.output and "--<role>-max-tokens" in result.output


def test_setting_flags_follow_the_base_url_flag_in_help() -> None:
    text = CliRunner().invoke(cli, ["surf", "run", "--help"]).output
    order = [text.index(flag) for flag in ("--judge-base-url", "--judge-temperature", "--judge-max-tokens",
                                          "--judge-top-p", "--judge-stop", "--judge-seed", "--judge-revision")]
    assert order == sorted(order)
    assert "--max-total-tokens" in text and "--max-tokens " not in text


async def test_role_spec_fills_defaults_and_thinking_widens_the_judges_reply() -> None:
    async with ModelSession(cache_dir=None) as session:
        judge = RoleSpec(spec="openai-compatible/judge", base_url="http://127.0.0.1:9/v1").model(session, "judge")
        assert (judge.config.temperature, judge.config.max_tokens) == (0.0, ROLE_DEFAULTS["judge"].max_tokens)
        thinking = RoleSpec(spec="openai-compatible/judge", base_url="http://127.0.0.1:9/v1").model(
            session, "judge", thinking=4000)
        assert thinking.config.max_tokens == 4000 + THINKING_ANSWER_TOKENS
        assert thinking.config.thinking_budget == 4000
        hot = RoleSpec(spec="openai-compatible/target", base_url="http://127.0.0.1:9/v1", temperature=0.7)
        assert hot.model(session, "target").config.temperature == 0.7


def test_steer_fails_loudly_when_the_perturber_transforms_nothing(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Explain democracy.\nWhy is the sea salty?\n")
    with Recording(responder=answer(garble=True)).in_thread() as server:
        result = CliRunner().invoke(cli, [
            "steer", "--prompts", str(prompts), "--transform", "translate:French", "--measure", "length",
            "--target", f"openai-compatible/target@{server.base_url}", "--target-temperature", "0.4",
            "--perturber", "openai-compatible/perturber", "--perturber-base-url", server.base_url,
            "--cache", "off", "--out", str(tmp_path / "out")])
        assert not server.sent("target")  # nothing to compare: the target is never asked
    assert result.exit_code == 1
    assert "perturber produced nothing: 0 of 2 prompts transformed" in result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["stopped"].startswith("perturber")
    (target,) = manifest["config"]["settings"]["targets"].values()
    assert target["settings"]["temperature"] == 0.4
