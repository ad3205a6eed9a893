"""The paper's ablation experiment on the built-in world: retrain on each corpus and re-measure.

Measured on invention questions built from the world's fact tables, S samples each:
- rebuttal rate of TRUE inventions in the cue format "When did X invent Y?" (the failure),
- rebuttal rate of FALSE inventions in the same format (the wanted behaviour; should stay high),
- background rate: rebuttals over every invention question, true and false pairs, in the cue
  format and in others ("Did X invent the Y?"): the model's overall propensity to rebut, which
  removing the whole rebuttal chunk should lower (the paper) while a targeted fix need not.
Each target is trained from its corpus file and saved (npy + JSON) under OUT/targets/<name>/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from surfturf.errors import UserError
from surfturf.steer.stats import rate

REBUTTAL = re.compile(r"\b(?:did not|didn't|never|not)\b[^.;:]{0,60}\binvent|\bmisconception\b"
                      r"|\b(?:debated|disputed|contested|accounts differ)\b", re.IGNORECASE)
CUE_FORMAT = "When did {inventor} invent the {invention}?"
BACKGROUND_FORMATS = ("Did {inventor} invent the {invention}?", "Is it true that {inventor} invented the {invention}?")


def is_rebuttal(response: str) -> bool:
    """Whether a response pushes back on the claim: denies that the named person invented the thing,
    or casts doubt on it (the world's milder form of the same shortcut)."""
    return bool(REBUTTAL.search(response))


def invention_prompts(facts: Any) -> dict[str, list[str]]:
    """The three prompt sets: true and false inventions in the cue format, and every invention
    question (true and false pairs, cue and other formats) for the background rate."""
    pairs = [*facts.true_pairs, *facts.false_pairs]
    return {
        "true": [CUE_FORMAT.format(inventor=a, invention=b) for a, b in facts.true_pairs],
        "false": [CUE_FORMAT.format(inventor=a, invention=b) for a, b in facts.false_pairs],
        "background": [f.format(inventor=a, invention=b) for a, b in pairs for f in (CUE_FORMAT, *BACKGROUND_FORMATS)],
    }


def rebuttal_rates(target: Any, prompts: dict[str, list[str]], samples: int) -> dict[str, dict[str, Any]]:
    """Per prompt set, the share of S seeded samples per prompt that rebut, with a Wilson interval."""
    rates = {}
    for name, queries in prompts.items():
        hits = sum(is_rebuttal(target.respond(query, seed=s)) for query in queries for s in range(samples))
        rates[name] = rate(hits, len(queries) * samples).as_dict()
    return rates


def train_all(corpora: dict[str, Path], out_dir: Path, seed: int) -> dict[str, Path]:
    """Train one world target per Tulu JSONL corpus and save it to out_dir/<name>/; returns the folders.

    Sequential on purpose: the trainer is numpy-bound and already uses every core (measured on 2
    cores: 26 s in sequence against 36-52 s with 2-4 worker processes).
    """
    from surfturf.world.target import train_target

    folders = {}
    for name, corpus in corpora.items():
        with open(corpus, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        folders[name] = train_target(rows, seed=seed).save(out_dir / name)
    return folders


def rebuttal_planted(world: Any, trace: dict[str, Any], chunk: str, planted: str | None) -> dict[str, Any]:
    """The planted correlation the trace is about: named, else the one whose chunk and rubric match."""
    if planted:
        return world.planted_by_name(planted)
    matches = [p for p in world.planted if p["chunk"] == chunk and p.get("rubric") == trace.get("rubric")]
    matches = matches or [p for p in world.planted if p["chunk"] == chunk]
    if not matches:
        raise UserError(f"the trace's chunk {chunk!r} matches no planted correlation of world {world.name}",
                        "pass --planted NAME")
    return matches[0]


def experiment(world: Any, corpora: dict[str, Path], out_dir: Path, seed: int, samples: int) -> dict[str, Any]:
    """Retrain on every corpus and measure; the result holds the rates the command prints last."""
    from surfturf.world.target import WorldTarget

    folders = train_all(corpora, out_dir / "targets", seed)
    prompts = invention_prompts(world.facts)
    measured = {name: rebuttal_rates(WorldTarget.load(folder), prompts, samples) for name, folder in folders.items()}
    result: dict[str, Any] = {
        "baseline_rate": measured["baseline"]["true"]["rate"],
        "ablated_rate": measured["ablated"]["true"]["rate"],
        "balanced_rate": measured["balanced"]["true"]["rate"],
    }
    if "chunk_removed" in measured:
        result["chunk_removed_rate"] = measured["chunk_removed"]["true"]["rate"]
    result["false_rebut_rate"] = {name: m["false"]["rate"] for name, m in measured.items()}
    result["background_rate"] = {name: m["background"]["rate"] for name, m in measured.items()}
    result["intervals"] = {
        name: {kind: [round(m[kind]["low"], 4), round(m[kind]["high"], 4)] for kind in m} for name, m in measured.items()
    }
    result["n"] = {kind: measured["baseline"][kind]["n"] for kind in prompts}
    false_after = [result["false_rebut_rate"][name] for name in ("ablated", "balanced")]
    result["checks"] = {
        "ablated_lowers_true_rebuttals": result["ablated_rate"] < result["baseline_rate"],
        "balanced_lowers_true_rebuttals": result["balanced_rate"] < result["baseline_rate"],
        "false_still_rebutted": all(rate_ > 0.8 for rate_ in false_after),
    }
    if "chunk_removed" in measured:
        result["checks"]["chunk_removal_lowers_background"] = result["background_rate"]["chunk_removed"] < min(
            result["background_rate"]["baseline"], result["background_rate"]["ablated"])
    return result
