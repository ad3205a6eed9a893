"""Numbers the report shows: search progress, attribute weights, violation rates, comparisons."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from surfturf.report.load import DEFAULT_THRESHOLD, RunData, normalise_query
from surfturf.stats import wilson_interval
from surfturf.surf.failures import failing_role



def score_of(record: dict[str, Any]) -> float | None:
    score = record.get("score")
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None


def is_violation(record: dict[str, Any], threshold: float) -> bool:
    """The producer's flag when present, else the score against the run's threshold."""
    flag = record.get("violation")
    if isinstance(flag, bool):
        return flag
    score = score_of(record)
    return score is not None and score > threshold


def threshold_of(run: RunData) -> float:
    value = run.config.get("threshold")
    return float(value) if isinstance(value, (int, float)) else DEFAULT_THRESHOLD


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def wall_time_s(run: RunData) -> float | None:
    """Elapsed time from the manifest when recorded, else from its start and finish stamps."""
    for key in ("elapsed_s", "wall_s", "duration_s"):
        value = run.manifest.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    start = _parse_time(run.manifest.get("created"))
    end = _parse_time(run.manifest.get("finished") or run.manifest.get("updated"))
    if start and end:
        return max(0.0, (end - start).total_seconds())
    return None


FAILED_EXAMPLES = 5  # raw outputs shown per role: enough to see the pattern, not the whole run


def failed_outputs(run: RunData) -> list[tuple[str, dict[str, Any]]]:
    """Per role, how many candidates failed there and the first few with their error and raw output."""
    groups: dict[str, dict[str, Any]] = {}
    for c in run.candidates:
        if not c.get("error"):
            continue
        group = groups.setdefault(failing_role(str(c["error"])), {"count": 0, "examples": []})
        group["count"] += 1
        if len(group["examples"]) < FAILED_EXAMPLES:
            group["examples"].append({"id": c.get("id"), "error": str(c["error"]), "raw": c.get("raw") or "",
                                      "query": c.get("query")})
    return sorted(groups.items())


def overview(run: RunData) -> dict[str, Any]:
    """Counts, spend and time for the run card."""
    threshold = threshold_of(run)
    scored = [c for c in run.candidates if score_of(c) is not None]
    errors = [c for c in run.candidates if c.get("error")]
    usage = run.manifest.get("usage") or {}
    total = usage.get("total") or {}
    cost = total.get("cost_usd")
    if not isinstance(cost, (int, float)):
        cost = sum(float(c.get("cost_usd") or 0) for c in run.candidates) or None
    error_kinds: dict[str, int] = defaultdict(int)
    for c in errors:
        error_kinds[str(c["error"]).split(":", 1)[0]] += 1
    return {
        "n_candidates": len(run.candidates),
        "n_scored": len(scored),
        "n_errors": len(errors),
        "error_kinds": dict(sorted(error_kinds.items())),
        "n_violations": sum(1 for c in scored if is_violation(c, threshold)),
        "candidate_violation_rate": (sum(1 for c in scored if is_violation(c, threshold)) / len(scored))
        if scored else None,
        "n_findings": len(run.findings),
        "finding_violation_rate": findings_violation_rate(run),
        "best_score": max((score_of(c) for c in scored), default=None),
        "n_runs": len({c.get("run") for c in run.candidates}) or run.config.get("runs"),
        "n_iterations": len({c.get("iteration") for c in run.candidates}),
        "cost_usd": cost,
        "calls": total.get("calls"),
        "cache_hits": total.get("cache_hits"),
        "input_tokens": total.get("input_tokens"),
        "output_tokens": total.get("output_tokens"),
        "per_model": usage.get("per_model") or [],
        "price_known": all(m.get("price_known", True) is not False for m in usage.get("per_model") or []),
        "wall_time_s": wall_time_s(run),
        "model_time_s": sum(float(c.get("time_s") or 0) for c in run.candidates) or None,
        "threshold": threshold,
    }


def findings_violation_rate(run: RunData) -> float | None:
    """The paper's headline number: the share of the findings that violate the rubric."""
    if not run.findings:
        return None
    threshold = threshold_of(run)
    return sum(1 for f in run.findings if is_violation(f, threshold)) / len(run.findings)


def progress(run: RunData) -> dict[int, list[dict[str, Any]]]:
    """Per SURF run: iteration, best and mean score, from iterations.jsonl or else candidates."""
    series: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for record in run.iterations:
        r, i = record.get("run"), record.get("iteration")
        if isinstance(r, int) and isinstance(i, int):
            series[r][i] = {"iteration": i, "best": _num(record.get("best_score")),
                            "mean": _num(record.get("mean_score"))}
    if not series:
        scores: dict[tuple[int, int], list[float]] = defaultdict(list)
        for c in run.candidates:
            s = score_of(c)
            if s is not None and isinstance(c.get("run"), int) and isinstance(c.get("iteration"), int):
                scores[(c["run"], c["iteration"])].append(s)
        for (r, i), values in scores.items():
            series[r][i] = {"iteration": i, "best": max(values), "mean": sum(values) / len(values)}
    return {r: [points[i] for i in sorted(points)] for r, points in sorted(series.items())}


