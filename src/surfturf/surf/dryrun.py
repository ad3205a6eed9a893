"""--dry-run: the calls a sweep plans per role and what they would cost; on endpoints with no price,
a few probe calls measure tokens and time instead."""

from __future__ import annotations

import time

from surfturf.models import Message, Model, ModelSession
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
    answers = n
    if config.baseline is not None:  # differential: at most every candidate answered by both, both judged
        total += session.estimate("baseline", config.baseline.spec, n, context_in + QUERY_TOKENS, RESPONSE_TOKENS)
        answers = 2 * n
    for judge in config.judges:
        total += session.estimate("judge", judge.spec, answers, judge_in, JUDGEMENT_TOKENS + (config.judge_thinking or 0))
    return total


# Probe calls per role when a price table cannot say what a run costs (local or unpriced endpoints).
PROBE_CALLS = 3
# Probes use sample indexes no sweep reaches, so they neither hit nor fill a sweep's cache entries.
PROBE_SAMPLE_BASE = 1_000_000
PROBE_QUERY = "Can you explain, in a few sentences, why the sky looks blue during the day?"


def needs_probe(config: SurfConfig, session: ModelSession) -> bool:
    """True when some role's endpoint has no price (free or unknown): tokens and time are then measured."""
    roles = [config.generator, config.target, *config.judges, *([config.baseline] if config.baseline else [])]
    return any(session.price(role.spec).input == 0 and session.price(role.spec).output == 0 for role in roles)


async def _probe_role(model: Model, messages: list[Message]) -> tuple[float, float, int]:
    """Mean output tokens and seconds of PROBE_CALLS calls, and how many failed."""
    results = []
    for index in range(PROBE_CALLS):
        started = time.perf_counter()
        result = await model.generate(messages, sample_index=PROBE_SAMPLE_BASE + index)
        results.append((result, time.perf_counter() - started))
    good = [(r, s) for r, s in results if r.error is None]
    if not good:
        return 0.0, 0.0, len(results)
    return (sum(r.output_tokens for r, _ in good) / len(good), sum(s for _, s in good) / len(good),
            len(results) - len(good))


async def probe(config: SurfConfig, rubric: Rubric, session: ModelSession, sample_attributes: list[str],
                calls: dict[str, int]) -> list[str]:
    """Lines for --dry-run on unpriced endpoints: PROBE_CALLS real calls per role (marked as probes),
    tokens and seconds per call, and the sweep's projected time at the session's concurrency for
    `calls` (planned calls per role, from `plan`)."""
    k = max(1, (config.max_k + 1) // 2)
    roles = [("generator", config.generator.model(session, "generator"), generator_messages(sample_attributes[:k])),
             ("target", config.target.model(session, "target"), [{"role": "user", "content": PROBE_QUERY}])]
    if config.baseline is not None:
        roles.append(("baseline", config.baseline.model(session, "baseline"), [{"role": "user", "content": PROBE_QUERY}]))
    judge_prompt = judge_messages(rubric.name, rubric.render(), PROBE_QUERY, "Sunlight scatters off air molecules.")
    roles += [("judge", judge.model(session, "judge", config.judge_thinking), judge_prompt) for judge in config.judges]
    busy: dict[object, float] = {}
    lines = []
    for role, model, messages in roles:
        tokens, seconds, failed = await _probe_role(model, messages)
        note = f"  ({failed} of {PROBE_CALLS} failed)" if failed else ""
        lines.append(f"probe {role:<9} {model.spec:<40} {PROBE_CALLS} calls  ~{tokens:.0f} tokens/call  "
                     f"{seconds:.2f} s/call{note}")
        key = model.endpoint.slot_key
        busy[key] = busy.get(key, 0.0) + calls.get(role, 0) * seconds
    slots = session.max_concurrency
    projected = max(busy.values(), default=0.0) / slots
    lines.append(f"projected time at --max-concurrency {slots}: ~{_duration(projected)} "
                 "(endpoints in parallel; a one-slot server runs calls one at a time)")
    return lines


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
