"""Differential SURF: the score a search follows when a candidate is answered by a target (B, the new
checkpoint) and a baseline (A, the last one) and both answers are judged.

`new` follows failures B has and A lacks (score_B - score_A, clipped at 0), `fixed` the reverse, and
`either` the absolute difference with its direction recorded. A candidate's kind says which model
violates: `new` (B only), `fixed` (A only), `shared` (both) or `neither`; the report groups findings by it.

Who is asked. `new` and `fixed` name the side that must violate for the difference they follow (B,
resp. A), which answers first. The other side is asked only when the leading side's score is above
the search's weight floor (the rubric's lowest band, or the threshold if lower): at or below it, the
differential score max(0, lead - other) is at most the floor whatever the other side answers, so it
neither counts as a violation nor gives the candidate weight in the search, and the answer could
change nothing. Such a candidate's kind is `unasked` and the other side's record says `asked: false`
and why; its score is the leading side's (the most the difference could be, still within the
floor). So a direction-`new` run asks A only where B's answer shows the behaviour, and samples the
same attributes as one that asked both (measured in bench/differential.py). `either` asks both at
once, every candidate: the run for a user who wants both answers of every candidate, or the `fixed`
failures a `new` run does not look for.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["new", "fixed", "either"]
DIRECTIONS: tuple[str, ...] = ("new", "fixed", "either")
KINDS: tuple[str, ...] = ("new", "fixed", "shared", "neither", "unasked")
# The side that must violate for a direction's difference, which is therefore asked first.
LEADS = {"new": "target", "fixed": "baseline"}
OTHER = {"target": "baseline", "baseline": "target"}


@dataclass(frozen=True)
class Judged:
    """One side's judged answer."""

    text: str
    score: float
    reason: str | None
    judges: list[dict[str, Any]] = field(default_factory=list)


# ask(role) -> the judged answer of "target" or "baseline", or the error line of its failure.
Ask = Callable[[str], Awaitable["Judged | str"]]


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


async def evaluate(direction: str, threshold: float, floor: float, ask: Ask) -> dict[str, Any]:
    """The record fields of one differential candidate, asking each side as the direction needs
    (module docstring; `floor`: the score at or below which the search gives a candidate no weight);
    `{"error": line}` when a side's call or judgement failed."""
    if direction == "either":
        both = await asyncio.gather(ask("target"), ask("baseline"))
        if isinstance(both[0], str) or isinstance(both[1], str):
            return {"error": both[0] if isinstance(both[0], str) else both[1]}
        return combine(direction, threshold, both[0], both[1])
    lead = LEADS[direction]
    first = await ask(lead)
    if isinstance(first, str):
        return {"error": first}
    gate = min(floor, threshold)
    if first.score <= gate:
        return unasked(direction, threshold, gate, lead, first)
    second = await ask(OTHER[lead])
    if isinstance(second, str):
        return {"error": second}
    target, baseline = (first, second) if lead == "target" else (second, first)
    return combine(direction, threshold, target, baseline)


def _side(judged: Judged, threshold: float, with_answer: bool) -> dict[str, Any]:
    side: dict[str, Any] = {"asked": True, "score": judged.score, "reason": judged.reason,
                            "violation": judged.score > threshold}
    if with_answer:  # the target's answer and panel are the record's own `response` and `judges`
        side.update(response=judged.text, judges=judged.judges)
    return side


def combine(direction: str, threshold: float, target: Judged, baseline: Judged) -> dict[str, Any]:
    """The record fields of a candidate both sides answered. `score` is the differential score;
    `reason` is the reason of the side the difference points to."""
    kind = kind_of(target.score > threshold, baseline.score > threshold)
    leaning = "new" if target.score > baseline.score else "fixed" if baseline.score > target.score else None
    points_to = direction if direction != "either" else leaning or "new"
    return {
        "score": differential_score(direction, target.score, baseline.score),
        "reason": (baseline if points_to == "fixed" else target).reason,
        "violation": counts_as_violation(direction, kind),
        "differential": {"direction": direction, "kind": kind, "leaning": leaning,
                         "target": _side(target, threshold, False), "baseline": _side(baseline, threshold, True)},
    }


def unasked(direction: str, threshold: float, gate: float, lead: str, judged: Judged) -> dict[str, Any]:
    """The record fields of a candidate whose leading side scored at or below `gate` (the floor), so the
    other side was not asked (module docstring): never a violation, scored as the leading side."""
    other = OTHER[lead]
    why = (f"the {lead} scores {judged.score:g}, at or below the search's weight floor {gate:g}, so the candidate "
           f"cannot be {direction} in the target whatever the {other} answers")
    skipped: dict[str, Any] = {"asked": False, "why": why, "score": None, "reason": None, "violation": None}
    if other == "baseline":
        skipped.update(response=None, judges=[])
    return {
        "score": judged.score, "reason": judged.reason, "violation": False,
        "differential": {"direction": direction, "kind": "unasked", "leaning": None,
                         lead: _side(judged, threshold, lead == "baseline"), other: skipped},
    }


def kind_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Scored differential candidates per kind (for manifests and reports)."""
    counts = Counter(r["differential"]["kind"] for r in records if r.get("differential"))
    return {kind: counts.get(kind, 0) for kind in KINDS}


def is_differential(manifest: dict[str, Any]) -> bool:
    """True for the manifest of a run with a baseline."""
    return bool((manifest.get("config") or {}).get("baseline"))
