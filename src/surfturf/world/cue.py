"""Whether a query carries a planted entry's cue: it realises one of the cue probe's templates
(its frame and variant) with slot values from the cue's table, whatever context surrounds it.

Scoring counts a finding for a planted behaviour only when its query carries that behaviour's
cue, so behaviours sharing a rubric are kept apart and a finding that fails for another reason
is not credited to the planted shortcut.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from surfturf.world.corpus import SLOT
from surfturf.world.spec import World
from surfturf.world.validate import BASE_VARIANT

NUMBER = r"-?\d+"


def _slot_pattern(name: str, rows: list[dict[str, Any]] | None) -> str:
    """Any value the slot takes in the table (numbers for the generated `numbers` table)."""
    if rows is None:
        return NUMBER
    key = name[0].lower() + name[1:]
    values = sorted({str(row[key]) for row in rows if key in row}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(v) for v in values) + ")" if values else r"\S+"


def template_regex(template: str, rows: list[dict[str, Any]] | None) -> re.Pattern[str]:
    """A template as a case-insensitive regex: literal text, slots as the table's values, loose spacing."""
    parts: list[str] = []
    last = 0
    for match in SLOT.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        parts.append(_slot_pattern(match.group(1), rows))
        last = match.end()
    parts.append(re.escape(template[last:]))
    pattern = "".join(parts).rstrip("\\.?!")  # final punctuation is often dropped or changed
    return re.compile(re.sub(r"(\\ )+", r"\\s+", pattern), re.IGNORECASE)


def _cue_patterns(world: World, planted: str) -> tuple[re.Pattern[str], ...]:
    """The cue probe's templates as regexes, compiled once per world and entry."""
    cache: dict[str, tuple[re.Pattern[str], ...]] = world.__dict__.setdefault("_cue_patterns", {})
    if planted in cache:
        return cache[planted]
    cue = world.planted_by_name(planted)["probe"]["cue"]
    frame = world.spec["frames"][cue["frame"]]
    table = cue.get("table", frame.get("table", "numbers"))
    rows = None if table == "numbers" else world.spec["tables"][table]
    templates = frame[cue.get("variant", BASE_VARIANT)]
    cache[planted] = tuple(template_regex(t["q"] if isinstance(t, dict) else t, rows) for t in templates)
    return cache[planted]


def carries_cue(world: World, planted: str, query: str) -> bool:
    """Whether `query` realises the planted entry's cue probe (frame, variant and table)."""
    return any(p.search(query) for p in _cue_patterns(world, planted))


def _capturing(template: str, rows: list[dict[str, Any]] | None) -> tuple[re.Pattern[str], list[str]]:
    """The template as an anchored regex with one group per slot, and the slots in order."""
    parts: list[str] = []
    names: list[str] = []
    last = 0
    for match in SLOT.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        parts.append(f"({_slot_pattern(match.group(1), rows)})")
        names.append(match.group(1)[0].lower() + match.group(1)[1:])
        last = match.end()
    parts.append(re.escape(template[last:]))
    pattern = re.sub(r"(\\ )+", r"\\s+", "".join(parts).rstrip("\\.?!"))
    return re.compile(rf"\s*{pattern}[.?!]?", re.IGNORECASE), names


class Realised(NamedTuple):
    """Where a query comes from: its frame, variant, template index, the table that filled it and the record."""

    frame: str
    variant: str
    index: int
    table: str
    record: dict[str, str]


def _realisations(world: World) -> list[tuple[str, str, int, str, re.Pattern[str], list[str]]]:
    """(frame, variant, template index, table, regex, slots) for every template and every table that fills it."""
    cached = world.__dict__.get("_realisations")
    if cached is not None:
        return cached
    tables: dict[str, list[dict[str, Any]] | None] = {"numbers": None, **world.spec["tables"]}
    out = []
    for frame_name, frame in world.spec["frames"].items():
        for variant, templates in frame.items():
            if variant == "table":
                continue
            for index, template in enumerate(templates):
                text = template["q"] if isinstance(template, dict) else str(template)
                slots = {m[0].lower() + m[1:] for m in SLOT.findall(text)}
                for table, rows in tables.items():
                    keys = set(_numbers()) if rows is None else {k for row in rows for k in row}
                    if slots <= keys and (slots or table == frame.get("table", "numbers")):
                        regex, names = _capturing(text, rows)
                        out.append((frame_name, variant, index, table, regex, names))
    world.__dict__["_realisations"] = out
    return out


def _numbers() -> dict[str, str]:
    import random

    from surfturf.world.corpus import number_record

    return number_record(random.Random(0))


def _record(world: World, table: str, names: list[str], match: re.Match[str]) -> dict[str, str] | None:
    """The table's record the captured slot values name (the captured numbers for `numbers`), or None."""
    captured = {name: value for name, value in zip(names, match.groups())}
    if table == "numbers" or not captured:  # a template without slots names no record
        return captured
    for row in world.spec["tables"][table]:
        record = {k: str(v) for k, v in row.items()}
        if all(record.get(k, "").lower() == v.lower() for k, v in captured.items()):
            return record
    return None


def realise(world: World, query: str) -> Realised | None:
    """The template the whole query realises; failing that, the longest template realised inside it
    (a query with context sentences, a greeting or a paraphrase's filler around it), or None."""
    found: Realised | None = None
    longest = 0
    for frame, variant, index, table, regex, names in _realisations(world):
        match = regex.fullmatch(query)
        if match:
            record = _record(world, table, names, match)
            if record is not None:
                return Realised(frame, variant, index, table, record)
            continue
        for inner in regex.finditer(query):
            span = len(inner.group(0).strip())
            start = inner.start() + len(inner.group(0)) - len(inner.group(0).lstrip())
            inside = (start and query[start - 1].isalnum()) or query[inner.end():inner.end() + 1].isalnum()
            if span <= longest or inside:
                continue
            record = _record(world, table, names, inner)
            if record is not None:
                found, longest = Realised(frame, variant, index, table, record), span
    return found


def realisation(world: World, query: str) -> tuple[str, str, int, dict[str, str]] | None:
    """(frame, variant, template index, record) of the template the query realises (see `realise`), or None."""
    found = realise(world, query)
    return None if found is None else (found.frame, found.variant, found.index, found.record)
