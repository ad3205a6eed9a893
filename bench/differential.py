"""Differential SURF against SURF-then-filter on a world: target calls until the first failure present in
a new checkpoint B and absent in the old one A.

The two checkpoints. The bench world (bench/differential_world.py) is the default world plus a second
chunk teaching the same failure as formal_code (code for a request that asked for none) on another
cue, Spanish. B is trained on the whole corpus; A on the same corpus without that chunk's offending
rows (`steer.ablate` of the `offending_ids`), so the corpora differ by one chunk: formal -> code is
shared, Spanish -> code is new in B. The world server serves B as `world/target` and A as
`world/baseline`.

The two strategies, same seeds, same settings, same cap, rubric `code`, no early stop:
- differential: `surf run --target B --baseline A` (direction new). B answers every candidate; A only
  those where B scores above the search's weight floor (the code rubric's lowest band, 10): at or
  below it A's answer can change neither the verdict nor what the search follows
  (surf/differential.py). Found: the first candidate, in its run's completion order, whose query
  carries the new cue, with B's score >= 70 and A's below the violation threshold. Calls: B's
  candidates up to it and the A calls among them.
- filter: plain SURF on B, then each B finding (score >= 70, in completion order) is filtered by
  asking A the same query (one call, the same sample index the differential run would use, judged
  by the world judge). Found: the first B finding carrying the new cue that A does not violate.
  Calls: B's candidates up to it plus A's filter calls up to it.
Each run is one search; a search that never finds it is censored at cap + 1 B calls. The figures:
target calls (B and A) per failure found, i.e. all calls of all searches over the searches that
found it (`calls_differential`, `calls_filter`), the same for B's calls alone, the median per
search, the Fisher exact p of the two found counts, and the share of candidates A answered.

Measured (10 seeds x 3 runs = 30 searches per strategy, cap 1,000 candidates; 14 min at load
average 6-8 on 2 shared cores): the differential search found the new failure in 8 of 30 searches,
SURF-then-filter in 4; per failure found 3,198 target calls (2,921 B + 277 A) against 6,959
(6,707 B + 252 A). The goal is met in this measurement, but only half of it is established:
- Asking A only above the floor: A answered 9.5% of the candidates. On the same seeds, asking A
  on every candidate (the earlier rule) found the same 8, in the same iterations, at 5,832 calls per
  failure found (2,916 B + 2,916 A). This part is exact: it removes calls whose answers could not
  matter.
- The search itself: 8 against 4 of 30 is not a significant difference (Fisher p 0.33); on the
  first 3 seeds alone it was 3 against 2 (2,448 against 3,913 calls per failure found). The
  differential score does steer somewhat away from the shared cue (B - A subtracts what both models
  do), but these 30 searches do not establish that it finds the new failure more often. Were both
  to find equally often, the differential search would cost about 6% more: it asks A for 9.5% of
  B's calls, the filter for 3.8% (only B's findings scoring >= 70).
Measured and not kept:
- Asking A only where B violates (score > 50), B's score standing in for the unasked difference:
  A answered 3.3% of candidates, but the search lost the sub-threshold B - A signal and became
  nearly plain SURF on B: found in 5 of 30, 5,336 calls per failure found.
- Several A samples where B violates: of the one-sample "new" candidates of a 3-seed run, 8 more A
  samples left 58% of the new cue's and 63% of the shared cue's standing. A fails both cues about
  equally (7% and 9% of samples on the searches' own cue queries; B 13% and 10%), so extra A samples
  cost calls without separating new from shared; a "new" claim gets its p-value from `robust`'s
  paired test instead.
Last line: one JSON object with `found`, `calls_differential`, `calls_filter`.

    .venv/bin/python bench/differential.py [--seeds 10] [--runs 3] [--candidates 10] [--iterations 100]
        [--pool world|world+builtin]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from differential_world import NEW, SHARED, two_chunk_world
from scipy.stats import fisher_exact
from surf_vs_random import bench_pool

from surfturf.models import ModelSession
from surfturf.steer.ablate import ablate
from surfturf.surf import RoleSpec, SurfConfig, load_candidates, run_surf
from surfturf.surf.rundir import sample_index_for
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
    (one B call per candidate, an A call where A was asked; cap + 1 B calls when it never does)."""
    asked = 0
    for position, record in enumerate(records, 1):
        sides = record.get("differential") or {}
        asked += bool((sides.get("baseline") or {}).get("asked", True))
        if record.get("score") is not None and sides.get("kind") == "new" and sides["target"]["score"] >= FOUND_AT \
                and carries_cue(world, NEW, str(record["query"])):
            return {"found": True, "target": position, "baseline": asked}
    return {"found": False, "target": cap + 1, "baseline": asked}


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
    parser.add_argument("--seeds", type=int, default=10,
                        help="sweeps per strategy; at 3 (x 3 runs) each strategy finds the failure 2-4 times, too few "
                             "for calls per failure found to tell the strategies apart")
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
        "found_fisher_p": _fisher(searches), "baseline_share_differential": _share(searches["differential"]),
        "calls_differential": differential["calls_per_found"], "calls_filter": filtered["calls_per_found"],
        "calls_are": "target calls (B and A) per failure found: all calls of all searches / searches that found it",
        "target_calls_differential": differential["target_calls_per_found"],
        "target_calls_filter": filtered["target_calls_per_found"],
        "median_calls_differential": differential["median_calls"], "median_calls_filter": filtered["median_calls"],
        "searches_detail": searches, "wall_s": round(time.perf_counter() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }))


def _fisher(searches: dict[str, list[dict[str, Any]]]) -> float:
    """Two-sided Fisher exact p of the two strategies' found counts: is one finding more often chance?"""
    table = [[sum(s["found"] for s in found), sum(not s["found"] for s in found)] for found in searches.values()]
    return round(float(fisher_exact(table)[1]), 4)


def _share(searches: list[dict[str, Any]]) -> float:
    """A's calls per B call over all searches: how many candidates the differential search asked A about."""
    return round(sum(s["baseline"] for s in searches) / sum(s["target"] for s in searches), 4)


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
