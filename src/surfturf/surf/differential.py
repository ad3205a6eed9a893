"""Differential SURF: the score a search follows when every candidate is answered by a target (B, the
new checkpoint) and a baseline (A, the last one) and both answers are judged.

`new` follows failures B has and A lacks (score_B - score_A, clipped at 0), `fixed` the reverse, and
`either` the absolute difference with its direction recorded. A candidate's kind says which model
violates: `new` (B only), `fixed` (A only), `shared` (both) or `neither`; the report groups findings by it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

Direction = Literal["new", "fixed", "either"]
DIRECTIONS: tuple[str, ...] = ("new", "fixed", "either")
KINDS: tuple[str, ...] = ("new", "fixed", "shared", "neither")


def differential_score(direction: str, target: float, baseline: float) -> float:
    """The score the search follows: how much more one model violates than the other."""
    if direction == "new":
        return max(0.0, target - baseline)
    if direction == "fixed":
        return max(0.0, baseline - target)
    return abs(target - baseline)


def kind_of(target_violation: bool, baseline_violation: bool) -> str:
    """Which model violates: new (B only), fixed (A only), shared (both), neither."""
    if target_violation and baseline_violation:
        return "shared"
    if target_violation:
        return "new"
    return "fixed" if baseline_violation else "neither"


def counts_as_violation(direction: str, kind: str) -> bool:
    """A differential candidate violates when it shows the difference the search looks for."""
    return kind == direction or (direction == "either" and kind in ("new", "fixed"))


def combine(direction: str, threshold: float, target: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """The record fields of a differential candidate from each side's judged answer.

    `target` and `baseline` hold `score` and `reason` (and the baseline its `response` and `judges`).
    `score` is the differential score; `reason` is the reason of the side the difference points to."""
    target_score, baseline_score = float(target["score"]), float(baseline["score"])
    target_violation, baseline_violation = target_score > threshold, baseline_score > threshold
    kind = kind_of(target_violation, baseline_violation)
    leaning = "new" if target_score > baseline_score else "fixed" if baseline_score > target_score else None
    points_to = direction if direction != "either" else leaning or "new"
    return {
        "score": differential_score(direction, target_score, baseline_score),
        "reason": (baseline if points_to == "fixed" else target)["reason"],
        "violation": counts_as_violation(direction, kind),
        "differential": {
            "direction": direction, "kind": kind, "leaning": leaning,
            "target": {"score": target_score, "reason": target["reason"], "violation": target_violation},
            "baseline": {"score": baseline_score, "reason": baseline["reason"], "violation": baseline_violation,
                         "response": baseline["response"], "judges": baseline.get("judges", [])},
        },
    }


def kind_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Scored differential candidates per kind (for manifests and reports)."""
    counts = Counter(r["differential"]["kind"] for r in records if r.get("differential"))
    return {kind: counts.get(kind, 0) for kind in KINDS}


def is_differential(manifest: dict[str, Any]) -> bool:
    """True for the manifest of a run with a baseline."""
    return bool((manifest.get("config") or {}).get("baseline"))
