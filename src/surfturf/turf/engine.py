"""Engines for the shard map of an index build: in this process, or on a Ray cluster (engine_ray).

An engine takes the shards still to do (finished ones are skipped by the builder) and writes each
one's folder with `build_shard`; clustering and the store stay with the builder on the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from surfturf.data.rows import CorpusRow
from surfturf.turf.shards import BuildStopped, Extractor, build_shard


@dataclass
class ShardJob:
    """One shard still to build: its number, its folder under INDEX/work/ and its rows."""

    number: int
    folder: Path
    rows: list[CorpusRow]


ShardDone = Callable[[ShardJob, dict[str, Any]], None]


class Engine(Protocol):
    name: str

    async def map(self, jobs: Iterable[ShardJob], on_rows: Callable[[int], None], on_shard: ShardDone) -> None:
        """Build every job's shard folder; call on_shard(job, done) as each one finishes."""


class InProcessEngine:
    """Shards one after another in this process, through the builder's own model session."""

    name = "in-process"

    def __init__(self, session: Any, extractor: Extractor, embedder: Any, dtype: str) -> None:
        self.session = session
        self.extractor = extractor
        self.embedder = embedder
        self.dtype = dtype

    async def map(self, jobs: Iterable[ShardJob], on_rows: Callable[[int], None], on_shard: ShardDone) -> None:
        for job in jobs:
            if self.session.budget_exhausted:
                raise BuildStopped(f"budget: {self.session.budget_reason}")
            on_shard(job, await build_shard(job.folder, job.rows, self.extractor, self.embedder, self.dtype, on_rows))
