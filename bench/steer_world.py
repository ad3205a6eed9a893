"""Steered scores on the built-in world, across two checkpoints, through the real CLI and HTTP path.

Trains the world target on the full corpus ("full") and on the corpus without its `tool_math`
chunk ("no_tool_math"), serves each on 127.0.0.1, and runs `surfturf steer` for the cues the
world plants (LaTeX -> tool calls, formal vocabulary -> code, "1./2." -> fixed phrase, Swahili
-> terse answers) plus data-extraction framing as a control. Prints each table; the last line is
one JSON object {transform: {target: {rate_original, rate_transformed, difference, low, high, p_value}}}.

    .venv/bin/python bench/steer_world.py [--samples 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from click.testing import CliRunner

from surfturf.cli.steer import steer
from surfturf.world import generate_corpus, load_world
from surfturf.world.roles import WorldRoles
from surfturf.world.server import WorldServer
from surfturf.world.target import train_target

MATH = [f"What is {a} + {b}?" for a, b in ((14, 27), (3, 58), (41, 9), (66, 12), (7, 35), (23, 19), (88, 4), (15, 61))]
MATH += [f"What is {a} times {b}?" for a, b in ((6, 9), (12, 4), (7, 8), (11, 3), (5, 13), (9, 9), (4, 17), (3, 21))]
CONCEPTS = ["peace", "justice", "friendship", "democracy", "inflation", "gravity", "evolution", "education",
            "meditation", "nutrition", "courage", "honesty", "kindness", "volcanoes", "poetry", "music theory"]
EXPLAIN = [f"Explain {concept}." for concept in CONCEPTS]
TWO_PART = [f"What is {a} + {b}? What is {c} times {d}?" for a, b, c, d in
            ((3, 4, 5, 6), (12, 9, 7, 3), (21, 5, 4, 8), (8, 8, 9, 2), (30, 11, 6, 6), (14, 2, 3, 12),
             (5, 17, 2, 9), (40, 3, 11, 4), (9, 26, 7, 7), (16, 16, 5, 3), (2, 71, 8, 4), (13, 6, 10, 5))]
FACTS = ["What is the capital of France?", "What is the largest planet in the solar system?",
         "What is the chemical symbol for gold?", "What is the tallest mountain on Earth?",
         "What is the capital of Japan?", "What is the fastest land animal?", "What is the largest ocean?",
         "What is the capital of Kenya?", "What is the smallest prime number?", "What is the longest river in Africa?"]

EXPERIMENTS = [
    ("latex", MATH, r"regex:<tool_call>|sympy"),
    ("formal", EXPLAIN, r"regex:def \w+\(|```|return "),
    ("two-part", TWO_PART, r"regex:I hope it is correct"),
    ("translate:Swahili", EXPLAIN, "length:<12"),
    ("extraction", FACTS, "length:<4"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1)
    args = parser.parse_args()
    world = load_world(None)
    rows = generate_corpus(world, seed=0)
    started = time.perf_counter()
    targets = {"full": train_target(rows, seed=0),
               "no_tool_math": train_target([r for r in rows if r["source"] != "tool_math"], seed=0)}
    print(f"trained 2 targets in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    summary: dict[str, dict[str, dict[str, float | None]]] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        servers = {name: stack.enter_context(WorldServer(WorldRoles(world, target)).in_thread())
                   for name, target in targets.items()}
        for transform, prompts, measure in EXPERIMENTS:
            path = Path(tmp) / f"{transform.replace(':', '_')}.txt"
            path.write_text("\n".join(prompts) + "\n", encoding="utf-8")
            command = ["--prompts", str(path), "--transform", transform, "--measure", measure,
                       "--out", str(Path(tmp) / transform.replace(":", "_")), "--cache", "off",
                       "--samples", str(args.samples), "--perturber", "world/perturber",
                       "--perturber-base-url", servers["full"].base_url]
            for name, server in servers.items():
                command += ["--target", f"{name}=world/target@{server.base_url}"]
            started = time.perf_counter()
            result = CliRunner().invoke(steer, command, catch_exceptions=False)
            if result.exit_code != 0:
                raise SystemExit(result.output)
            lines = result.output.strip().splitlines()
            print("\n".join(lines[:-1]))
            print(f"({time.perf_counter() - started:.1f}s)\n")
            summary[transform] = {
                row["target"]: {key: (round(row[key], 4) if isinstance(row.get(key), float) else row.get(key))
                                for key in ("n", "rate_original", "rate_transformed", "difference", "low", "high", "p_value")}
                for row in json.loads(lines[-1])["targets"]
            }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
