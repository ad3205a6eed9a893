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
Each run is one search; a search that never finds it is censored at its cap. The figures: target
calls (B and A) per failure found, i.e. all calls of all searches over the searches that found it
(`calls_differential`, `calls_filter`), the same for B's calls alone, and the median per search.

Reading the result. The hope: a plain search on B follows both of B's failures, while A shares the
formal one, so the differential score is near zero there and the search concentrates on the Spanish
cue, paying two calls per candidate for that. Measured (3 seeds x 3 runs, cap 1,000 candidates): the
differential search found the new failure in 4 of 9 searches, SURF-then-filter in 3; per failure
found it spent 1,499 B calls against 2,252, but 2,997 B and A calls against 2,401. It does not
concentrate on the new cue: the world's failures are stochastic (a cue-bearing prompt fails outright
in about 1 sample in 8), so one sample of each model often shows B failing and A not on the shared
formal cue too; 615 of its 3,000 candidates carried the formal cue and 6 the Spanish one. A
differential score over several samples per side would separate them; one sample does not.
Last line: one JSON object with `found`, `calls_differential`, `calls_filter`.

    .venv/bin/python bench/differential.py [--seeds 3] [--runs 3] [--candidates 10] [--iterations 100]
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


def differential_search(world: Any, records: list[dict[str, Any]], cap: int) -> dict[str, Any]:
    """One differential search: B calls and A calls up to the first candidate showing the new failure
    (each candidate is one of each; cap + 1 of each when it never does)."""
    for position, record in enumerate(records, 1):
        sides = record.get("differential") or {}
        if record.get("score") is not None and sides.get("kind") == "new" and sides["target"]["score"] >= FOUND_AT \
                and carries_cue(world, NEW, str(record["query"])):
            return {"found": True, "target": position, "baseline": position}
    return {"found": False, "target": cap + 1, "baseline": cap + 1}


def filter_search(world: Any, records: list[dict[str, Any]], baseline: WorldTarget, seed: int, cap: int) -> dict[str, Any]:
    """One SURF-then-filter search: B calls up to the first B finding with the new cue that A does not
    violate, and the A calls that filtered B's findings until then (cap + 1 B calls when none passes)."""
    checks = 0
    for position, record in enumerate(records, 1):
        if record.get("score") is None or float(record["score"]) < FOUND_AT:
            continue
        checks += 1
        answer = baseline.respond(str(record["query"]), seed=sample_index_for(seed, str(record["id"])))
        if judge(world, "code", str(record["query"]), answer)[0] <= THRESHOLD and carries_cue(world, NEW, str(record["query"])):
            return {"found": True, "target": position, "baseline": checks}
    return {"found": False, "target": cap + 1, "baseline": checks}


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
    parser.add_argument("--iterations", type=int, default=100, help="iterations per run (cap = iterations x candidates)")
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
    searches: dict[str, list[dict[str, Any]]] = {"differential": [], "filter": []}
    with WorldServer(WorldRoles(world, target, 0, baseline=baseline)).in_thread() as server:
        for seed in range(args.seeds):
            out = asyncio.run(sweeps(pool, server.base_url, args, seed, work))
            for run in range(args.runs):
                mine = {name: [r for r in load_candidates(path) if r["run"] == run] for name, path in out.items()}
                searches["differential"].append(differential_search(world, mine["differential"], cap))
                searches["filter"].append(filter_search(world, mine["filter"], baseline, seed, cap))
            print(f"seed {seed}: " + "; ".join(
                f"{name} " + str([(s["target"] + s["baseline"]) if s["found"] else "-" for s in found[-args.runs:]])
                for name, found in searches.items()), file=sys.stderr, flush=True)
    summary = {name: _summary(found) for name, found in searches.items()}
    for name, row in summary.items():
        print(f"{name:<12} found in {row['found']} of {len(searches[name])} searches; median {row['median_calls']} "
              f"target calls (B and A, censored at cap + 1), {row['median_target_calls']} of them B's; "
              f"{row['calls_per_found']} calls per failure found ({row['target_calls_per_found']} B calls)")
    differential, filtered = summary["differential"], summary["filter"]
    print(json.dumps({
        "bench": "differential", "world": world.name, "new": NEW, "shared": SHARED, "seeds": args.seeds,
        "runs": args.runs, "searches": args.seeds * args.runs, "candidates": args.candidates,
        "iterations": args.iterations, "cap_per_run": cap, "pool": args.pool,
        "found": differential["found"] > 0, "found_differential": differential["found"], "found_filter": filtered["found"],
        "calls_differential": differential["calls_per_found"], "calls_filter": filtered["calls_per_found"],
        "calls_are": "target calls (B and A) per failure found: all calls of all searches / searches that found it",
        "target_calls_differential": differential["target_calls_per_found"],
        "target_calls_filter": filtered["target_calls_per_found"],
        "median_calls_differential": differential["median_calls"], "median_calls_filter": filtered["median_calls"],
        "searches_detail": searches, "wall_s": round(time.perf_counter() - started, 1),
    }))


def _summary(searches: list[dict[str, Any]]) -> dict[str, Any]:
    """Found count, median calls per search (censored searches at their cap) and calls per failure found."""
    found = sum(s["found"] for s in searches)
    total = [s["target"] + s["baseline"] for s in searches]
    return {"found": found, "median_calls": statistics.median(total),
            "median_target_calls": statistics.median(s["target"] for s in searches),
            "calls_per_found": round(sum(total) / found, 1) if found else None,
            "target_calls_per_found": round(sum(s["target"] for s in searches) / found, 1) if found else None}


if __name__ == "__main__":
    main()
