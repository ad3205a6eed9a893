"""One-sentence cluster summaries: the summariser's tagged prompt and parser, or the most central attribute."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

SYSTEM_PROMPT = "You name groups of similar descriptions of training examples, in plain general words."

INSTRUCTIONS = """The attributes below describe queries that were grouped together because they are similar.
Write one sentence that states the property they share, in general terms, beginning "The query".

<attributes>
{attributes}
</attributes>

Answer as <summary>one sentence</summary>."""

_SUMMARY = re.compile(r"<summary>\s*(.+?)\s*</summary>", re.DOTALL | re.IGNORECASE)


def summary_messages(attributes: list[str]) -> list[dict[str, str]]:
    listed = "\n".join(f"- {text}" for text in attributes)
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": INSTRUCTIONS.format(attributes=listed)}]


def parse_summary(output: str) -> str | None:
    """The sentence inside <summary> tags, on one line; None when the tags are missing or empty."""
    match = _SUMMARY.search(output)
    if not match:
        return None
    sentence = " ".join(match.group(1).split())
    return sentence or None


async def summarise_clusters(model: Any | None, central: list[list[str]],
                             on_done: Callable[[], None]) -> tuple[list[str], list[str | None]]:
    """(summary, error) per cluster. Offline (model None) or on failure: the most central attribute."""
    async def one(texts: list[str]) -> tuple[str, str | None]:
        fallback = texts[0] if texts else ""
        if model is None or not texts:
            on_done()
            return fallback, None
        result = await model.generate(summary_messages(texts))
        on_done()
        if result.error:
            return fallback, result.error
        sentence = parse_summary(result.text)
        if sentence is None:
            return fallback, f"parse: no <summary> in {result.text[:200]!r}"
        return sentence, None

    pairs = await asyncio.gather(*(one(texts) for texts in central))
    return [p[0] for p in pairs], [p[1] for p in pairs]
