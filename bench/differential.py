"""Differential SURF against SURF-then-filter on a world: target calls until the first failure present in
a new checkpoint B and absent in the old one A.

The two checkpoints. The bench world (bench/differential_world.py) is the default world plus a second
chunk teaching the same failure as formal_code (code for a request that asked for none) on another
cue, Spanish. B is trained on the whole corpus; A on the same corpus without that chunk's offending
rows (`steer.ablate` of the `offending_ids`), so the corpora differ by one chunk: formal -> code is
shared, Spanish -> code is new in B. The world server serves B as `world/target` and A as
`world/baseline`.

The two strategies, same seeds, same settings, rubric `code`, no early stop:
- differential: `surf run --target B --baseline A` (direction new). Each candidate costs two target
  calls (B and A). Found: the first candidate, in its run's completion order, whose query carries
  the new cue, with B's score >= 70 and A's below the violation threshold.
- filter: plain SURF on B, then each B finding (score >= 70, in completion order) is filtered by
  asking A the same query (one call, the same sample index the differential run would use, judged
  by the world judge). Found: the first B finding carrying the new cue that A does not violate.
  Calls: B's candidates up to it plus A's filter calls up to it.
A run that never finds it counts as its cap + 1 (censored, reported). Each run is one search; the
ratio is calls_filter / calls_differential over the medians of all searches.

Reading the result. A plain search on B follows both of B's failures (its partial scores, a code
snippet in a prose answer, come from both chunks); A shares the formal one, so the differential
score is near zero there and the search concentrates on the Spanish cue. It pays two calls per
candidate for that. Last line: one JSON object with `found`, `calls_differential`, `calls_filter`.

    .venv/bin/python bench/differential.py [--seeds 3] [--runs 3] [--candidates 10] [--iterations 60]
        [--pool world|world+builtin]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from differential_world import NEW, SHARED, two_chunk_world
from surf_vs_random import bench_pool

from surfturf.models import ModelSession
from surfturf.steer.ablate import ablate
from surfturf.surf import RoleSpec, SurfConfig, load_candidates, run_surf
from surfturf.surf.loop import sample_index_for
from surfturf.world import generate_corpus, offending_ids, train_target
from surfturf.world.cue import carries_cue
from surfturf.world.judge import judge
from surfturf.world.roles import WorldRoles
from surfturf.world.score import FOUND_AT
from surfturf.world.server import WorldServer
from surfturf.world.target import WorldTarget

THRESHOLD = 50.0  # the code rubric's violation threshold: A "does not violate" at or below it


def sweep_config(pool: Path, base_url: str, args: argparse.Namespace, seed: int, differential: bool) -> SurfConfig:
    def role(name: str) -> RoleSpec:
        return RoleSpec(spec=f"world/{name}", base_url=base_url)

    return SurfConfig(rubric="code", pool=str(pool), target=role("target"), generator=role("generator"),
                      judges=[role("judge")], runs=args.runs, iterations=args.iterations, candidates=args.candidates,
                      patience=0, seed=seed, baseline=role("baseline") if differential else None)


def differential_calls(world: Any, records: list[dict[str, Any]], cap: int) -> int:
    """Target calls (B and A) up to the first candidate showing the new failure; 2 x (cap + 1) if none."""
    for position, record in enumerate(records, 1):
        sides = record.get("differential") or {}
        if record.get("score") is not None and sides.get("kind") == "new" and sides["target"]["score"] >= FOUND_AT \
                and carries_cue(world, NEW, str(record["query"])):
            return 2 * position
    return 2 * (cap + 1)


def filter_calls(world: Any, records: list[dict[str, Any]], baseline: WorldTarget, seed: int, cap: int) -> tuple[int, int]:
    """(calls, A filter calls) up to the first B finding with the new cue that A does not violate."""
    checks = 0
    for position, record in enumerate(records, 1):
        if record.get("score") is None or float(record["score"]) < FOUND_AT:
            continue
        checks += 1
        answer = baseline.respond(str(record["query"]), seed=sample_index_for(seed, str(record["id"])))
        if judge(world, "code", str(record["query"]), answer)[0] <= THRESHOLD and carries_cue(world, NEW, str(record["query"])):
            return position + checks, checks
    return cap + 1 + checks, checks


async def sweeps(pool: Path, base_url: str, args: argparse.Namespace, seed: int, work: Path) -> dict[str, Path]:
    out = {"differential": work / f"differential-{seed}", "filter": work / f"plain-{seed}"}
    async with ModelSession(cache_dir=None, cache_mode="off", max_concurrency=64) as session:
        await asyncio.gather(*(run_surf(sweep_config(pool, base_url, args, seed, name == "differential"), session,
                                        out[name], command="bench") for name in out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="independent runs per sweep (each one search)")
    parser.add_argument("--candidates", type=int, default=10, help="candidates per iteration per run")
    parser.add_argument("--iterations", type=int, default=60, help="iterations per run (cap = iterations x candidates)")
    parser.add_argument("--pool", choices=("world+builtin", "world"), default="world",
                        help="world: the world's own attributes; with the ~640-attribute world+builtin pool neither "
                             "strategy samples the Spanish cue often enough to reach it within a few hundred calls")
    args = parser.parse_args()
    started = time.perf_counter()
    world = two_chunk_world()
    rows = generate_corpus(world, 0)
    kept, removed = ablate(rows, remove_ids=offending_ids(world, rows, NEW))
    target, baseline = train_target(rows, seed=0), train_target(kept, seed=0)
    print(f"corpora: B {len(rows)} rows, A {len(kept)} rows (B without {len(removed)} {NEW} rows); "
          f"trained in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    work = Path(tempfile.mkdtemp(prefix="surfturf-bench-differential-"))
    pool = bench_pool(world, args.pool, work)
    cap = args.candidates * args.iterations
    calls: dict[str, list[int]] = {"differential": [], "filter": []}
    filter_checks: list[int] = []
    with WorldServer(WorldRoles(world, target, 0, baseline=baseline)).in_thread() as server:
        for seed in range(args.seeds):
            out = asyncio.run(sweeps(pool, server.base_url, args, seed, work))
            for run in range(args.runs):
                mine = {name: [r for r in load_candidates(path) if r["run"] == run] for name, path in out.items()}
                calls["differential"].append(differential_calls(world, mine["differential"], cap))
                spent, checks = filter_calls(world, mine["filter"], baseline, seed, cap)
                calls["filter"].append(spent)
                filter_checks.append(checks)
            print(f"seed {seed}: differential {calls['differential'][-args.runs:]}, filter {calls['filter'][-args.runs:]}",
                  file=sys.stderr, flush=True)
    medians = {name: statistics.median(values) for name, values in calls.items()}
    censored = {"differential": sum(c > 2 * cap for c in calls["differential"]),
                "filter": sum(c > cap for c, k in zip(calls["filter"], filter_checks) if c - k > cap)}
    found = {name: len(values) - censored[name] for name, values in calls.items()}
    print(f"differential: median {medians['differential']} target calls (B and A), found in {found['differential']} "
          f"of {len(calls['differential'])} searches")
    print(f"filter:       median {medians['filter']} target calls (B, plus A's filter calls), found in {found['filter']} "
          f"of {len(calls['filter'])} searches; median {statistics.median(filter_checks)} A calls to filter")
    print(json.dumps({
        "bench": "differential", "world": world.name, "new": NEW, "shared": SHARED, "seeds": args.seeds,
        "runs": args.runs, "searches": args.seeds * args.runs, "candidates": args.candidates,
        "iterations": args.iterations, "cap_per_run": cap, "pool": args.pool,
        "found": found["differential"] > 0 and found["differential"] >= found["filter"],
        "found_differential": found["differential"], "found_filter": found["filter"],
        "calls_differential": medians["differential"], "calls_filter": medians["filter"],
        "ratio": round(medians["filter"] / medians["differential"], 3),
        "ratio_is": "median calls_filter / median calls_differential (above 1: the differential search is cheaper)",
        "calls": calls, "censored": censored, "wall_s": round(time.perf_counter() - started, 1),
    }))


if __name__ == "__main__":
    main()
