"""Failures are retried when a retry can cure them, stop the run when an endpoint is dead, and never leak a key."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from surfturf.models import FAILURE_STREAK, ModelSession, RetryPolicy, is_transient, redact, redact_url
from surfturf.testing.server import FakeLLMServer

FAST = RetryPolicy(max_retries=3, base_s=0.01, cap_s=0.02)
Handler = Callable[[web.Request], Awaitable[web.Response]]


@contextlib.asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[str]:
    """A one-route OpenAI-shaped server on 127.0.0.1 for fault shapes the scripted server lacks; yields its base URL."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def good_reply(text: str) -> web.Response:
    return web.json_response({
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    })


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_is_transient_kinds() -> None:
    for kind in ("rate_limit", "server", "timeout", "connection", "malformed", "endpoint_down"):
        assert is_transient(f"{kind}: detail")
    for kind in ("budget", "parse", "bad_request", "auth", "other"):
        assert not is_transient(f"{kind}: detail")
    assert not is_transient(None)


async def test_malformed_body_is_retried(fake_llm: FakeLLMServer) -> None:
    fake_llm.fail_next(2, "malformed")
    session = ModelSession(retry=FAST)
    result = await session.model("target", "openai-compatible/t", base_url=fake_llm.base_url).generate("hi")
    await session.aclose()
    assert result.ok and result.attempts == 3 and fake_llm.requests == 3


@pytest.mark.parametrize("body", [{"choices": []}, {"choices": [{"index": 0}]}])
async def test_empty_choices_are_retried(body: dict[str, object]) -> None:
    seen: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(1)
        return web.json_response(body) if len(seen) == 1 else good_reply("fine")

    async with serve(handler) as url:
        session = ModelSession(retry=FAST)
        result = await session.model("target", "openai-compatible/t", base_url=url).generate("hi")
        await session.aclose()
    assert result.ok and result.text == "fine" and len(seen) == 2


async def test_dead_endpoint_trips_endpoint_failure_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    session = ModelSession(retry=FAST, max_concurrency=4)
    model = session.model("target", "openai-compatible/t", base_url=url)
    with caplog.at_level(logging.ERROR, logger="surfturf"):
        first = await asyncio.gather(*(model.generate(f"q{i}") for i in range(FAILURE_STREAK)))
    assert all(r.error and r.error.startswith("connection") for r in first)
    failure = session.endpoint_failure
    assert failure is not None
    line = failure.line()
    assert "\n" not in line and "127.0.0.1" in line and "connection" in line and "fix: " in line
    later = await model.generate("after the trip")
    assert later.error is not None and later.error.startswith("endpoint_down") and later.attempts == 0
    assert is_transient(later.error) and line in caplog.text
    await session.aclose()


async def test_scattered_faults_never_trip(fake_llm: FakeLLMServer) -> None:
    """Faults that retries cure leave the endpoint healthy, however many calls see one."""
    session = ModelSession(retry=FAST, max_concurrency=8)
    model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
    for _ in range(3):
        fake_llm.fail_next(20, "500")
        results = await asyncio.gather(*(model.generate(f"q{i}") for i in range(40)))
        assert all(r.ok for r in results)
    assert session.endpoint_failure is None
    await session.aclose()


async def test_secret_in_error_body_is_redacted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """A server that echoes the key (and a URL password) back in its error: neither reaches the result or logs."""
    key = "sk-test-Zq81mXk29fLbQ"
    monkeypatch.setenv("ECHO_SERVER_KEY", key)

    async def handler(request: web.Request) -> web.Response:
        echoed = {"error": {"message": f"bad key {request.headers['Authorization']} for http://me:pw12345678@x/v1"}}
        return web.Response(status=500, text=json.dumps(echoed), content_type="application/json")

    async with serve(handler) as url:
        session = ModelSession(retry=FAST)
        model = session.model("judge", "openai-compatible/j", base_url=url, api_key_env="ECHO_SERVER_KEY")
        with caplog.at_level(logging.DEBUG, logger="surfturf"):
            logging.getLogger("surfturf.models").warning("server said %s", key)
            result = await model.generate("hi")
        await session.aclose()
    assert result.error is not None and result.error.startswith("server")
    assert key not in result.error and "***" in result.error and "pw12345678" not in result.error
    assert key not in caplog.text and key not in repr(model)


def test_base_url_credentials_are_never_shown() -> None:
    session = ModelSession()
    model = session.model("target", "vllm/t", base_url="http://user:hunter22secret@127.0.0.1:1/v1")
    assert "hunter22secret" not in repr(model) and "***@127.0.0.1:1/v1" in repr(model)
    assert redact("echoed hunter22secret") == "echoed ***"  # the URL's password is registered as a secret


def test_redact_helpers() -> None:
    assert redact_url("https://alice:s3cr3t-pass@host:8000/v1?x=1") == "https://***@host:8000/v1?x=1"
    assert redact_url(None) is None and redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
    assert redact("see postgres://u:p@db/x") == "see postgres://***@db/x"


async def test_queueing_does_not_count_toward_the_timeout(fake_llm: FakeLLMServer) -> None:
    """One slot, requests of 0.3 s, timeout 1 s: the fifth waits ~1.2 s for its slot and still succeeds."""
    fake_llm.set_latency(300.0)
    session = ModelSession(max_concurrency=1, timeout_s=1.0, retry=RetryPolicy(max_retries=0))
    model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
    results = await asyncio.gather(*(model.generate(f"q{i}") for i in range(5)))
    await session.aclose()
    assert all(r.ok for r in results) and fake_llm.requests == 5 and fake_llm.max_in_flight == 1
