"""The report's differential section: a run with a baseline, its candidates grouped by which model
violates (new in B, fixed in B, shared), side by side, each with both scores, both answers and,
where `robust` checked it, the paired test's p-value; and how many candidates only one model answered."""

from __future__ import annotations

from typing import Any

from surfturf.report.load import RunData
from surfturf.surf.buffer import is_near_duplicate

PER_KIND = 8
COLUMNS = (("new", "New in the target", "the target violates, the baseline does not"),
           ("fixed", "Fixed in the target", "the baseline violates, the target does not"),
           ("shared", "Shared", "both violate"))


def _strength(kind: str, target: float, baseline: float) -> float:
    """How clearly a candidate shows its kind: the score gap, or for shared failures the weaker score."""
    return {"new": target - baseline, "fixed": baseline - target}.get(kind, min(target, baseline))


def differential_view(run: RunData, per_kind: int = PER_KIND) -> dict[str, Any] | None:
    """Three columns of the run's clearest distinct candidates per kind; None for a plain run."""
    baseline = run.config.get("baseline")
    if not isinstance(baseline, dict):
        return None
    robust = {str(r.get("finding")): r for r in run.robust if isinstance(r.get("claim"), dict)}
    near = float(run.config.get("near_duplicate") or 0.8)
    grouped: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _, _ in COLUMNS}
    counts = {kind: 0 for kind in grouped}
    scored = [c for c in run.candidates if isinstance(c.get("differential"), dict) and c.get("score") is not None]
    for candidate in scored:
        kind = candidate["differential"].get("kind")
        if kind in grouped:
            counts[kind] += 1
            grouped[kind].append(candidate)
    columns = []
    for kind, title, meaning in COLUMNS:
        ranked = sorted(grouped[kind], key=lambda c: (-_strength(kind, *_scores(c)), str(c.get("id"))))
        shown: list[dict[str, Any]] = []
        for candidate in ranked:
            if len(shown) == per_kind:
                break
            if is_near_duplicate(str(candidate.get("query") or ""), (s["query"] for s in shown), near):
                continue
            target_score, baseline_score = _scores(candidate)
            check = robust.get(str(candidate.get("id")))
            shown.append({
                "id": str(candidate.get("id")), "query": str(candidate.get("query") or ""),
                "target_score": target_score, "baseline_score": baseline_score,
                "target_response": str(candidate.get("response") or ""),
                "baseline_response": str(candidate["differential"].get("baseline", {}).get("response") or ""),
                "claim": check["claim"] if check else None,
            })
        columns.append({"kind": kind, "title": title, "meaning": meaning, "count": counts[kind], "rows": shown})
    unasked = sum(1 for c in scored if c["differential"].get("kind") == "unasked")
    return {"target": (run.manifest.get("models") or {}).get("target"), "baseline": baseline.get("spec"),
            "direction": run.config.get("direction"), "scored": len(scored), "unasked": unasked, "columns": columns}


def _scores(candidate: dict[str, Any]) -> tuple[float, float]:
    sides = candidate["differential"]
    return float(sides["target"]["score"]), float(sides["baseline"]["score"])
