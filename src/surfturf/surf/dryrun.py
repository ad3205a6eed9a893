"""--dry-run: the calls a sweep plans per role and what they would cost, before any call."""

from __future__ import annotations

from surfturf.models import ModelSession
from surfturf.models.accounting import approx_tokens
from surfturf.rubrics import Rubric
from surfturf.surf.config import SurfConfig
from surfturf.surf.prompts import generator_messages, judge_messages

# Rough output sizes in tokens for one call of each role (a query, an answer, a reason + score).
QUERY_TOKENS = 80
RESPONSE_TOKENS = 400
JUDGEMENT_TOKENS = 60


def _tokens(messages: list[dict[str, str]]) -> int:
    return approx_tokens(sum(len(m["content"]) for m in messages))


def plan(config: SurfConfig, rubric: Rubric, session: ModelSession, sample_attributes: list[str]) -> float:
    """Record the planned calls on `session` (see `session.plan_lines()`); returns the total USD.
    Counts assume every iteration runs (early stops only make it cheaper)."""
    n = config.runs * config.iterations * config.candidates
    k = max(1, (config.max_k + 1) // 2)
    generator_in = _tokens(generator_messages(sample_attributes[:k]))
    judge_in = _tokens(judge_messages(rubric.name, rubric.render(), "q" * QUERY_TOKENS * 4, "r" * RESPONSE_TOKENS * 4))
    total = session.estimate("generator", config.generator.spec, n, generator_in, QUERY_TOKENS)
    context_in = _tokens([turn.model_dump() for turn in config.context])
    total += session.estimate("target", config.target.spec, n, context_in + QUERY_TOKENS, RESPONSE_TOKENS)
    for judge in config.judges:
        total += session.estimate("judge", judge.spec, n, judge_in, JUDGEMENT_TOKENS + (config.judge_thinking or 0))
    return total
