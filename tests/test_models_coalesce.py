"""Identical in-flight requests are one paid call; one server is one slot pool, capped by its own slot count."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from surfturf.models import ModelSession
from surfturf.models.providers.base import Provider, ServerLimits
from surfturf.testing.server import FakeLLMServer


@pytest.mark.parametrize("cache", ["read-write", "off"])
async def test_twenty_identical_concurrent_calls_are_one_request(
    fake_llm: FakeLLMServer, tmp_path: Path, cache: str
) -> None:
    fake_llm.set_latency(100.0)
    session = ModelSession(cache_dir=tmp_path, cache_mode=cache, max_concurrency=32)
    model = session.model("judge", "openai-compatible/j", base_url=fake_llm.base_url)
    results = await asyncio.gather(*(model.generate("the same question") for _ in range(20)))
    await session.aclose()
    assert fake_llm.requests == 1
    assert len({r.text for r in results}) == 1 and all(r.ok for r in results)
    assert sum(not r.cached for r in results) == 1 and sum(r.attempts for r in results) == 1
    total = session.usage.totals()
    assert total["calls"] == 1 and total["cache_hits"] == 19


async def test_a_waiter_whose_leader_is_cancelled_asks_itself(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_latency(200.0)
    session = ModelSession()
    model = session.model("judge", "openai-compatible/j", base_url=fake_llm.base_url)
    leader = asyncio.ensure_future(model.generate("q"))
    await asyncio.sleep(0.05)
    waiter = asyncio.ensure_future(model.generate("q"))
    await asyncio.sleep(0.05)
    leader.cancel()
    result = await waiter
    await session.aclose()
    assert result.ok and not result.cached and fake_llm.requests == 2


async def test_duplicate_texts_in_one_embed_call_are_fetched_once(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    session = ModelSession(cache_dir=tmp_path)
    model = session.model("embedder", "openai-compatible/e", base_url=fake_llm.base_url)
    result = await model.embed(["a", "b", "a", "a", "c", "b"])
    await session.aclose()
    assert result.ok and result.vectors is not None and result.vectors.shape[0] == 6
    assert (result.vectors[0] == result.vectors[2]).all() and (result.vectors[1] == result.vectors[5]).all()
    assert result.input_tokens == 3  # one token per distinct text was billed


async def test_roles_on_one_server_share_one_slot_pool(fake_llm: FakeLLMServer) -> None:
    fake_llm.set_latency(50.0)
    session = ModelSession(max_concurrency=3)
    models = [session.model("target", "vllm/t", base_url=fake_llm.base_url),
              session.model("judge", "openai-compatible/j", base_url=fake_llm.base_url),
              session.model("generator", "llamacpp/g", base_url=fake_llm.base_url)]
    results = await asyncio.gather(*(m.generate(f"{m.role} {i}") for m in models for i in range(8)))
    await session.aclose()
    assert all(r.ok for r in results) and fake_llm.max_in_flight == 3


async def test_concurrency_is_capped_at_the_servers_slots(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that reports 2 slots gets at most 2 requests at once, however high --max-concurrency is."""
    asked: list[int] = []

    async def two_slots(self: Provider) -> ServerLimits:
        asked.append(1)
        return ServerLimits(slots=2, context_tokens=2048)

    fake_llm.set_latency(50.0)
    session = ModelSession(max_concurrency=16)
    model = session.model("target", "llamacpp/t", base_url=fake_llm.base_url)
    monkeypatch.setattr(type(model.provider), "server_limits", two_slots)
    try:
        assert (await model.server_limits()).slots == 2
        asked.clear()
        results = await asyncio.gather(*(model.generate(f"q{i}") for i in range(12)))
        assert all(r.ok for r in results) and fake_llm.max_in_flight == 2 and asked == [1]
    finally:
        await session.aclose()


async def test_failing_discovery_keeps_the_configured_bound(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Provider) -> ServerLimits:
        raise RuntimeError("no /slots here")

    fake_llm.set_latency(50.0)
    session = ModelSession(max_concurrency=4)
    model = session.model("target", "llamacpp/t", base_url=fake_llm.base_url)
    monkeypatch.setattr(type(model.provider), "server_limits", broken)
    try:
        results = await asyncio.gather(*(model.generate(f"q{i}") for i in range(12)))
        assert all(r.ok for r in results) and fake_llm.max_in_flight == 4
    finally:
        await session.aclose()


async def test_a_server_at_a_reused_address_is_asked_again(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once every session on an address has closed, the next one asks again: a restarted server, or another
    one on a reused port, may serve a different number of slots."""
    answers = iter([ServerLimits(slots=1, context_tokens=2048), ServerLimits(slots=3, context_tokens=2048)])

    async def changing(self: Provider) -> ServerLimits:
        return next(answers)

    fake_llm.set_latency(50.0)
    seen = []
    for _ in range(2):
        session = ModelSession(max_concurrency=16)
        model = session.model("target", "llamacpp/t", base_url=fake_llm.base_url)
        monkeypatch.setattr(type(model.provider), "server_limits", changing)
        fake_llm.reset_counts()
        results = await asyncio.gather(*(model.generate(f"q{i}") for i in range(9)))
        await session.aclose()
        assert all(r.ok for r in results)
        seen.append(fake_llm.max_in_flight)
    assert seen == [1, 3]
