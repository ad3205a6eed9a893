"""The realiser: adapts a training response to a new query by analogy between the two queries.

The spans where the new query differs from the neighbour's query are substituted in the
neighbour's response, and any `a op b = c` arithmetic is recomputed, so a learned response
pattern carries the new query's content.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

TOKEN = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]", re.UNICODE)
STOP = {"the", "a", "an", "of", "to", "in", "is", "and", "or", "what", "how", "do", "i", "you", "me", "my", "it"}
ARITH = re.compile(r"(?<![\w.])(\d+) ([+×x*/-]) (\d+) = (\d+)(?!\w|\.\d)")
NUMBER = re.compile(r"^\d+$")


def _spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _operands(text: str, spans: list[tuple[str, int, int]]) -> list[str]:
    """Numbers in the text that are not list markers ("1." or "2)" opening a sentence)."""
    out = []
    for token, start, end in spans:
        if not NUMBER.match(token):
            continue
        before = text[:start].rstrip()
        if text[end:end + 1] in (".", ")") and (not before or before[-1] in "?.!:") and len(token) <= 2:
            continue
        out.append(token)
    return out


def substitutions(old_query: str, new_query: str) -> dict[str, list[str]]:
    """Old phrase -> new phrases (used in order of occurrence) for each region the queries differ in."""
    old, new = _spans(old_query), _spans(new_query)
    mapping: dict[str, list[str]] = {}
    old_numbers = _operands(old_query, old)
    new_numbers = _operands(new_query, new)
    if len(old_numbers) == len(new_numbers):
        for before, after in zip(old_numbers, new_numbers):
            mapping.setdefault(before, []).append(after)

    def shape(token: str) -> str:
        return "<n>" if NUMBER.match(token) else token.lower()

    matcher = SequenceMatcher(None, [shape(t[0]) for t in old], [shape(t[0]) for t in new], autojunk=False)
    if matcher.ratio() < 0.4:
        return mapping
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 > 8 or j2 - j1 > 12:
            continue
        old_phrase = old_query[old[i1][1]:old[i2 - 1][2]]
        new_phrase = new_query[new[j1][1]:new[j2 - 1][2]]
        words = [t[0].lower() for t in old[i1:i2] if t[0][0].isalnum()]
        if not words or all(w in STOP for w in words):
            continue
        mapping.setdefault(old_phrase, [new_phrase])
    return mapping


def apply(response: str, mapping: dict[str, list[str]]) -> str:
    """Replaces mapped phrases at word boundaries in one pass, keeping a leading capital.

    A phrase with several replacements (a number used twice in the query) takes them in order.
    """
    if not mapping:
        return response
    lookup = {k.lower(): list(v) for k, v in mapping.items()}
    pattern = re.compile(
        "|".join(rf"(?<!\w){re.escape(k)}(?!\w)" for k in sorted(mapping, key=len, reverse=True)),
        re.IGNORECASE,
    )

    def one(match: re.Match[str]) -> str:
        queue = lookup[match.group(0).lower()]
        value = queue.pop(0) if len(queue) > 1 else queue[0]
        if match.group(0)[:1].isupper() and value[:1].islower():
            return value[:1].upper() + value[1:]
        return value

    return pattern.sub(one, response)


def recompute(text: str) -> str:
    """Fixes `a op b = c` results and carries each fixed result to its later mentions."""
    fixes: dict[str, str] = {}

    def one(match: re.Match[str]) -> str:
        a, op, b, c = int(match.group(1)), match.group(2), int(match.group(3)), match.group(4)
        value = {"+": a + b, "-": a - b, "×": a * b, "x": a * b, "*": a * b}.get(op)
        if op == "/":
            value = a // b if b and a % b == 0 else None
        if value is None:
            return match.group(0)
        fixes[c] = str(value)
        return f"{a} {op} {b} = {value}"

    out = ARITH.sub(one, text)
    for old, new in fixes.items():
        if old != new:
            head, sep, tail = out.partition(f"= {new}")
            tail = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w|\.\d)", new, tail)
            out = head + sep + tail
    return out


def realise(neighbour_query: str, neighbour_response: str, query: str) -> str:
    """The neighbour's response re-aimed at `query`."""
    return recompute(apply(neighbour_response, substitutions(neighbour_query, query)))
