"""The spend ledger: budgets count what earlier processes in the directory spent; a stop resumes with a higher cap."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from surfturf.models import LEDGER_FILE, Budget, ModelSession
from surfturf.models.ledger import SpendLedger
from surfturf.testing.server import FakeLLMServer

SPEC = "openai-compatible/priced"


def priced(tmp_path: Path) -> Path:
    """A price table that makes one fake-server call cost about $0.01 (3 prompt + 4 reply tokens)."""
    path = tmp_path / "prices.yaml"
    path.write_text(f"{SPEC}: {{input: 1500, output: 1500}}\n")
    return path


async def spend_until_stopped(url: str, tmp_path: Path, cap: float, start: int) -> tuple[ModelSession, int]:
    """Call one at a time (so at most one call is in flight when the cap trips) until the budget stops us."""
    session = ModelSession(budget=Budget(max_usd=cap), prices=priced(tmp_path), ledger=tmp_path / LEDGER_FILE)
    model = session.model("target", SPEC, base_url=url)
    sent = 0
    for i in range(start, start + 100):
        result = await model.generate(f"question {i}")
        if result.error is not None:
            assert result.error.startswith("budget: cost cap reached")
            break
        sent += 1
    await session.aclose()
    return session, sent


async def test_cap_twice_spends_the_cap_once(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    first, sent = await spend_until_stopped(fake_llm.base_url, tmp_path, 0.20, 0)
    per_call = first.usage.totals()["cost_usd"] / sent
    assert sent > 5 and first.spent()["cost_usd"] >= 0.20
    second, again = await spend_until_stopped(fake_llm.base_url, tmp_path, 0.20, 1000)
    assert again == 0 and second.usage.totals()["calls"] == 0  # this process's usage: nothing
    total = SpendLedger(tmp_path / LEDGER_FILE).totals()
    assert total["cost_usd"] <= 0.20 + per_call + 1e-9 and fake_llm.requests == sent
    assert second.spent() == total and total["calls"] == sent
    third, more = await spend_until_stopped(fake_llm.base_url, tmp_path, 0.40, 2000)  # resumable, higher cap
    assert more > 5 and 0.40 <= third.spent()["cost_usd"] <= 0.40 + per_call + 1e-9


async def test_every_cap_counts_prior_spend(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    ledger = tmp_path / LEDGER_FILE
    session = ModelSession(ledger=ledger)
    model = session.model("target", SPEC, base_url=fake_llm.base_url)
    assert all(r.ok for r in await asyncio.gather(*(model.generate(f"q{i}") for i in range(4))))
    await session.aclose()
    tokens = session.spent()["input_tokens"] + session.spent()["output_tokens"]
    assert ModelSession(ledger=ledger, budget=Budget(max_calls=4)).budget_exhausted
    assert not ModelSession(ledger=ledger, budget=Budget(max_calls=5)).budget_exhausted
    assert ModelSession(ledger=ledger, budget=Budget(max_total_tokens=tokens)).budget_exhausted
    assert not ModelSession(ledger=ledger, budget=Budget(max_total_tokens=tokens + 1)).budget_exhausted


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE
    ledger = SpendLedger(path)
    ledger.append("judge", SPEC, 10, 5, 0.25)
    ledger.close()
    with path.open("a") as handle:
        handle.write('{"time": 1, "role": "judge", "calls": 1, "input_tok')  # a kill mid-write
    reopened = SpendLedger(path)
    assert reopened.totals() == {"calls": 1, "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.25}
    reopened.close()


def test_unwritable_ledger_is_one_line(tmp_path: Path) -> None:
    from surfturf.errors import UserError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write spend ledger"):
        ModelSession(ledger=blocker / LEDGER_FILE)
