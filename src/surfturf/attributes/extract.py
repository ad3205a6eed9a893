"""LLM attribute extraction: the tagged prompt for one query or response, and a forgiving parser.

The extractor writes 10 general, descriptive attributes per text, one property each, as a
numbered list of sentences that begin "The query ..." or "The response ...". The same prompt
serves the index build and TURF's blind judge; parse failures come back as errors with the raw
text, never as silently empty attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["query", "response"]
N_ATTRIBUTES = 10
MAX_TEXT_CHARS = 6000

SYSTEM_PROMPT = (
    "You catalogue examples from a language-model training set so that examples with shared "
    "properties can be grouped together. You describe properties in general terms."
)

INSTRUCTIONS = """Describe the {kind} inside the <text> tags with exactly {n} attributes.

Rules:
- Each attribute is one sentence that begins "The {kind}" and states exactly one property.
- Cover form as well as content: subject area, kind of task, structure and formatting, length,
  language and register, tone, framing or stock phrasing, special notation (code, math, markup,
  lists), and anything unusual about it.
- Stay general and descriptive: say what kind of thing is there; do not quote, copy or name the
  specific words, names or numbers in the text.
- Do not repeat a property in other words.

Answer with a numbered list from 1 to {n} and nothing else.

<text kind="{kind}">
{text}
</text>"""

_NUMBERED = re.compile(r"^\s*(?:\*\*)?(\d{1,2})\s*[.):]\s*(.+?)\s*$")
_BULLET = re.compile(r"^\s*[-*\u2022]\s+(.+?)\s*$")
_MARKUP = re.compile(r"[*_`]+")


def clip_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Long texts keep their head and tail: both carry the framing that attributes describe."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n[...]\n" + text[-half:]


def extraction_messages(text: str, kind: Kind, n: int = N_ATTRIBUTES) -> list[dict[str, str]]:
    """The chat messages asking for `n` attributes of one query or response."""
    user = INSTRUCTIONS.format(kind=kind, n=n, text=clip_text(text))
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _as_attribute(item: str, kind: Kind) -> str:
    """Normalise one list item to a sentence that begins "The <kind>"."""
    item = _MARKUP.sub("", item).strip().strip('"').strip()
    if not item:
        return ""
    lowered = item.lower()
    if lowered.startswith(f"the {kind}"):
        return "The " + item[4:]
    if lowered.startswith("it "):
        return f"The {kind} " + item[3:]
    return f"The {kind} " + item[0].lower() + item[1:]


@dataclass
class ParsedAttributes:
    """Attributes read from an extractor's output, and an error when fewer than asked were found."""

    attributes: list[str] = field(default_factory=list)
    error: str | None = None


def parse_attributes(output: str, kind: Kind, n: int = N_ATTRIBUTES) -> ParsedAttributes:
    """Read a numbered (or, failing that, bulleted) list; deduplicate; keep at most n items."""
    lines = output.splitlines()
    items = [m.group(2) for m in map(_NUMBERED.match, lines) if m]
    if not items:
        items = [m.group(1) for m in map(_BULLET.match, lines) if m]
    attributes: list[str] = []
    seen: set[str] = set()
    for item in items:
        attribute = _as_attribute(item, kind)
        key = attribute.lower().rstrip(".")
        if attribute and key not in seen:
            seen.add(key)
            attributes.append(attribute)
    attributes = attributes[:n]
    if not attributes:
        return ParsedAttributes([], "parse: no numbered list of attributes in the output")
    if len(attributes) < n:
        return ParsedAttributes(attributes, f"parse: {len(attributes)} of {n} attributes")
    return ParsedAttributes(attributes)


@dataclass
class Extraction:
    """One text's attributes with what it cost; `error` and `raw` are kept when anything failed."""

    attributes: list[str]
    error: str | None = None
    raw: str | None = None
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


async def extract_attributes(model: Any, text: str, kind: Kind, n: int = N_ATTRIBUTES) -> Extraction:
    """Ask `model` (a surfturf.models.Model) for the attributes of one text; never raises for model trouble."""
    result = await model.generate(extraction_messages(text, kind, n))
    usage = {"cost_usd": result.cost_usd, "input_tokens": result.input_tokens, "output_tokens": result.output_tokens}
    if result.error:
        return Extraction([], error=result.error, raw=result.text or None, **usage)
    parsed = parse_attributes(result.text, kind, n)
    return Extraction(parsed.attributes, error=parsed.error, raw=result.text if parsed.error else None, **usage)


def heuristic_extract(text: str, kind: Kind, offline: Any = None) -> Extraction:
    """The offline extractor (surfturf.attributes.heuristic) behind the same result type;
    `offline` (an OfflineExtractor fitted on the corpus) adds its contrastive descriptors."""
    from surfturf.attributes import heuristic

    offline = offline or heuristic.OfflineExtractor()
    extract = offline.query if kind == "query" else offline.response
    return Extraction(list(extract(text))[:N_ATTRIBUTES])
