"""Process-wide concurrency bound, rate limits, budget caps, accounting and estimates."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from surfturf.models import Budget, ModelSession, RetryPolicy
from surfturf.models.limits import REGISTRY, EndpointSlots
from surfturf.testing.server import FakeLLMServer


async def test_concurrency_bound_holds_across_sessions_and_loops(fake_llm: FakeLLMServer) -> None:
    """Three sessions (two in this loop, one in another thread's loop) share one bound of 4 per endpoint."""
    fake_llm.set_latency(30.0, sigma=0.5)

    async def burst(session: ModelSession, tag: str, n: int) -> list[bool]:
        model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
        return [r.ok for r in await asyncio.gather(*(model.generate(f"{tag} {i}") for i in range(n)))]

    def other_thread(out: list[bool]) -> None:
        session = ModelSession(max_concurrency=16)
        async def run() -> list[bool]:
            async with session:
                return await burst(session, "thread", 30)

        out.extend(asyncio.run(run()))

    thread_results: list[bool] = []
    thread = threading.Thread(target=other_thread, args=(thread_results,))
    a, b = ModelSession(max_concurrency=4), ModelSession(max_concurrency=8)
    thread.start()
    results = await asyncio.gather(burst(a, "a", 30), burst(b, "b", 30))
    await asyncio.to_thread(thread.join)
    assert all(results[0]) and all(results[1]) and len(thread_results) == 30 and all(thread_results)
    assert fake_llm.requests == 90
    assert fake_llm.max_in_flight == 4  # the smallest bound any live session asked for, never exceeded
    await a.aclose()
    await b.aclose()


class FixedDelay(RetryPolicy):
    """Backoff without jitter, so a test can tell waiting from sending."""

    def delay(self, attempt: int, retry_after: float | None) -> float:
        return 0.5


async def test_slot_is_released_while_waiting_to_retry(fake_llm: FakeLLMServer) -> None:
    """With one slot, a request backing off after a 500 lets another through meanwhile."""
    session = ModelSession(max_concurrency=1, retry=FixedDelay())
    model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
    fake_llm.fail_next(1, "500")
    first = asyncio.ensure_future(model.generate("waits"))
    await asyncio.sleep(0.15)
    started = time.perf_counter()
    second = await model.generate("passes")
    assert second.ok and time.perf_counter() - started < 0.3 and not first.done()
    assert (await first).attempts == 2
    await session.aclose()


@pytest.mark.parametrize("retry_after", [0.5, None])
async def test_429_pauses_the_whole_endpoint(fake_llm: FakeLLMServer, retry_after: float | None) -> None:
    """A 429 on one call (with or without Retry-After) holds back every other call to that server."""
    session = ModelSession(max_concurrency=8, retry=FixedDelay())
    judge = session.model("judge", "openai-compatible/j", base_url=fake_llm.base_url)
    target = session.model("target", "vllm/t", base_url=fake_llm.base_url)  # another role and spec, one server
    fake_llm.fail_next(1, "429", retry_after=retry_after)
    first = asyncio.ensure_future(judge.generate("rate limited"))
    slots = REGISTRY.slots_for(judge.endpoint.slot_key)
    for _ in range(500):  # until the 429 is back
        if slots.paused_for() > 0:
            break
        await asyncio.sleep(0.01)
    remaining = slots.paused_for()
    started = time.perf_counter()
    others = await asyncio.gather(*(target.generate(f"other {i}") for i in range(3)))
    waited = time.perf_counter() - started
    assert remaining > 0 and all(r.ok and r.attempts == 1 for r in others) and waited >= remaining - 0.02
    assert (await first).attempts == 2
    await session.aclose()


async def test_slots_cancellation_returns_the_slot() -> None:
    slots = EndpointSlots()
    slots.register(1)
    await slots.acquire()
    waiter = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    slots.release()
    await asyncio.sleep(0)
    assert slots.in_use == 0
    await asyncio.wait_for(slots.acquire(), 1)


async def test_rpm_limit_spaces_requests(fake_llm: FakeLLMServer) -> None:
    session = ModelSession(rpm=60)  # a burst of 60, then one per second
    model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
    started = time.perf_counter()
    results = await asyncio.gather(*(model.generate(f"p{i}") for i in range(61)))
    assert all(r.ok for r in results) and time.perf_counter() - started >= 0.9
    await session.aclose()


async def test_call_cap_stops_work_and_says_so(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    session = ModelSession(cache_dir=tmp_path, budget=Budget(max_calls=3), max_concurrency=2)
    model = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
    results = await asyncio.gather(*(model.generate(f"p{i}") for i in range(10)))
    assert sum(r.ok for r in results) == 3 and fake_llm.requests == 3
    refused = [r for r in results if not r.ok]
    assert len(refused) == 7 and all(r.error.startswith("budget: call cap reached") for r in refused)
    assert session.budget_exhausted and "3 of max 3 calls" in session.budget_reason
    again = await model.generate("p0")  # cached answers stay free after the cap
    assert again.ok and again.cached
    await session.aclose()


async def test_usd_and_token_caps(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("openai-compatible/pricey: {input: 100000, output: 100000}\n")
    session = ModelSession(prices=prices, budget=Budget(max_usd=0.5))
    model = session.model("judge", "openai-compatible/pricey", base_url=fake_llm.base_url)
    first = await model.generate("one two three")
    assert first.ok and first.cost_usd == pytest.approx((3 + 4) * 0.1)  # 3 words in, 4 words out
    assert session.budget_exhausted and "cost cap" in session.budget_reason
    assert (await model.generate("more")).error.startswith("budget: cost cap")
    tokens = ModelSession(budget=Budget(max_total_tokens=5))
    small = tokens.model("judge", "openai-compatible/t", base_url=fake_llm.base_url)
    assert (await small.generate("one two three")).ok
    assert (await small.generate("again")).error.startswith("budget: token cap")
    await session.aclose()
    await tokens.aclose()


async def test_usage_summary_and_estimate(fake_llm: FakeLLMServer) -> None:
    session = ModelSession()
    judge = session.model("judge", "openai-compatible/j", base_url=fake_llm.base_url)
    target = session.model("target", "openai-compatible/t", base_url=fake_llm.base_url)
    await asyncio.gather(*(judge.generate(f"j{i}") for i in range(4)), target.generate("t"))
    summary = session.usage.summary()
    rows = {(r["role"], r["model"]): r for r in summary["per_model"]}
    assert rows[("judge", "openai-compatible/j")]["calls"] == 4
    assert rows[("target", "openai-compatible/t")]["output_tokens"] == 2
    assert summary["total"]["calls"] == 5 and summary["total"]["latency_p95_s"] >= summary["total"]["latency_p50_s"]
    assert session.estimate("judge", "openai/gpt-4.1", 100, 1000, 100) == pytest.approx(100 * (2000 + 800) / 1e6)
    assert session.estimate("judge", "anthropic/claude-sonnet-4-5-20250929", 1, 1_000_000, 0) == pytest.approx(3.0)
    assert session.estimate("target", "hf/smollm2", 1000, 100, 100) == 0.0
    assert "total" in session.plan_lines()[-1]
    await session.aclose()


def test_rate_bucket_reserves_and_refunds() -> None:
    from surfturf.models.limits import RateBucket

    bucket = RateBucket(per_minute=60)
    assert bucket.reserve(60) == 0.0
    assert bucket.reserve(30) == pytest.approx(30.0, abs=0.5)  # 1 per second refill
    bucket.reserve(-30)  # a call used fewer tokens than estimated: the difference comes back
    assert bucket.reserve(1) == pytest.approx(1.0, abs=0.5)
