"""The demo over every shipped world x seeds: recall, trigger and chunk accuracy (mean and min) and
target calls to the first finding, per world and seed.

Each (world, seed) runs `surfturf demo`'s pipeline (build, train, index, serve, SURF per planted
rubric sampling the index's pool unless --pool spec, TURF traces, score; no report) in its own temporary folder. A finding counts for a
behaviour only when its query carries the behaviour's cue (world/cue.py). Last line: one JSON object.

    .venv/bin/python bench/worlds.py [--seeds 3] [--world NAME ...] [--pool index|spec]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from surfturf.world import load_world
from surfturf.world.demo import POOLS, run_demo
from surfturf.world.spec import shipped_worlds

METRICS = ("recall", "trigger_accuracy", "chunk_accuracy")


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 4), "min": round(min(values), 4)} if values else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--world", action="append", default=None, help="a shipped world or spec path (repeatable)")
    parser.add_argument("--pool", choices=POOLS, default="index", help="what SURF samples (see `surfturf demo --pool`)")
    args = parser.parse_args()

    started = time.perf_counter()
    names = args.world or list(shipped_worlds())
    worlds: dict[str, dict[str, object]] = {}
    for name in names:
        world = load_world(name)
        per_seed = []
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory(prefix="surfturf-worlds-") as out:
                score = run_demo(world, Path(out), seed, pool=args.pool, report=False).score
            calls = [b["calls_to_first"] for b in score["behaviours"] if b["calls_to_first"] is not None]
            row = {"seed": seed, **{m: score.get(m) for m in METRICS},
                   "calls_to_first_median": statistics.median(calls) if calls else None,
                   "missed": [b["name"] for b in score["behaviours"] if not b["found"]]}
            per_seed.append(row)
            print(f"{world.name:<12} seed {seed}: recall {row['recall']}  trigger {row['trigger_accuracy']}  "
                  f"chunk {row['chunk_accuracy']}  calls {row['calls_to_first_median']}  missed {row['missed']}",
                  file=sys.stderr, flush=True)
        worlds[world.name] = {"seeds": per_seed, **{m: summary([r[m] for r in per_seed if r[m] is not None])
                                                     for m in METRICS}}
        line = "  ".join(f"{m} mean {worlds[world.name][m].get('mean')} min {worlds[world.name][m].get('min')}"
                         for m in METRICS)
        print(f"{world.name:<12} {line}")
    every = [r for w in worlds.values() for r in w["seeds"]]  # type: ignore[union-attr]
    result = {"bench": "worlds", "seeds": args.seeds, "pool": args.pool, "worlds": worlds,
              **{m: summary([r[m] for r in every if r[m] is not None]) for m in METRICS},
              "goal": {"recall_min": 0.9}, "wall_s": round(time.perf_counter() - started, 1)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
