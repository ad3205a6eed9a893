"""The end-to-end offline demo: world -> trained target served over HTTP -> SURF per planted rubric
-> TURF index and traces -> report -> score against the planted ground truth.

Every model call goes through the real client path (`world/...` specs over HTTP to the world
server running in a background thread).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surfturf.world.files import build_world, train_to
from surfturf.world.roles import WorldRoles
from surfturf.world.score import score_runs
from surfturf.world.server import WorldServer
from surfturf.world.spec import World


@dataclass(frozen=True)
class SurfSettings:
    """Small SURF settings that finish in seconds against the world."""

    runs: int = 3
    iterations: int = 12
    candidates: int = 20
    buffer: int = 5
    strategy: str = "surf"
    patience: int = 0
    stop_at: float | None = None


@dataclass
class DemoResult:
    """What the demo did: directories, stage timings, skipped stages and the score."""

    out: Path
    runs: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    score: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None


def surf_config(entry: dict[str, Any], pool: Path, base_url: str, settings: SurfSettings, seed: int) -> Any:
    """The SurfConfig for one planted behaviour's rubric, all roles served by the world."""
    from surfturf.surf import RoleSpec, SurfConfig

    def role(name: str) -> RoleSpec:
        return RoleSpec(spec=f"world/{name}", base_url=base_url)

    return SurfConfig(rubric=entry["rubric"], pool=str(pool), target=role("target"), generator=role("generator"),
                      judges=[role("judge")], strategy=settings.strategy, runs=settings.runs,
                      iterations=settings.iterations, candidates=settings.candidates, buffer=settings.buffer,
                      patience=settings.patience, stop_at=settings.stop_at, seed=seed)


async def surf_planted(world: World, pool: Path, base_url: str, out: Path, settings: SurfSettings, seed: int,
                       names: list[str] | None = None) -> dict[str, Path]:
    """Runs SURF for every (or the named) planted behaviour at once; returns name -> run directory."""
    from surfturf.models import ModelSession
    from surfturf.surf import run_surf

    entries = [e for e in world.planted if names is None or e["name"] in names]
    runs = {e["name"]: out / e["name"] for e in entries}
    async with ModelSession(cache_dir=None, cache_mode="off", max_concurrency=64) as session:
        await asyncio.gather(*(run_surf(surf_config(e, pool, base_url, settings, seed), session, runs[e["name"]],
                                        command="demo") for e in entries))
    return runs


def build_index(corpus: Path, out: Path) -> Path:
    """A TURF index of the world corpus with the heuristic extractor and the hashing embedder."""
    from surfturf.data.readers import resolve_inputs
    from surfturf.models import ModelSession
    from surfturf.turf.build import BuildConfig, IndexBuilder

    async def run() -> None:
        async with ModelSession(cache_dir=None, cache_mode="off") as session:
            config = BuildConfig(extractor="heuristic", embedder="hash/384")
            builder = IndexBuilder(resolve_inputs([str(corpus)]), out, config, session, None,
                                   session.model("embedder", "hash/384"))
            await builder.run()

    asyncio.run(run())
    return out


def trace_findings(runs: dict[str, Path], index: Path, base_url: str, top: int = 3) -> None:
    """Traces each run's top findings with the world's crux judge (heuristic blind judge)."""
    from surfturf.models import ModelSession
    from surfturf.turf.trace import trace_context, trace_run_async

    async def run() -> None:
        context = trace_context(index)
        async with ModelSession(cache_dir=None, cache_mode="off") as session:
            judge = session.model("judge", "world/crux", base_url=base_url)
            for run_dir in runs.values():
                await trace_run_async(run_dir, context, session, extractor=None, judge=judge, top=top)

    asyncio.run(run())


def run_demo(world: World, out: Path, seed: int = 0, settings: SurfSettings | None = None,
             stages: tuple[str, ...] = ("surf", "turf", "report")) -> DemoResult:
    """Builds, trains, serves and audits the world; each later stage runs when its module exists."""
    settings = settings or SurfSettings()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    world_dir = out / "world"
    rows = build_world(world, world_dir, seed)
    timings["build"] = time.perf_counter() - started
    mark = time.perf_counter()
    target = train_to(rows, world_dir / "target", seed, str(world_dir / "corpus.jsonl"))
    timings["train"] = time.perf_counter() - mark
    result = DemoResult(out=out, runs={}, timings=timings)
    server = WorldServer(WorldRoles(world, target, seed))
    with server.in_thread() as running:
        mark = time.perf_counter()
        result.runs = asyncio.run(surf_planted(world, world_dir / "world_pool.txt", running.base_url, out / "runs",
                                               settings, seed))
        timings["surf"] = time.perf_counter() - mark
        if "turf" in stages:
            mark = time.perf_counter()
            try:
                index = build_index(world_dir / "corpus.jsonl", out / "index")
                trace_findings(result.runs, index, running.base_url)
                timings["turf"] = time.perf_counter() - mark
            except ImportError as missing:
                result.skipped.append(f"turf ({missing})")
    if "report" in stages:
        try:
            from surfturf.report import write_report

            mark = time.perf_counter()
            result.report = write_report(list(result.runs.values()), out=out / "report.html")
            timings["report"] = time.perf_counter() - mark
        except ImportError as missing:
            result.skipped.append(f"report ({missing})")
    result.score = score_runs(world, out / "runs")
    timings["total"] = time.perf_counter() - started
    return result
