"""SURF against random attribute sampling on a world (or every shipped one): target calls until the first finding
scoring >= 70, per planted behaviour, median over seeds and runs.

What it measures. Each sweep (one seed, one strategy, one planted behaviour's rubric) runs `runs`
independent SURF runs through the real client path (world server over HTTP), each stopping at its
first finding (`stop_at` 70) or after `iterations` x `candidates` target calls (the cap). Every run
is one search: its calls are counted in its own completion order, so a behaviour's median is over
seeds x runs searches; a run that finds nothing counts as cap + 1 (censored, reported). Counting
across parallel runs instead would charge SURF for the runs still exploring elsewhere, which says
how many runs to launch, not how well one searches. `ratio` (THE overall ratio) is the geometric
mean over behaviours of random median / SURF median; `ratio_of_sums` is reported too.

The pool. By default the world's own pool plus the built-in pool of generic descriptors
(`--pool world+builtin`, about 640 attributes): a realistic pool is mostly attributes unrelated
to any planted cue. The world generator realises the built-in descriptors it can express (a
language, a persona, a topic it has) and leaves the rest out of the query; it never swaps in a
different cue (a Tamil attribute is not written as Swahili). `--pool index` samples the TURF index's
cluster summaries of the world corpus instead, as `surfturf demo` does.

The settings. 3 runs x 5 seeds, 10 candidates per iteration, up to 100 iterations (cap 1000
calls a run), buffer 5, k <= 5, exploration 0.05: the paper's buffer and k, with the batch
scaled to the pool (the authors' 120 candidates against a 25k-attribute pool is about one per
200 attributes; 10 against 640 is the same order). The cap is high because random sampling
needs hundreds of calls: a lower cap censors it and flatters neither side.

Reading the result. SURF's first iteration is uniform, so SURF and random draw the same first
batch (same seeds); SURF pulls ahead only by following buffer entries with partial scores (a
snippet of code, a doubt, a hedge) toward the cue. The world's cue-bearing prompts mostly fail
partially and sometimes outright, as chunky behaviours do, so a search that follows partial
failures reaches a clear one sooner; where the first cue-bearing prompt already fails outright,
both strategies tie.
Last line: one JSON object.

    .venv/bin/python bench/surf_vs_random.py [--seeds 5] [--runs 3] [--candidates 10] [--iterations 100]
        [--pool world+builtin|world|index] [--world NAME|PATH|all]
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
from functools import partial
from pathlib import Path

from surfturf.attributes.pools import AttributePool
from surfturf.world import generate_corpus, load_world, train_target
from surfturf.world.demo import SurfSettings, build_index, surf_planted
from surfturf.world.roles import WorldRoles
from surfturf.world.score import FOUND_AT, calls_to_first
from surfturf.world.server import WorldServer
from surfturf.world.cue import carries_cue
from surfturf.world.spec import World, shipped_worlds


def bench_pool(world: World, kind: str, directory: Path) -> Path:
    """The pool: the TURF index of the world corpus (`index`: its cluster summaries), else a file of the world's
    attributes, plus the built-in generic ones for `world+builtin`."""
    if kind == "index":
        corpus = directory / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in generate_corpus(world, 0)),
                          encoding="utf-8")
        return build_index(corpus, directory / "index")
    attributes = world.pool()
    if kind == "world+builtin":
        attributes += [a for a in AttributePool.load("builtin").attributes if a not in set(attributes)]
    path = directory / "bench_pool.txt"
    path.write_text("\n".join(attributes) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="independent runs per sweep (each one search)")
    parser.add_argument("--candidates", type=int, default=10, help="candidates per iteration per run")
    parser.add_argument("--iterations", type=int, default=100, help="iterations per run (cap = iterations x candidates)")
    parser.add_argument("--pool", choices=("world+builtin", "world", "index"), default="world+builtin")
    parser.add_argument("--world", default=None,
                        help="a shipped world's name or a spec path (default: default); `all` runs every shipped world")
    args = parser.parse_args()
    if args.world == "all":
        results = [bench_world(load_world(name), args) for name in shipped_worlds()]
        print(json.dumps({"bench": "surf_vs_random", "worlds": {r["world"]: r for r in results},
                          "ratio_min": min(r["ratio"] for r in results)}))
    else:
        print(json.dumps(bench_world(load_world(args.world), args)))


async def per_behaviour(world: World, pool: Path, base_url: str, out: Path, settings: SurfSettings,
                        seed: int) -> dict[str, Path]:
    """One sweep per planted behaviour (its rubric, `settings.runs` runs), all at once: name -> run directory,
    so each behaviour's calls are counted over searches of its own."""
    names = [entry["name"] for entry in world.planted]
    sweeps = await asyncio.gather(*(surf_planted(world, pool, base_url, out / name, settings, seed, names=[name])
                                    for name in names))
    return {name: next(iter(runs.values())) for name, runs in zip(names, sweeps)}


def bench_world(world: World, args: argparse.Namespace) -> dict[str, object]:
    """One world's sweep: SURF and random per planted behaviour; prints per-behaviour lines."""
    started = time.perf_counter()
    target = train_target(generate_corpus(world, 0), 0)
    work = Path(tempfile.mkdtemp(prefix="surfturf-bench-"))
    pool = bench_pool(world, args.pool, work)
    pool_size = len(AttributePool.load(pool))
    cap = args.candidates * args.iterations
    calls: dict[str, dict[str, list[int]]] = {"surf": {}, "random": {}}
    with WorldServer(WorldRoles(world, target, 0)).in_thread() as server:
        for seed in range(args.seeds):
            for strategy in ("surf", "random"):
                settings = SurfSettings(runs=args.runs, iterations=args.iterations, candidates=args.candidates,
                                        strategy=strategy, patience=0, stop_at=FOUND_AT)
                runs = asyncio.run(per_behaviour(world, pool, server.base_url, work / f"{strategy}-{seed}", settings, seed))
                for name, run in runs.items():
                    cued = partial(carries_cue, world, name)
                    found = [calls_to_first(run, run_index=index, counts=cued) for index in range(args.runs)]
                    calls[strategy].setdefault(name, []).extend(cap + 1 if f is None else f for f in found)
                print(f"seed {seed} {strategy}: " + ", ".join(f"{n}={v[-args.runs:]}" for n, v in calls[strategy].items()),
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
        print(f"{name:<16} SURF median {surf:>6}  random median {rand:>6}  ratio {ratio:5.2f}  "
              f"censored SURF {behaviours[name]['surf_censored']} random {behaviours[name]['random_censored']}")
    total_surf = sum(b["surf_median"] for b in behaviours.values())
    total_random = sum(b["random_median"] for b in behaviours.values())
    geomean = round(math.exp(sum(math.log(r) for r in ratios) / len(ratios)), 3)
    result = {
        "bench": "surf_vs_random", "world": world.name, "seeds": args.seeds, "runs": args.runs, "searches": args.seeds * args.runs,
        "candidates": args.candidates, "iterations": args.iterations, "cap_per_run": cap,
        "pool": args.pool, "pool_size": pool_size, "behaviours": behaviours,
        "ratio": geomean, "ratio_is": "geometric mean over behaviours of random median / SURF median",
        "ratio_geomean": geomean, "ratio_of_sums": round(total_random / total_surf, 3), "goal": 3.0,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    return result


if __name__ == "__main__":
    main()
