"""Score one (query, response) pair against a rubric with one judge or a panel.

Reused outside SURF (robustness checks): `judge_one` is the single place a judge is called.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from surfturf.models import ChatResult, GenerateConfig, Model
from surfturf.rubrics import Rubric
from surfturf.surf.prompts import ParseError, fit_response, judge_messages, judge_prompt_text, parse_judgement


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
    rendered = rubric.render()
    results = await asyncio.gather(*(
        _ask(judge, rubric.name, rendered, query, response, config, sample_index) for judge in judges
    ))
    # A reason may cite the rubric's criterion (that is a claim about this response); only the fixed
    # instructions, which say nothing about it, are text a reason must not copy.
    told = judge_prompt_text(rubric.name, "")
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
                judgement = parse_judgement(result.text, told)
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


async def _context_tokens(judge: Model) -> int | None:
    """The judge server's context size when its provider reports one (llama.cpp-style servers)."""
    limits = getattr(judge, "server_limits", None)
    return (await limits()).context_tokens if limits is not None else None


async def _ask(judge: Model, name: str, rubric: str, query: str, response: str, config: GenerateConfig | None,
               sample_index: int) -> ChatResult:
    """One judge call, the response cut to the judge's known context; a context overflow the server
    reports comes back as an error naming the limit and the fix."""
    context = await _context_tokens(judge)
    reply = (config.max_tokens if config and config.max_tokens else None) or judge.config.max_tokens or 0
    if context:
        response, _ = fit_response(name, rubric, query, response, context, reply)
    result = await judge.generate(judge_messages(name, rubric, query, response), config=config,
                                  sample_index=sample_index)
    if result.error and result.error.startswith("bad_request") and _CONTEXT_ERROR.search(result.error):
        limit = f"{context}-token" if context else "its"
        result.error = (f"context: the judge prompt with a {reply}-token reply exceeds the server's {limit} context "
                        f"({result.error}); pass a smaller --target-max-tokens or --judge-max-tokens, "
                        "or serve the judge with a larger context")
    return result


_CONTEXT_ERROR = re.compile(r"context|too long|maximum.*tokens|n_ctx", re.IGNORECASE)


def _closest(scores: list[float], target: float) -> int:
    """The judge whose score is nearest the combined one lends its reason."""
    return min(range(len(scores)), key=lambda i: abs(scores[i] - target))
