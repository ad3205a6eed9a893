"""A role that produced nothing fails the command: a rate over zero rephrasings or zero judged
samples is no measurement, and must not read as `complete`."""

from __future__ import annotations

from typing import Any


def silent_role(role: str, what: str, attempted: int, produced: int, errors: list[str]) -> str | None:
    """One line naming the role and its last error when it was asked `attempted` times and produced nothing."""
    if not attempted or produced:
        return None
    last = errors[-1] if errors else "no output"
    return f"{role} produced nothing: 0 of {attempted} {what}; last: {' '.join(last.split())[:240]}"


def first_silent(checks: list[tuple[str, str, int, int, list[str]]]) -> str | None:
    """The first role in pipeline order (perturber, target, judge) that produced nothing."""
    for check in checks:
        line = silent_role(*check)
        if line is not None:
            return line
    return None


def robust_failure(records: list[dict[str, Any]], samples: list[dict[str, Any]], perturbations: int) -> str | None:
    """Which role of a robustness check produced nothing, if any."""
    rephrasings = sum(len(r["perturbations"]) for r in records)
    perturb_errors = [e for r in records for e in r["perturbation_errors"]]
    answered = [s for s in samples if s["response"] is not None]
    return first_silent([
        ("perturber", "rephrasings parsed", len(records) * perturbations, rephrasings, perturb_errors),
        ("target", "samples answered", len(samples), len(answered), [s["error"] for s in samples if s["error"]]),
        ("judge", "answers judged", len(answered), sum(s["score"] is not None for s in answered),
         [s["error"] for s in answered if s["error"]]),
    ])


def steer_failure(pairs: list[Any], records: list[dict[str, Any]], perturbed: bool) -> str | None:
    """Which role of a steered score produced nothing, if any (perturber only for model transforms)."""
    outcomes = [o for r in records for s in r.get("samples", []) for o in (s["original"], s["transformed"])]
    answered = [o for o in outcomes if o["response"] is not None]
    checks = [("target", "samples answered", len(outcomes), len(answered),
               [o["error"] for o in outcomes if o["error"]]),
              ("judge", "answers measured", len(answered), sum(o["value"] is not None for o in answered),
               [o["error"] for o in answered if o["error"]])]
    if perturbed:
        checks.insert(0, ("perturber", "prompts transformed", len(pairs),
                          sum(p.transformed is not None for p in pairs), [p.error for p in pairs if p.error]))
    return first_silent(checks)
