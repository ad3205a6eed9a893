"""`inspect/<model>` as a surfturf role: Inspect's openai-api provider against the loopback server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("inspect_ai")

from surfturf.models import Budget, GenerateConfig, ModelSession, RetryPolicy
from surfturf.testing.server import FakeLLMServer


class RecordingServer(FakeLLMServer):
    """The loopback server, keeping every chat body it was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        return super()._chat(body)


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with RecordingServer().in_thread() as running:
        yield running


@pytest.fixture(autouse=True)
def loop_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inspect's openai-api provider wants <SERVICE>_API_KEY; the loopback service is named "loop"."""
    monkeypatch.setenv("LOOP_API_KEY", "sk-loop")


def _session(tmp_path: Path, **kwargs: Any) -> ModelSession:
    return ModelSession(cache_dir=tmp_path / "cache", timeout_s=10.0,
                        retry=RetryPolicy(max_retries=2, base_s=0.01, cap_s=0.02), **kwargs)


def test_settings_messages_and_usage_reach_inspect(server: RecordingServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOP_KEY", "sk-role")

    async def go():  # type: ignore[no-untyped-def]
        async with _session(tmp_path) as session:
            model = session.model("judge", "inspect/openai-api/loop/echo-1", base_url=server.base_url,
                                  api_key_env="LOOP_KEY",
                                  config=GenerateConfig(temperature=0.25, max_tokens=33, top_p=0.9,
                                                        stop=("</score>",), seed=7))
            first = await model.generate([{"role": "system", "content": "be terse"},
                                          {"role": "user", "content": "hello there"}])
            again = await model.generate([{"role": "system", "content": "be terse"},
                                          {"role": "user", "content": "hello there"}])
            return first, again, session.usage.summary()

    first, again, usage = asyncio.run(go())
    assert first.ok and first.text == "echo[echo-1]: hello there"
    assert (first.input_tokens, first.output_tokens) == (4, 3)
    assert again.cached and server.requests == 1  # our cache answered; Inspect's is off
    body = server.bodies[0]
    assert body["model"] == "echo-1"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["temperature"] == 0.25 and body["top_p"] == 0.9 and body["seed"] == 7
    assert body["stop"] == ["</score>"]
    assert 33 in (body.get("max_tokens"), body.get("max_completion_tokens"))
    assert server.headers_seen[0]["Authorization"] == "Bearer sk-role"
    row = usage["per_model"][0]
    assert row["model"] == "inspect/openai-api/loop/echo-1" and row["calls"] == 1 and row["input_tokens"] == 4


@pytest.mark.parametrize(("fault", "kind"), [("500", "server"), ("429", "rate_limit")])
def test_transient_errors_retried_by_us_not_by_inspect(server: RecordingServer, tmp_path: Path,
                                                       fault: str, kind: str) -> None:
    server.fail_always(fault, retry_after=0)

    async def go():  # type: ignore[no-untyped-def]
        async with _session(tmp_path) as session:
            model = session.model("target", "inspect/openai-api/loop/m", base_url=server.base_url)
            return await model.generate("hi")

    result = asyncio.run(go())
    assert result.error is not None and result.error.startswith(f"{kind}: HTTP {fault}")
    assert result.attempts == 3 and server.requests == 3  # 1 + our 2 retries; no SDK or Inspect retries on top


def test_bad_request_and_dead_endpoint_are_our_kinds(server: RecordingServer, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/v1"

    async def go():  # type: ignore[no-untyped-def]
        async with _session(tmp_path) as session:
            down = await session.model("target", "inspect/openai-api/loop/m", base_url=dead).generate("hi")
            unknown = await session.model("judge", "inspect/no-such-provider/x").generate("hi")
            return down, unknown

    down, unknown = asyncio.run(go())
    assert down.error is not None and down.error.split(":")[0] in ("connection", "timeout")
    assert unknown.error is not None and unknown.error.startswith("bad_request: Inspect cannot make")
    assert "[bold]" not in unknown.error


def test_budget_caps_inspect_calls(server: RecordingServer, tmp_path: Path) -> None:
    async def go():  # type: ignore[no-untyped-def]
        async with _session(tmp_path, budget=Budget(max_calls=2)) as session:
            model = session.model("target", "inspect/openai-api/loop/m", base_url=server.base_url)
            return [await model.generate(f"q{i}") for i in range(4)]

    results = asyncio.run(go())
    assert [r.ok for r in results] == [True, True, False, False]
    assert results[2].error is not None and results[2].error.startswith("budget:")
    assert server.requests == 2
