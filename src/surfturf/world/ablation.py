"""The paper's ablation experiment on a world: retrain on each corpus and re-measure the shortcut.

Any planted behaviour is measured through its probes (world/probe.py): the failure rate, as the
world judge scores it under the entry's rubric (partial forms included), on held-out queries that
carry the cue and on control queries that do not, S seeded samples each. Removing the offending
rows or balancing them should lower the cue rate and leave the control rate low.
Each target is trained from its corpus file and saved (npy + JSON) under OUT/targets/<name>/.
`ablate_world` is `surfturf ablate TRACE --world`: the corpora, the retrained targets, the measurement.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from surfturf.data.rows import tulu_pair
from surfturf.errors import UserError
from surfturf.io.files import write_json_atomic
from surfturf.stats import rate
from surfturf.steer.ablate import AblateOutcome, ablate, load_trace, select, write_corpus
from surfturf.world.corpus import balancing_rows, generate_corpus
from surfturf.world.spec import World
from surfturf.world.judge import judge
from surfturf.world.probe import FAILS_AT, probe_queries
from surfturf.world.target import WorldTarget, train_target

PROBES = 40  # held-out queries per probe kind
CONTROL_SLACK = 0.1  # how far a retrain may raise the control rate before the check fails


def probe_sets(world: Any, planted: str, rows: list[dict[str, Any]], seed: int) -> dict[str, list[str]]:
    """Held-out cue and control queries for the planted entry (none of them in the training rows)."""
    training = {tulu_pair(row)[0] for row in rows}
    sets = {kind: probe_queries(world, planted, kind, PROBES, seed, exclude=training) for kind in ("cue", "control")}
    for kind, queries in sets.items():
        if not queries:
            raise UserError(f"planted {planted}: every {kind} probe query is in the training set",
                            "add templates or records to its probe frame")
    return sets


def failure_rates(world: Any, target: Any, rubric: str, prompts: dict[str, list[str]],
                  samples: int) -> dict[str, dict[str, Any]]:
    """Per probe set, the share of S seeded samples per query the judge scores as a failure, with a Wilson interval."""
    rates = {}
    for name, queries in prompts.items():
        hits = sum(judge(world, rubric, query, target.respond(query, seed=s))[0] > FAILS_AT
                   for query in queries for s in range(samples))
        rates[name] = rate(hits, len(queries) * samples).as_dict()
    return rates


def train_all(corpora: dict[str, Path], out_dir: Path, seed: int) -> dict[str, Path]:
    """Train one world target per Tulu JSONL corpus and save it to out_dir/<name>/; returns the folders.

    Sequential on purpose: the trainer is numpy-bound and already uses every core (measured on 2
    cores: 26 s in sequence against 36-52 s with 2-4 worker processes).
    """
    folders = {}
    for name, corpus in corpora.items():
        folders[name] = train_target(_read(corpus), seed=seed).save(out_dir / name)
    return folders


def _read(corpus: Path) -> list[dict[str, Any]]:
    with open(corpus, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def trace_planted(world: Any, trace: dict[str, Any], chunk: str, planted: str | None) -> dict[str, Any]:
    """The planted correlation the trace is about: named, else the one whose chunk and rubric match."""
    if planted:
        return world.planted_by_name(planted)
    matches = [p for p in world.planted if p["chunk"] == chunk and p.get("rubric") == trace.get("rubric")]
    matches = matches or [p for p in world.planted if p["chunk"] == chunk]
    if not matches:
        raise UserError(f"the trace's chunk {chunk!r} matches no planted correlation of world {world.name}",
                        "pass --planted NAME")
    return matches[0]


def experiment(world: Any, corpora: dict[str, Path], out_dir: Path, seed: int, samples: int,
               planted: str) -> dict[str, Any]:
    """Retrain on every corpus and measure the planted shortcut; the result holds what the command prints last."""
    entry = world.planted_by_name(planted)
    folders = train_all(corpora, out_dir / "targets", seed)
    prompts = probe_sets(world, planted, _read(corpora["baseline"]), seed)
    measured = {name: failure_rates(world, WorldTarget.load(folder), entry["rubric"], prompts, samples)
                for name, folder in folders.items()}
    result: dict[str, Any] = {"planted": planted, "rubric": entry["rubric"]}
    for name in measured:
        result[f"{name}_rate"] = measured[name]["cue"]["rate"]
    result["control_rate"] = {name: m["control"]["rate"] for name, m in measured.items()}
    result["intervals"] = {
        name: {kind: [round(m[kind]["low"], 4), round(m[kind]["high"], 4)] for kind in m} for name, m in measured.items()
    }
    result["n"] = {kind: measured["baseline"][kind]["n"] for kind in prompts}
    baseline = result["baseline_rate"]
    result["checks"] = {
        "ablated_lowers_cue_rate": result["ablated_rate"] < baseline,
        "balanced_lowers_cue_rate": result["balanced_rate"] < baseline,
        "control_stays_low": all(r <= result["control_rate"]["baseline"] + CONTROL_SLACK
                                 for r in result["control_rate"].values()),
    }
    if "chunk_removed" in measured:
        result["checks"]["chunk_removal_lowers_cue_rate"] = result["chunk_removed_rate"] < baseline
    return result


def ablate_world(world: World, trace: Path, out: Path, *, remove: str, chunk: str | None, n_balance: int | None,
                 rubric: str | None, planted: str | None, seed: int | None, samples: int, runtime: dict[str, Any],
                 dry_run: bool) -> AblateOutcome:
    """The world's corpus (from `seed`, else the spec's) ablated and balanced by the trace, a target
    retrained on each corpus and the planted behaviour re-measured (OUT/result.json). A dry run
    only plans: it writes no corpus and trains no target."""
    seed = world.seed if seed is None else seed
    record = load_trace(trace)
    ablation = select(trace, record, generate_corpus(world, seed=seed), [],
                      {"generated": f"world {world.name}, seed {seed}"}, remove=remove, chunk=chunk, n_balance=n_balance)
    entry = trace_planted(world, record, ablation.chunk, planted)
    names = ["baseline", "ablated", "balanced"] + (["chunk_removed"] if remove == "evidence" else [])
    if dry_run:
        return AblateOutcome([f"world {world.name}: remove {len(ablation.removed)} examples, add {ablation.n_added} "
                              f"counter-examples ({entry['name']} balance); train {len(names)} world targets "
                              f"({', '.join(names)}) and judge up to {2 * PROBES} probes x {samples} samples each; "
                              "no model calls"], None)
    added = balancing_rows(world, entry["name"], ablation.n_added, seed=seed)
    corpora = ablation.write(out, added)
    write_corpus(out / "baseline.jsonl", ablation.rows)
    corpora = {"baseline": out / "baseline.jsonl", **corpora}
    if remove == "evidence":
        write_corpus(out / "chunk_removed.jsonl", ablate(ablation.rows, remove_sources=[ablation.chunk])[0])
        corpora["chunk_removed"] = out / "chunk_removed.jsonl"
    print(f"training {len(corpora)} world targets ({', '.join(corpora)}) ...", file=sys.stderr, flush=True)
    result = {**experiment(world, corpora, out, seed, samples, entry["name"]), **ablation.result(added, [])}
    write_json_atomic(out / "result.json", result)
    ablation.write_manifest(out, added, rubric=rubric, world=world.name, samples=samples, seed=seed, runtime=runtime,
                            generator=f"world offline generator ({entry['name']} balance)", errors=[], usage={})
    return AblateOutcome([], result)