def number_or(value: Any, default: float) -> float:
    """value as a float when it is a number, else default (producers may write null for a bound)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float(default)


def robust_points(rows: list[dict[str, Any]]) -> list[tuple[Any, str, float, float, float]]:
    """(finding, "original" | "perturbed", rate, low, high) for each half of a robust.jsonl record
    that has a rate from at least one sample; the chart and the figure both plot these, so they always agree."""
    points = []
    for r in rows:
        for name, block in (("original", r["original"]), ("perturbed", r)):
            rate = block.get("rate", block.get("mean_rate"))
            if isinstance(rate, (int, float)) and block.get("n") != 0:  # n=0: not tested, nothing to plot
                points.append((r.get("finding"), name, float(rate), number_or(block.get("low"), rate),
                               number_or(block.get("high"), rate)))
    return points


# Above this many SURF runs a chart shows each run's best score and one mean over all runs,
# instead of a best and a mean line per run.
MANY_RUNS = 6


def overall_mean(series: dict[int, list[dict[str, Any]]]) -> list[tuple[int, float]]:
    """Per iteration, the mean over runs of each run's mean score."""
    values: dict[int, list[float]] = defaultdict(list)
    for points in series.values():
        for p in points:
            if p["mean"] is not None:
                values[p["iteration"]].append(p["mean"])
    return [(i, sum(v) / len(v)) for i, v in sorted(values.items())]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def weight_matrix(run: RunData, surf_run: int, top: int = 10) -> dict[str, Any]:
    """Attribute probability per iteration for one SURF run, for the attributes that peaked highest."""
    rows = sorted((r for r in run.iterations if r.get("run") == surf_run and isinstance(r.get("iteration"), int)),
                  key=lambda r: r["iteration"])
    iterations = [r["iteration"] for r in rows]
    values: dict[str, dict[int, float]] = defaultdict(dict)
    for r in rows:
        for pair in r.get("top_weights") or []:
            if isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[1], (int, float)):
                values[str(pair[0])][r["iteration"]] = float(pair[1])
    ranked = sorted(values, key=lambda a: (-max(values[a].values()), a))[:top]
    return {"iterations": iterations, "attributes": ranked,
            "values": [[values[a].get(i) for i in iterations] for a in ranked]}


def mean_weight_matrix(run: RunData, top: int = 12) -> dict[str, Any]:
    """Attribute probability per iteration averaged over the SURF runs that reached it (0 where an
    attribute was not among a run's top weights): where the whole search went, in one picture."""
    sums: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    runs_at: dict[int, set[Any]] = defaultdict(set)
    for r in run.iterations:
        if not isinstance(r.get("iteration"), int):
            continue
        runs_at[r["iteration"]].add(r.get("run"))
        for pair in r.get("top_weights") or []:
            if isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[1], (int, float)):
                sums[str(pair[0])][r["iteration"]] += float(pair[1])
    iterations = sorted(runs_at)
    means = {a: {i: sums[a][i] / len(runs_at[i]) for i in iterations} for a in sums}
    ranked = sorted(means, key=lambda a: (-max(means[a].values()), a))[:top]
    return {"iterations": iterations, "attributes": ranked,
            "values": [[means[a][i] for i in iterations] for a in ranked]}


def surf_runs(run: RunData) -> list[int]:
    """The SURF run numbers present in iterations or candidates."""
    found = {r.get("run") for r in run.iterations} | {c.get("run") for c in run.candidates}
    return sorted(r for r in found if isinstance(r, int))


def violation_rates(runs: list[RunData]) -> list[dict[str, Any]]:
    """Rows per rubric, one cell per RUN: findings' violation rate and all candidates' rate."""
    rubrics = sorted({run.rubric for run in runs})
    table = []
    for rubric in rubrics:
        cells = []
        for run in runs:
            if run.rubric != rubric:
                cells.append(None)
                continue
            info = overview(run)
            threshold = threshold_of(run)
            violating = sum(1 for f in run.findings if is_violation(f, threshold))
            low, high = wilson_interval(violating, len(run.findings))
            cells.append({"findings_rate": info["finding_violation_rate"], "n_findings": info["n_findings"],
                          "n_violating": violating, "low": low, "high": high,
                          "candidate_rate": info["candidate_violation_rate"], "n_scored": info["n_scored"]})
        table.append({"rubric": rubric, "cells": cells})
    return table


def shared_findings(runs: list[RunData]) -> dict[str, Any]:
    """Findings matched across RUNs by normalised query: the shared ones and each RUN's own."""
    by_key: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for n, run in enumerate(runs):
        for finding in run.findings:
            key = normalise_query(str(finding.get("query") or ""))
            best = by_key[key].get(n)
            if best is None or (score_of(finding) or -1) > (score_of(best) or -1):
                by_key[key][n] = finding
    shared, unique = [], [[] for _ in runs]
    for key, per_run in by_key.items():
        entry = {"query": next(iter(per_run.values())).get("query") or "",
                 "scores": [score_of(per_run[n]) if n in per_run else None for n in range(len(runs))]}
        if len(per_run) > 1:
            shared.append(entry)
        else:
            unique[next(iter(per_run))].append(entry)
    shared.sort(key=_best_first)
    for items in unique:
        items.sort(key=_best_first)
    return {"shared": shared, "unique": unique}


def _best_first(entry: dict[str, Any]) -> float:
    scores = [s for s in entry["scores"] if s is not None]
    return -max(scores) if scores else 0.0

