"""Shared fixtures: a scriptable local LLM server (`fake_llm`), a model session against it (`fake_session`),
the built-in world, and the real SFT mix (`sft_mix`, `sft_rows`) that tests on real data read."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from itertools import islice
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


REPO = Path(__file__).resolve().parents[1]
SFT_MIX_ENV = "SURFTURF_SFT_MIX"


def _checkouts(repo: Path) -> list[Path]:
    """The repository, and for a git worktree (`.git` is a file) also its main checkout, where ../shared lives."""
    found = [repo]
    dot_git = repo / ".git"
    if dot_git.is_file() and dot_git.read_text(encoding="utf-8").startswith("gitdir:"):
        gitdir = Path(dot_git.read_text(encoding="utf-8").split(":", 1)[1].strip())
        commondir = gitdir / "commondir"
        common = gitdir / commondir.read_text(encoding="utf-8").strip() if commondir.is_file() else gitdir
        found.append(common.resolve().parent)
    return found


def _sft_mix_candidates() -> list[Path]:
    if os.environ.get(SFT_MIX_ENV):
        return [Path(os.environ[SFT_MIX_ENV])]
    return [checkout.parent / "shared" / "data" / "sft-mix" for checkout in _checkouts(REPO)]


def sft_mix_dir() -> Path | None:
    """The real SFT mix (one .jsonl.gz per source): $SURFTURF_SFT_MIX, else ../shared/data/sft-mix beside
    the checkout; None when it is absent (for tests that only add cases when it is there)."""
    return next((path for path in _sft_mix_candidates() if path.is_dir() and any(path.glob("*.jsonl.gz"))), None)


@pytest.fixture(scope="session")
def sft_mix() -> Path:
    """`sft_mix_dir()`, skipping the test with the places looked at when the data is absent."""
    path = sft_mix_dir()
    if path is None:
        looked = " or ".join(map(str, _sft_mix_candidates()))
        pytest.skip(f"no sft-mix data at {looked}: set {SFT_MIX_ENV} to its folder")
    return path


@pytest.fixture(scope="session")
def sft_rows(sft_mix: Path) -> Callable[..., list[dict]]:
    """`sft_rows(source, limit=None)`: the first rows (Tulu `messages` records) of one source of the SFT mix."""
    def read(source: str, limit: int | None = None) -> list[dict]:
        with gzip.open(sft_mix / f"{source}.jsonl.gz", "rt", encoding="utf-8") as handle:
            return [json.loads(line) for line in islice(handle, limit)]

    return read
