"""The real openai and anthropic SDK clients against the local fake server: retries, faults, error results."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest

from surfturf.models import GenerateConfig, ModelSession, RetryPolicy
from surfturf.testing.server import FakeLLMServer


def session_for(tmp_path: Path, retries: int = 3, timeout_s: float = 5.0) -> ModelSession:
    return ModelSession(cache_dir=tmp_path / "cache", max_concurrency=8, timeout_s=timeout_s,
                        retry=RetryPolicy(max_retries=retries, base_s=0.01, cap_s=0.05))


@pytest.fixture(params=["openai", "anthropic"])
def provider(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-anthropic")
    return request.param


def spec_and_url(provider: str, server: FakeLLMServer) -> tuple[str, str]:
    if provider == "openai":
        return "openai/gpt-4.1-mini", server.base_url
    return "anthropic/claude-haiku-4-5", server.root_url


@pytest.mark.parametrize("fault", ["500", "429"])
async def test_retries_succeed(fake_llm: FakeLLMServer, tmp_path: Path, provider: str, fault: str) -> None:
    session = session_for(tmp_path)
    spec, url = spec_and_url(provider, fake_llm)
    fake_llm.fail_next(2, fault)
    result = await session.model("judge", spec, base_url=url).generate([{"role": "user", "content": "hello"}])
    assert result.ok, result.error
    assert result.text.endswith("hello") and result.attempts == 3
    assert fake_llm.requests == 3
    assert result.cost_usd > 0  # a priced model: tokens from the server's usage times the table
    await session.aclose()


async def test_exhausted_retries_become_error_results(fake_llm: FakeLLMServer, tmp_path: Path, provider: str) -> None:
    session = session_for(tmp_path, retries=2)
    spec, url = spec_and_url(provider, fake_llm)
    fake_llm.fail_always("500")
    result = await session.model("judge", spec, base_url=url).generate("hello")
    assert not result.ok and result.error.startswith("server: HTTP 500")
    assert result.attempts == 3 and fake_llm.requests == 3
    total = session.usage.summary()["total"]
    assert total["errors"] == 1 and total["calls"] == 1
    fake_llm.fail_always(None)
    assert (await session.model("judge", spec, base_url=url).generate("hello")).ok  # errors are not cached
    await session.aclose()


async def test_retry_after_is_honoured(fake_llm: FakeLLMServer, tmp_path: Path, provider: str) -> None:
    session = session_for(tmp_path)
    spec, url = spec_and_url(provider, fake_llm)
    fake_llm.fail_next(1, "429", retry_after=0.6)
    started = time.perf_counter()
    result = await session.model("judge", spec, base_url=url).generate("hello")
    assert result.ok and result.attempts == 2
    assert time.perf_counter() - started >= 0.6  # the jitter alone would be under 0.05 s
    await session.aclose()


async def test_hang_becomes_timeout_error(fake_llm: FakeLLMServer, tmp_path: Path, provider: str) -> None:
    session = session_for(tmp_path, retries=1, timeout_s=0.3)
    spec, url = spec_and_url(provider, fake_llm)
    fake_llm.fail_always("hang")
    started = time.perf_counter()
    result = await session.model("judge", spec, base_url=url).generate("hello")
    assert result.error is not None and result.error.startswith("timeout"), result.error
    assert result.attempts == 2 and time.perf_counter() - started < 3
    await session.aclose()


async def test_malformed_body_is_retried(fake_llm: FakeLLMServer, tmp_path: Path, provider: str) -> None:
    session = session_for(tmp_path)
    spec, url = spec_and_url(provider, fake_llm)
    fake_llm.fail_next(2, "malformed")
    result = await session.model("judge", spec, base_url=url).generate("hello")
    assert result.ok and result.attempts == 3, result.error
    fake_llm.fail_always("malformed")
    failed = await session.model("judge", spec, base_url=url).generate("hello again")
    assert failed.error is not None and failed.error.startswith("malformed: "), failed.error
    assert failed.attempts == 4
    await session.aclose()


async def test_unreachable_base_url_becomes_connection_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = session_for(tmp_path, retries=1)
    result = await session.model("target", "vllm/some-model", base_url=f"http://127.0.0.1:{port}/v1").generate("hi")
    assert result.error is not None and result.error.startswith("connection:"), result.error
    await session.aclose()


async def test_anthropic_thinking_and_system(
    fake_llm: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-anthropic")
    seen: list[list[dict]] = []

    def responder(messages: list[dict], model: str) -> str:
        seen.append(messages)
        return "<score>70</score>"

    fake_llm.responder = responder
    session = session_for(tmp_path)
    model = session.model("judge", "anthropic/claude-haiku-4-5", base_url=fake_llm.root_url,
                          config=GenerateConfig(thinking_budget=2048, max_tokens=200))
    result = await model.generate([{"role": "system", "content": "You judge."}, {"role": "user", "content": "go"}])
    assert result.ok and result.text == "<score>70</score>"
    assert result.thinking == "considering the request"
    assert seen[0][0] == {"role": "system", "content": "You judge."}
    await session.aclose()


async def test_openai_embeddings(fake_llm: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    session = session_for(tmp_path)
    model = session.model("embedder", "openai/text-embedding-3-small", base_url=fake_llm.base_url)
    first = await model.embed(["alpha", "beta", "gamma"])
    assert first.ok and first.vectors.shape == (3, 16) and first.input_tokens == 3
    again = await model.embed(["gamma", "alpha"])  # per-text cache: no new request
    assert again.cached and fake_llm.requests == 1
    np.testing.assert_array_equal(again.vectors, first.vectors[[2, 0]])
    await session.aclose()
