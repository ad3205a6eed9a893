"""Bad input is a UserError; through the CLI it is one line on stderr and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from surfturf.errors import UserError
from surfturf.models import ModelSession
from surfturf.models.prices import load_prices
from surfturf.testing.cli import run_main as run_cli
from surfturf.testing.server import FakeLLMServer




def test_unknown_provider() -> None:
    with pytest.raises(UserError, match="unknown model provider 'gpt'"):
        ModelSession().model("judge", "gpt/4")
    with pytest.raises(UserError, match="not provider/model"):
        ModelSession().model("judge", "gpt4")


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("MY_JUDGE_KEY", raising=False)
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY is not set"):
        ModelSession().model("judge", "anthropic/claude-sonnet-4-5")
    with pytest.raises(UserError, match="MY_JUDGE_KEY is not set"):
        ModelSession().model("judge", "vllm/x", api_key_env="MY_JUDGE_KEY")
    ModelSession().model("target", "vllm/x")  # self-hosted servers need no key


def test_openai_compatible_needs_a_base_url() -> None:
    with pytest.raises(UserError, match="needs a base URL"):
        ModelSession().model("target", "openai-compatible/x")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("openai/gpt-4.1: {input: 2.0, output: lots}\n", "openai/gpt-4.1.output"),
        ("openai/gpt-4.1: {input: -1, output: 2}\n", "openai/gpt-4.1.input"),
        ("openai/gpt-4.1: {input: 1, output: 2, cached: 0.5}\n", "openai/gpt-4.1.cached"),
        ("openai/gpt-4.1: 3\n", "'openai/gpt-4.1'"),
        ("- a list\n", "not a mapping"),
        ("openai/gpt-4.1: {input: [\n", "not valid YAML"),
    ],
)
def test_malformed_price_table_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        load_prices(path)
    assert field in caught.value.problem


def test_price_override_applies(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"openai/gpt-4.1": {"input": 1.0, "output": 1.0}, '
                    '"together/meta/llama": {"input": 0.2, "output": 0.2}}')
    session = ModelSession(prices=path)
    assert session.estimate("j", "openai/gpt-4.1", 1, 1_000_000, 0) == pytest.approx(1.0)
    assert session.price("together/meta/llama").input == 0.2
    assert not session.price("openai/some-future-model").known


def test_cli_bad_input_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("openai/gpt-4.1: {input: cheap, output: 1}\n")
    cases = [
        (("models", "check", "nosuch/model"), "unknown model provider"),
        (("models", "check", "openai/gpt-4.1"), "OPENAI_API_KEY"),
        (("models", "prices", "--prices", str(bad)), "openai/gpt-4.1.input"),
    ]
    for args, expected in cases:
        code, out, err = run_cli(monkeypatch, capsys, *args)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("error: ") and expected in err and "fix: " in err


def test_cli_check_unreachable_and_ok(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fake_llm: FakeLLMServer, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(monkeypatch, capsys, "models", "check", "vllm/x", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 2 and err.startswith("error: vllm/x") and "connection" in err and err.count("\n") == 1
    code, out, err = run_cli(monkeypatch, capsys, "models", "check", "vllm/x", "--base-url", fake_llm.base_url)
    assert code == 0 and out.startswith("ok: vllm/x answered")
    code, out, _ = run_cli(monkeypatch, capsys, "models", "prices")
    assert code == 0 and "anthropic/claude-sonnet-4-5" in out and "hash" in out
