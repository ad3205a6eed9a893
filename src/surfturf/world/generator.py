"""The offline query generator: realises a set of attribute descriptors as one realistic query.

Each pool attribute in the spec says what it steers (frames, register or language variant,
record tables and filters, an added sentence); attributes compose by intersecting their frame
sets. Attributes from another pool are matched to the closest world attribute by word overlap.
"""

from __future__ import annotations

import random
import re
from typing import Any

from surfturf.world.corpus import draw_record, fill
from surfturf.world.spec import World

MAX_ADDITIONS = 2  # a realistic message mentions a detail or two of context, not five


def pool_attributes(world: World) -> list[str]:
    """The texts of the spec's attribute pool."""
    return [entry["text"] for entry in world.spec.get("attributes", [])]


# Descriptor scaffolding ("The query is written in ...", "mentions", "asks for"): words every
# attribute shares, so matching on them would realise "written in Tamil" as Swahili.
SCAFFOLD = frozenset({"the", "query", "a", "an", "or", "of", "is", "as", "such", "written", "in", "about", "asks",
                      "for", "mentions", "uses", "contains", "says", "user", "with", "and", "to", "it", "its", "that",
                      "by", "like", "be", "has", "on", "from", "someone", "something", "some", "e", "g"})


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower())) - SCAFFOLD


def match_attribute(world: World, text: str) -> dict[str, Any] | None:
    """The pool entry for an attribute text: exact, else the best overlap of content words (Jaccard >= 0.5).
    An attribute the world cannot express matches nothing and is left out of the query."""
    entries = world.spec.get("attributes", [])
    clean = " ".join(text.strip().lstrip("-*0123456789. ").split())
    for entry in entries:
        if entry["text"].rstrip(".").lower() == clean.rstrip(".").lower():
            return entry
    words = _words(clean)
    best, best_score = None, 0.0
    for entry in entries:
        other = _words(entry["text"])
        score = len(words & other) / max(len(words | other), 1)
        if score > best_score:
            best, best_score = entry, score
    return best if best_score >= 0.5 else None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def realise_attributes(world: World, attributes: list[str], seed: int = 0) -> str:
    """A query with every matched attribute, deterministic for (attributes, seed)."""
    rng = random.Random(f"{seed}|" + "|".join(attributes))
    entries = [e for e in (match_attribute(world, a) for a in attributes) if e is not None]
    rng.shuffle(entries)
    frames_spec = world.spec["frames"]

    frame_sets = [set(_as_list(e["sets"]["frame"])) for e in entries if e.get("sets", {}).get("frame")]
    variants = [v for e in entries for v in [e.get("sets", {}).get("variant")] if v]
    variant = rng.choice(_as_list(variants[0])) if variants else "plain"
    if frame_sets:
        frames = set.intersection(*frame_sets) or frame_sets[0]
        with_variant = sorted(f for f in frames if variant in frames_spec.get(f, {}))
        frame = rng.choice(with_variant or sorted(frames))
    else:
        frame = _default_frame(world, variant, rng)

    entries = [e for e in entries if frame in _as_list(e.get("sets", {}).get("frame") or [frame])]
    tables = [e["sets"]["table"] for e in entries if e.get("sets", {}).get("table")]
    table_choices = _as_list(tables[0]) if tables else frame_tables(world, frame)
    record = _draw_filtered(world, table_choices, entries, rng)

    used_variant = variant if variant in frames_spec[frame] else "plain"
    template = rng.choice(frames_spec[frame][used_variant])
    slots = dict(record)
    if isinstance(template, dict):
        template = template["q"]
    query = fill(template, slots)
    english = world.in_base_language(used_variant)
    additions = [e["add"] for e in entries if e.get("add")]
    for entry in entries:
        if entry.get("prefix") and english:
            query = f"{entry['prefix']} {query}"
    if english and additions:
        query = " ".join([query] + additions[:MAX_ADDITIONS])
    if world.lowercase(variant):
        query = query.lower()
    return query


def frame_tables(world: World, frame: str) -> list[str]:
    """The tables the corpus fills a frame from: its own and every table a mix pairs with it."""
    home = world.spec["frames"][frame].get("table", "numbers")
    paired = [m.get("table", home) for c in world.spec["chunks"] for m in c["mix"] if m["frame"] == frame]
    return list(dict.fromkeys([home, *paired]))


def _default_frame(world: World, variant: str, rng: random.Random) -> str:
    """An everyday frame (the spec's `default_frames` weights) when no attribute names a topic."""
    weights = world.spec.get("default_frames") or {name: 1.0 for name in world.spec["frames"]}
    usable = {f: float(w) for f, w in weights.items() if variant in world.spec["frames"].get(f, {})} or weights
    return rng.choices(list(usable), weights=list(usable.values()))[0]


def _draw_filtered(world: World, tables: list[str], entries: list[dict[str, Any]], rng: random.Random) -> dict[str, str]:
    """A record from the union of `tables` that meets the attributes' `where` filters when any record does."""
    if "numbers" in tables:
        return draw_record(world, "numbers", rng)
    rows = [row for table in tables for row in world.spec["tables"][table]]
    for entry in entries:
        where = entry.get("sets", {}).get("where") or {}
        kept = [r for r in rows if all(str(r.get(k)) in map(str, _as_list(v)) for k, v in where.items())]
        if kept:
            rows = kept
    return {key: str(value) for key, value in rng.choice(rows).items()}
