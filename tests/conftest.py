"""Shared fixtures: a scriptable local LLM server (`fake_llm`) and a model session against it (`fake_session`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from surfturf.models import ModelSession, RetryPolicy
from surfturf.testing.server import FakeLLMServer

FAST_RETRY = RetryPolicy(max_retries=3, base_s=0.01, cap_s=0.05)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A real OpenAI/Anthropic-shaped server on 127.0.0.1 (own thread, so sync and async tests can use it).

    Specs against it: `openai-compatible/<any name>` with base_url=fake_llm.base_url. Script it with
    `fake_llm.responder = fn(messages, model) -> str`, `set_latency`, `fail_next`, `fail_always`.
    """
    with FakeLLMServer().in_thread() as server:
        yield server


@pytest.fixture
def fake_session(tmp_path: Path) -> ModelSession:
    """A ModelSession with a fresh cache under tmp_path and fast retries."""
    return ModelSession(cache_dir=tmp_path / "cache", max_concurrency=8, timeout_s=5.0, retry=FAST_RETRY)


@pytest.fixture(scope="session")
def world():  # type: ignore[no-untyped-def]
    """The built-in world spec (surfturf/world/default.yaml), loaded once for every world test."""
    from surfturf.world import load_world

    return load_world(None)
