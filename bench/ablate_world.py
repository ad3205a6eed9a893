"""The paper's ablation on the built-in world, from a real trace: SURF -> TURF -> ablate.

Generates the world corpus, builds its index, serves the trained target and offline roles on
127.0.0.1, runs SURF with the `rebut` rubric, traces the best violating finding with every
supporting example kept (`--evidence 1000`), then runs `surfturf ablate TRACE --world default`,
which retrains four targets and re-measures. The last line is `ablate`'s JSON plus timings.

    .venv/bin/python bench/ablate_world.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from surfturf.cli.main import cli
from surfturf.world import generate_corpus, load_world
from surfturf.world.roles import WorldRoles
from surfturf.world.server import WorldServer
from surfturf.world.target import train_target


def invoke(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"surfturf {' '.join(args[:2])} failed:\n{result.output}")
    return result.output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Keep every output here [default: a temp dir].")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        world = load_world(None)
        rows = generate_corpus(world, seed=0)
        corpus = out / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        pool = world.pool_path(out)
        cache = ["--cache-dir", str(out / "cache")]
        invoke(["index", "build", str(corpus), "-o", str(out / "index"), *cache])
        timings["index_s"] = time.perf_counter() - started
        with WorldServer(WorldRoles(world, train_target(rows, seed=0))).in_thread() as server:
            roles = [flag for role in ("target", "generator", "judge")
                     for flag in (f"--{role}", f"world/{role}", f"--{role}-base-url", server.base_url)]
            started = time.perf_counter()
            invoke(["surf", "run", "--rubric", "rebut", "--pool", str(pool), "--out", str(out / "run"), "--runs", "3",
                    "--iterations", "5", "--candidates", "40", *roles, *cache])
            timings["surf_s"] = time.perf_counter() - started
            started = time.perf_counter()
            invoke(["turf", "trace", str(out / "run"), "--index", str(out / "index"), "--top", "1", "--evidence", "1000",
                    "--judge", "world/crux", "--judge-base-url", server.base_url, *cache])
            timings["trace_s"] = time.perf_counter() - started
        trace = next((out / "run" / "traces").glob("r*.json"))
        record = json.loads(trace.read_text(encoding="utf-8"))
        print(f"trace {trace.name}: trigger {record['trigger']['text']!r}, top chunk {record['chunks'][0]['source']}, "
              f"{len(record['evidence'])} evidence examples")
        started = time.perf_counter()
        output = invoke(["ablate", str(trace), "--world", "default", "--out", str(out / "ablate")])
        timings["ablate_s"] = time.perf_counter() - started
        result = json.loads(output.strip().splitlines()[-1])
        result.pop("intervals")
        print(json.dumps({**result, "timings_s": {k: round(v, 1) for k, v in timings.items()}}))


if __name__ == "__main__":
    main()
