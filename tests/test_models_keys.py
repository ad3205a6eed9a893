"""API keys reach the server and nothing else: not logs, reprs, results, usage, the cache or the CLI."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from surfturf.cli.main import main
from surfturf.cli.options import RuntimeOptions
from surfturf.models import Budget, ModelSession, RetryPolicy
from surfturf.surf.generation import RoleConfig
from surfturf.testing.server import FakeLLMServer

OPENAI_KEY = "sk-test-SECRET-openai-4242"
ANTHROPIC_KEY = "sk-ant-SECRET-anthropic-4343"


async def test_keys_never_leave_the_request(
    fake_llm: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n")
    caplog.set_level(logging.DEBUG)
    session = ModelSession(cache_dir=tmp_path / "cache", env_file=env_file,
                           retry=RetryPolicy(max_retries=1, base_s=0.01, cap_s=0.02), timeout_s=2.0)
    openai_model = session.model("judge", "openai/gpt-4.1-mini", base_url=fake_llm.base_url)
    anthropic_model = session.model("target", "anthropic/claude-haiku-4-5", base_url=fake_llm.root_url)
    outputs: list[object] = [session, openai_model, anthropic_model, openai_model.endpoint, openai_model.provider]
    outputs.append(await openai_model.generate("hi"))
    outputs.append(await anthropic_model.generate("hi"))
    fake_llm.fail_always("500")
    outputs.append(await openai_model.generate("fails"))
    outputs.append(await anthropic_model.generate("fails"))
    fake_llm.fail_always("malformed")
    outputs.append(await openai_model.generate("malformed"))
    outputs.append(session.usage.summary())
    await session.aclose()

    headers = json.dumps(fake_llm.headers_seen)
    assert OPENAI_KEY in headers and ANTHROPIC_KEY in headers  # the keys were really used
    text = "\n".join([*(repr(o) for o in outputs), *(str(o) for o in outputs), json.dumps(outputs[-1]), caplog.text])
    cache_bytes = b"".join(p.read_bytes() for p in (tmp_path / "cache").iterdir())
    for key in (OPENAI_KEY, ANTHROPIC_KEY):
        assert key not in text
        assert key.encode() not in cache_bytes


def test_cli_and_options_never_print_keys(
    fake_llm: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    runtime = RuntimeOptions(tmp_path, "read-write", 4, None, None, Budget(), None, None, 5.0, False)
    role = RoleConfig("judge", "openai/gpt-4.1", None, "OPENAI_API_KEY")
    assert OPENAI_KEY not in repr(runtime) + json.dumps(runtime.config()) + repr(role)
    for args in (["models", "check", "openai/gpt-4.1-mini", "--base-url", fake_llm.base_url],
                 ["models", "check", "openai/gpt-4.1-mini", "--base-url", "http://127.0.0.1:9/v1"]):
        monkeypatch.setattr(sys, "argv", ["surfturf", *args])
        try:
            main()
        except SystemExit:
            pass
        captured = capsys.readouterr()
        assert OPENAI_KEY not in captured.out + captured.err
    assert OPENAI_KEY in json.dumps(fake_llm.headers_seen)
