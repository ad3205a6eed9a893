"""An offline index (heuristic extractor, hash embedder) of some corpus files, for tests and benchmarks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from surfturf.data import resolve_inputs
from surfturf.models import ModelSession
from surfturf.turf.build import BuildConfig, IndexBuilder


def build_offline_index(inputs: list[str], out: Path, limit: int, embedder: str = "hash/256") -> Path:
    """Build INDEX at `out` from up to `limit` rows of each input, with no model calls."""

    async def build() -> None:
        session = ModelSession(cache_dir=None, cache_mode="off")
        config = BuildConfig(extractor="heuristic", embedder=embedder, limit=limit)
        builder = IndexBuilder(resolve_inputs(inputs), out, config, session, None,
                               session.model("embedder", embedder), None, console=Console(quiet=True))
        await builder.run()
        await session.aclose()

    asyncio.run(build())
    return out
