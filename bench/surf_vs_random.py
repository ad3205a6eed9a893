"""SURF against random attribute sampling on the default world: target calls until the first finding
scoring >= 70, per planted behaviour, median over seeds.

Every run uses the real client path (world server over HTTP). Calls are counted in completion
order across a sweep's parallel runs; a sweep that finds nothing within the cap (runs x
iterations x candidates calls) counts as cap + 1 (censored; reported as such). The overall
ratio is the geometric mean over behaviours of random median / SURF median; the ratio of summed
medians is reported too. Last line: one JSON object.

    .venv/bin/python bench/surf_vs_random.py [--seeds 5] [--runs 3] [--candidates 10] [--iterations 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from surfturf.world import generate_corpus, load_world, train_target
from surfturf.world.demo import SurfSettings, surf_planted
from surfturf.world.roles import WorldRoles
from surfturf.world.score import calls_to_first
from surfturf.world.server import WorldServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=10, help="candidates per iteration")
    parser.add_argument("--iterations", type=int, default=20, help="iterations per run (the cap)")
    parser.add_argument("--runs", type=int, default=3, help="parallel runs per sweep (calls counted across them)")
    parser.add_argument("--world", type=Path, default=None)
    args = parser.parse_args()

    world = load_world(args.world)
    started = time.perf_counter()
    target = train_target(generate_corpus(world, 0), 0)
    pool_dir = Path(tempfile.mkdtemp(prefix="surfturf-bench-"))
    pool = world.pool_path(pool_dir)
    cap = args.runs * args.candidates * args.iterations
    calls: dict[str, dict[str, list[int]]] = {"surf": {}, "random": {}}
    with WorldServer(WorldRoles(world, target, 0)).in_thread() as server:
        for seed in range(args.seeds):
            for strategy in ("surf", "random"):
                settings = SurfSettings(runs=args.runs, iterations=args.iterations, candidates=args.candidates,
                                        strategy=strategy, patience=0)
                out = pool_dir / f"{strategy}-{seed}"
                runs = asyncio.run(surf_planted(world, pool, server.base_url, out, settings, seed))
                for name, run in runs.items():
                    found = calls_to_first(run)
                    calls[strategy].setdefault(name, []).append(found if found is not None else cap + 1)
                print(f"seed {seed} {strategy}: " + ", ".join(f"{n}={v[-1]}" for n, v in calls[strategy].items()),
                      file=sys.stderr, flush=True)

    behaviours = {}
    ratios = []
    for entry in world.planted:
        name = entry["name"]
        surf = statistics.median(calls["surf"][name])
        rand = statistics.median(calls["random"][name])
        ratio = rand / surf
        ratios.append(ratio)
        behaviours[name] = {"surf_median": surf, "random_median": rand, "ratio": round(ratio, 3),
                            "surf_calls": calls["surf"][name], "random_calls": calls["random"][name],
                            "surf_censored": sum(c > cap for c in calls["surf"][name]),
                            "random_censored": sum(c > cap for c in calls["random"][name])}
        print(f"{name:<16} SURF median {surf:>6}  random median {rand:>6}  ratio {ratio:5.2f}")
    total_surf = sum(b["surf_median"] for b in behaviours.values())
    total_random = sum(b["random_median"] for b in behaviours.values())
    result = {
        "bench": "surf_vs_random", "seeds": args.seeds, "runs": args.runs, "candidates": args.candidates,
        "iterations": args.iterations,
        "cap": cap, "pool": len(world.pool()), "behaviours": behaviours,
        "ratio_geomean": round(math.exp(sum(math.log(r) for r in ratios) / len(ratios)), 3),
        "ratio_of_sums": round(total_random / total_surf, 3),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
