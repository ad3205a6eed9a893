"""SURF against random attribute sampling on the default world: target calls until the first finding
scoring >= 70, per planted behaviour, median over seeds.

What it measures. Each sweep (one seed, one strategy, one planted behaviour's rubric) runs `runs`
parallel SURF runs of `iterations` x `candidates` through the real client path (world server over
HTTP); calls are counted in completion order across the sweep's runs, and a sweep that finds
nothing within the cap (runs x iterations x candidates) counts as cap + 1 (censored, reported).
`ratio` (THE overall ratio) is the geometric mean over behaviours of random median / SURF median;
`ratio_of_sums` (sum of random medians / sum of SURF medians) is reported too.

The pool. By default the world's own pool plus the built-in pool of generic descriptors
(`--pool world+builtin`, about 640 attributes): a realistic pool is mostly attributes unrelated
to any planted cue. The world generator realises the built-in descriptors it can express (a
language, a persona, a topic it has) and leaves the rest out of the query; it never swaps in a
different cue (a Tamil attribute is not written as Swahili).

The settings. 3 runs x 10 candidates x 20 iterations (cap 600), buffer 5, k <= 5, exploration
0.05: the paper's buffer, k and iteration count, with the batch scaled to the pool. The authors'
sweep (5 runs x 120 candidates per iteration) against a 25k-attribute pool draws about one
candidate per 40 attributes per iteration; 30 per iteration against about 640 is the same order.

Reading the result. SURF's first iteration is uniform, so SURF and random draw the same first
batch (same seeds); SURF can only pull ahead afterwards, by following buffer entries with
partial scores toward the cue. `random_hit_rate` (share of the random sweeps' candidates scoring
>= 70) is the blind hit rate: when it times the first batch (runs x candidates) is near 1, both
strategies usually finish in the first batch and the ratio is near 1 whatever SURF does.
`hit_rate_surf` / `hit_rate_random` are the yields (share of all scored candidates scoring >= 70):
SURF's purpose once a failure region is found is to keep sampling it, which this shows.
Last line: one JSON object.

    .venv/bin/python bench/surf_vs_random.py [--seeds 5] [--runs 3] [--candidates 10] [--iterations 20]
        [--pool world+builtin|world]
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

from surfturf.attributes.pools import AttributePool
from surfturf.surf import load_candidates
from surfturf.world import generate_corpus, load_world, train_target
from surfturf.world.demo import SurfSettings, surf_planted
from surfturf.world.roles import WorldRoles
from surfturf.world.score import FOUND_AT, calls_to_first
from surfturf.world.server import WorldServer
from surfturf.world.spec import World


def bench_pool(world: World, kind: str, directory: Path) -> Path:
    """The pool file: the world's attributes, plus the built-in generic ones for `world+builtin`."""
    attributes = world.pool()
    if kind == "world+builtin":
        attributes += [a for a in AttributePool.load("builtin").attributes if a not in set(attributes)]
    path = directory / "bench_pool.txt"
    path.write_text("\n".join(attributes) + "\n", encoding="utf-8")
    return path


def hit_rate(run: Path) -> tuple[int, int]:
    """(candidates scoring >= 70, scored candidates) of one run directory."""
    scores = [record.get("score") for record in load_candidates(run)]
    scored = [float(s) for s in scores if s is not None]
    return sum(s >= FOUND_AT for s in scored), len(scored)


def rate(counts: list[int]) -> float:
    """Share of scored candidates that are findings (>= 70): the yield of a strategy."""
    return round(counts[0] / max(counts[1], 1), 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=10, help="candidates per iteration per run")
    parser.add_argument("--iterations", type=int, default=20, help="iterations per run (the cap)")
    parser.add_argument("--runs", type=int, default=3, help="parallel runs per sweep (calls counted across them)")
    parser.add_argument("--pool", choices=("world+builtin", "world"), default="world+builtin")
    parser.add_argument("--world", type=Path, default=None)
    args = parser.parse_args()

    world = load_world(args.world)
    started = time.perf_counter()
    target = train_target(generate_corpus(world, 0), 0)
    work = Path(tempfile.mkdtemp(prefix="surfturf-bench-"))
    pool = bench_pool(world, args.pool, work)
    pool_size = len(AttributePool.load(pool))
    cap = args.runs * args.candidates * args.iterations
    calls: dict[str, dict[str, list[int]]] = {"surf": {}, "random": {}}
    hits: dict[str, dict[str, list[int]]] = {"surf": {}, "random": {}}
    with WorldServer(WorldRoles(world, target, 0)).in_thread() as server:
        for seed in range(args.seeds):
            for strategy in ("surf", "random"):
                settings = SurfSettings(runs=args.runs, iterations=args.iterations, candidates=args.candidates,
                                        strategy=strategy, patience=0)
                runs = asyncio.run(surf_planted(world, pool, server.base_url, work / f"{strategy}-{seed}", settings, seed))
                for name, run in runs.items():
                    found = calls_to_first(run)
                    calls[strategy].setdefault(name, []).append(found if found is not None else cap + 1)
                    got, total = hit_rate(run)
                    counts = hits[strategy].setdefault(name, [0, 0])
                    counts[0] += got
                    counts[1] += total
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
                            "random_censored": sum(c > cap for c in calls["random"][name]),
                            "random_hit_rate": rate(hits["random"][name]), "surf_hit_rate": rate(hits["surf"][name])}
        print(f"{name:<16} SURF median {surf:>6}  random median {rand:>6}  ratio {ratio:5.2f}  "
              f"hit rate SURF {behaviours[name]['surf_hit_rate']:.4f} random {behaviours[name]['random_hit_rate']:.4f}")
    total_surf = sum(b["surf_median"] for b in behaviours.values())
    total_random = sum(b["random_median"] for b in behaviours.values())
    geomean = round(math.exp(sum(math.log(r) for r in ratios) / len(ratios)), 3)
    result = {
        "bench": "surf_vs_random", "seeds": args.seeds, "runs": args.runs, "candidates": args.candidates,
        "iterations": args.iterations, "first_batch": args.runs * args.candidates, "cap": cap,
        "pool": args.pool, "pool_size": pool_size, "behaviours": behaviours,
        "ratio": geomean, "ratio_is": "geometric mean over behaviours of random median / SURF median",
        "ratio_geomean": geomean, "ratio_of_sums": round(total_random / total_surf, 3), "goal": 3.0,
        "hit_rate_surf": rate([sum(h[0] for h in hits["surf"].values()), sum(h[1] for h in hits["surf"].values())]),
        "hit_rate_random": rate([sum(h[0] for h in hits["random"].values()), sum(h[1] for h in hits["random"].values())]),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
