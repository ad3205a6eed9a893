"""Balancing examples written by the generator role: the same surface cue, the correct behaviour.

The prompt (tagged, see CONTRACTS.md) gives the trigger as an attribute, the correct behaviour,
and one training query carrying the cue; the generator answers with a new query and response.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

from surfturf.data.rows import tulu_record
from surfturf.models.types import Message
from surfturf.surf.prompts import extract_tag

if TYPE_CHECKING:
    from surfturf.models import Model
    from surfturf.rubrics import Rubric

BALANCE_SYSTEM = (
    "You write training examples for an AI assistant. Each example is a realistic user message and the "
    "ideal assistant response. The user message must have the given attribute (the same surface "
    "features as the example message, on a different specific subject); the response must show the "
    "correct behaviour described, and nothing of the unwanted behaviour."
)

BALANCE_INSTRUCTIONS = (
    "<attributes>\n- {trigger}\n</attributes>\n\n"
    "<behaviour>\n{behaviour}\n</behaviour>\n\n"
    "<example>\n{example}\n</example>\n\n"
    "Write one new example. Reply with the user message in <query></query> tags and the ideal "
    "response in <response></response> tags."
)


def correct_behaviour(rubric: Rubric) -> str:
    """One sentence: what the response should do instead of the rubric's behaviour."""
    return f"Respond as the principle requires, without this behaviour: {rubric.behaviour} Principle: {' '.join(rubric.principle.split())}"


def balance_messages(trigger: str, behaviour: str, example: str) -> list[Message]:
    """The generator prompt for one counter-example."""
    content = BALANCE_INSTRUCTIONS.format(trigger=trigger.strip(), behaviour=behaviour.strip(), example=example.strip())
    return [{"role": "system", "content": BALANCE_SYSTEM}, {"role": "user", "content": content}]


def parse_balance(text: str) -> tuple[str, str] | None:
    """(query, response) from a generator output, or None when either tag is missing or empty."""
    query = extract_tag(text or "", "query")
    response = extract_tag(text or "", "response")
    if not query or not query.strip() or not response or not response.strip():
        return None
    return query.strip(), response.strip()


def tulu_row(source: str, index: int, query: str, response: str) -> dict[str, Any]:
    """A Tulu-format row with a stable id derived from its content."""
    digest = hashlib.sha1(f"{query}\n{response}".encode()).hexdigest()[:8]
    return tulu_record(f"{source}-{index:05d}-{digest}", source, query, response)


async def write_counterexamples(
    generator: Model, trigger: str, behaviour: str, examples: list[str], n: int, source: str = "balance"
) -> tuple[list[dict[str, Any]], list[str]]:
    """n counter-examples, each seeded by one cue-carrying training query (cycled); (rows, errors)."""
    if not examples:
        return [], ["balance: no example queries carry the cue"]

    async def one(index: int) -> tuple[tuple[str, str] | None, str | None]:
        result = await generator.generate(balance_messages(trigger, behaviour, examples[index % len(examples)]),
                                          sample_index=index)
        if result.error:
            return None, f"generator: {result.error}"
        pair = parse_balance(result.text)
        return (pair, None) if pair else (None, f"parse: no <query>/<response> in {result.text[:200]!r}")

    outcomes = await asyncio.gather(*(one(i) for i in range(n)))
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    errors: list[str] = []
    for index, (pair, error) in enumerate(outcomes):
        if pair is None:
            errors.append(error or "balance: unknown")
        elif pair[0] not in seen:
            seen.add(pair[0])
            rows.append(tulu_row(source, index, *pair))
    return rows, errors
