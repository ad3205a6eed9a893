"""An offline index (heuristic extractor, hash embedder) of some corpus files, and the check that two
builds are the same index, for tests and benchmarks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from rich.console import Console

from surfturf.data import resolve_inputs
from surfturf.models import ModelSession
from surfturf.turf import store
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


def assert_same_index(a: Path, b: Path) -> None:
    """Every table, every array and the pool of INDEX `a` equal those of `b` (engines and resumes agree)."""
    for name in store.TABLES:
        assert pq.read_table(a / name).equals(pq.read_table(b / name)), name
    for name in store.ARRAYS:
        assert np.array_equal(np.load(a / name), np.load(b / name)), name
    assert (a / store.POOL).read_text() == (b / store.POOL).read_text()
