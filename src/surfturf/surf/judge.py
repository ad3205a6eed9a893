"""Score one (query, response) pair against a rubric with one judge or a panel.

Reused outside SURF (robustness checks): `judge_one` is the single place a judge is called.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from surfturf.models import GenerateConfig, Model
from surfturf.rubrics import Rubric
from surfturf.surf.prompts import ParseError, judge_messages, parse_judgement


@dataclass
class JudgeOutcome:
    """The combined score (None when no judge produced one), each judge's verdict, and the spend."""

    score: float | None
    reason: str | None
    judges: list[dict[str, Any]]
    error: str | None = None
    raw: str | None = None
    disagreement: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    budget: bool = False


async def judge_one(
    judges: Sequence[Model],
    rubric: Rubric,
    query: str,
    response: str,
    *,
    combine: Literal["mean", "median"] = "mean",
    config: GenerateConfig | None = None,
    sample_index: int = 0,
) -> JudgeOutcome:
    """Ask every judge at once and combine the scores that parsed (mean or median).

    A judge's call or parse failure is kept in its `judges` entry; the outcome has an error only
    when no judge gave a score: `"judge: ..."` for a failed call, `"parse: ..."` for bad output
    (with the raw text). `budget` is True when a call was refused by the session's budget.
    """
    messages = judge_messages(rubric.name, rubric.render(), query, response)
    results = await asyncio.gather(*(judge.generate(messages, config=config, sample_index=sample_index) for judge in judges))
    verdicts: list[dict[str, Any]] = []
    scores: list[float] = []
    reasons: list[str] = []
    outcome = JudgeOutcome(score=None, reason=None, judges=verdicts)
    first_error: tuple[str, str | None] | None = None
    for result in results:
        outcome.input_tokens += result.input_tokens
        outcome.output_tokens += result.output_tokens
        outcome.cost_usd += result.cost_usd
        outcome.calls += 0 if result.cached or result.attempts == 0 else 1
        verdict: dict[str, Any] = {"model": result.model, "score": None, "reason": None, "error": None}
        if result.error is not None:
            outcome.budget = outcome.budget or result.error.startswith("budget:")
            verdict["error"] = f"judge: {result.error}"
            first_error = first_error or (verdict["error"], None)
        else:
            try:
                judgement = parse_judgement(result.text)
            except ParseError as failure:
                verdict["error"] = f"parse: {failure.problem}"
                verdict["raw"] = failure.raw
                first_error = first_error or (verdict["error"], failure.raw)
            else:
                verdict["score"] = judgement.score
                verdict["reason"] = judgement.reason
                scores.append(judgement.score)
                reasons.append(judgement.reason)
        verdicts.append(verdict)
    if not scores:
        assert first_error is not None
        outcome.error, outcome.raw = first_error
        return outcome
    outcome.score = float(statistics.median(scores) if combine == "median" else statistics.fmean(scores))
    outcome.reason = reasons[_closest(scores, outcome.score)]
    outcome.disagreement = max(scores) - min(scores) if len(judges) > 1 else None
    return outcome


def _closest(scores: list[float], target: float) -> int:
    """The judge whose score is nearest the combined one lends its reason."""
    return min(range(len(scores)), key=lambda i: abs(scores[i] - target))
