"""Scores SURF runs (and their TURF traces) against the world spec's planted ground truth.

A planted behaviour is found when a run for its rubric has a finding scoring >= the threshold
(70) whose query carries the behaviour's cue (world/cue.py), so behaviours sharing a rubric are
kept apart and a failure for another reason is not credited to the shortcut. Each traced finding scoring >= the threshold is checked: its trigger (the one the trace
sentence names: by enrichment, else by hits) is right when its text or cluster summary matches a
trigger pattern, its chunk when the most enriched chunk is the planted chunk. Accuracies are
over all such traces (a behaviour's verdict is its majority).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from surfturf.errors import UserError
from surfturf.io.files import read_jsonl
from surfturf.surf.findings import load_manifest
from surfturf.world.cue import carries_cue
from surfturf.world.spec import World

FOUND_AT = 70.0


def run_dirs(path: str | Path) -> list[Path]:
    """RUN itself when it is a SURF run directory, else every run directory below it."""
    root = Path(path)
    if (root / "manifest.json").is_file() and ((root / "candidates.jsonl").exists() or (root / "findings.jsonl").exists()):
        return [root]
    found = sorted(p.parent for p in root.rglob("manifest.json")
                   if (p.parent / "candidates.jsonl").exists() or (p.parent / "findings.jsonl").exists())
    if not found:
        raise UserError(f"{root} holds no SURF run (no manifest.json with candidates.jsonl)", "give a `surfturf surf run` output directory")
    return found


def _rubric_of(run: Path) -> str:
    manifest = load_manifest(run)
    rubric = str(manifest.get("config", {}).get("rubric", ""))
    return Path(rubric).stem if rubric.endswith((".yaml", ".yml")) else rubric


def calls_to_first(run: Path, threshold: float = FOUND_AT, run_index: int | None = None,
                   counts: Callable[[str], bool] | None = None) -> int | None:
    """Target calls (candidates in completion order) up to and including the first scoring >= threshold
    (whose query `counts`, when given), over all the sweep's runs, or within run `run_index` alone."""
    records = read_jsonl(run / "candidates.jsonl")
    mine = (r for r in records if run_index is None or r.get("run") == run_index)
    for position, record in enumerate(mine, 1):
        if record.get("score") is not None and float(record["score"]) >= threshold and (
                counts is None or counts(str(record.get("query") or ""))):
            return position
    return None


def top_chunk(chunks: list[dict[str, Any]]) -> str | None:
    """The most enriched chunk with hits (the trace lists chunks most enriched first)."""
    for row in chunks:
        if row.get("hits", 0) > 0:
            return str(row.get("source"))
    return None


def trigger_matches(trace: dict[str, Any], patterns: list[str], key: str = "trigger") -> bool:
    """Whether the trace's trigger (`trigger` by hits or `trigger_by_enrichment`) names the cue."""
    trigger = trace.get(key) or {}
    texts = [str(trigger.get("text") or ""), str(trigger.get("cluster_summary") or "")]
    return any(re.search(p, t, re.IGNORECASE) for p in patterns for t in texts if t)


def score_runs(world: World, path: str | Path, threshold: float = FOUND_AT) -> dict[str, Any]:
    """Per planted behaviour: found, best score, calls to first, trigger/chunk correctness; and totals."""
    runs = run_dirs(path)
    by_rubric: dict[str, list[Path]] = {}
    for run in runs:
        by_rubric.setdefault(_rubric_of(run), []).append(run)
    behaviours = []
    for entry in world.planted:
        def cued(query: str, name: str = entry["name"]) -> bool:
            return carries_cue(world, name, query)

        findings = [f for run in by_rubric.get(entry["rubric"], []) for f in read_jsonl(run / "findings.jsonl")]
        scored = [f for f in findings if f.get("score") is not None and cued(str(f.get("query") or ""))]
        best = max(scored, key=lambda f: float(f["score"]), default=None)
        calls = [c for c in (calls_to_first(run, threshold, counts=cued) for run in by_rubric.get(entry["rubric"], []))
                 if c]
        row: dict[str, Any] = {
            "name": entry["name"], "rubric": entry["rubric"], "chunk": entry["chunk"],
            "runs": len(by_rubric.get(entry["rubric"], [])),
            "found": best is not None and float(best["score"]) >= threshold,
            "best_score": float(best["score"]) if best else None,
            "best_query": best.get("query") if best else None,
            "calls_to_first": min(calls) if calls else None,
        }
        traces = {t.get("finding"): t for run in by_rubric.get(entry["rubric"], []) for t in read_jsonl(run / "traces" / "summary.jsonl")}
        traced = [traces[f["id"]] for f in sorted(scored, key=lambda f: -float(f["score"]))
                  if float(f["score"]) >= threshold and f.get("id") in traces and traces[f["id"]].get("trigger")]
        if traced:
            named = ["trigger_by_enrichment" if t.get("trigger_by_enrichment") else "trigger" for t in traced]
            texts = [(t.get(k) or {}).get("text") for t, k in zip(traced, named)]
            chunks = [top_chunk(t.get("chunks") or []) for t in traced]
            row["trigger"] = max(texts, key=texts.count)  # the most named; the best finding's on ties
            row["top_chunk"] = max(chunks, key=chunks.count)
            row["traces"] = len(traced)
            row["trigger_right"] = sum(trigger_matches(t, entry["trigger_patterns"], k) for t, k in zip(traced, named))
            row["trigger_by_hits_right"] = sum(trigger_matches(t, entry["trigger_patterns"]) for t in traced)
            row["chunk_right"] = sum(chunk == entry["chunk"] for chunk in chunks)
            row["trigger_correct"] = row["trigger_right"] * 2 > len(traced)
            row["chunk_correct"] = row["chunk_right"] * 2 > len(traced)
        behaviours.append(row)
    found = sum(1 for b in behaviours if b["found"])
    result: dict[str, Any] = {"recall": round(found / max(len(behaviours), 1), 4), "found": found,
                              "planted": len(behaviours), "threshold": threshold, "behaviours": behaviours}
    traced = [b for b in behaviours if "traces" in b]
    if traced:
        total = sum(b["traces"] for b in traced)
        result["traced"] = len(traced)
        result["traces"] = total
        result["trigger_accuracy"] = round(sum(b["trigger_right"] for b in traced) / total, 4)
        result["trigger_by_hits_accuracy"] = round(sum(b["trigger_by_hits_right"] for b in traced) / total, 4)
        result["chunk_accuracy"] = round(sum(b["chunk_right"] for b in traced) / total, 4)
    return result
