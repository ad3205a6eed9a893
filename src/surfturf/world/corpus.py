"""The corpus generator: Tulu-format rows drawn from the spec's chunks, deterministic from a seed."""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from surfturf.data.rows import tulu_record
from surfturf.world.spec import World

SLOT = re.compile(r"\{([A-Za-z_]+)\}")


def number_record(rng: random.Random) -> dict[str, str]:
    """Operands and results for the arithmetic templates."""
    a, b = rng.randint(2, 40), rng.randint(2, 19)
    c, d = rng.randint(2, 12), rng.randint(2, 12)
    values = {"a": a, "b": b, "c": c, "d": d, "a_plus_b": a + b, "a_times_b": a * b,
              "c_plus_d": c + d, "c_times_d": c * d}
    return {key: str(value) for key, value in values.items()}


def fill(template: str, slots: dict[str, str]) -> str:
    """Replaces {slot} (and {Slot}, capitalised) for known slots; leaves other braces alone."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in slots:
            return slots[name]
        lower = name[0].lower() + name[1:]
        if name[0].isupper() and lower in slots:
            value = slots[lower]
            return value[:1].upper() + value[1:]
        return match.group(0)

    return SLOT.sub(one, template)


def draw_record(world: World, table: str, rng: random.Random) -> dict[str, str]:
    """One record of a table as string slots."""
    if table == "numbers":
        return number_record(rng)
    rows = world.spec["tables"][table]
    return {key: str(value) for key, value in rng.choice(rows).items()}


def realise_pair(world: World, mix: dict[str, Any], rng: random.Random,
                 record: dict[str, str] | None = None, context_rate: float | None = None) -> tuple[str, str]:
    """A (query, response) for one mix entry: frame template and style template share one record."""
    frame = world.spec["frames"][mix["frame"]]
    table = mix.get("table", frame.get("table", "numbers"))
    slots = dict(record) if record is not None else draw_record(world, table, rng)
    template = rng.choice(frame[mix.get("variant", "plain")])
    if isinstance(template, dict):
        extras = {key: fill(str(value), slots) for key, value in template.items() if key != "q"}
        slots.update(extras)
        template = template["q"]
    query = fill(template, slots)
    response = fill(rng.choice(world.spec["styles"][mix["style"]]), slots)
    return add_context(world, query, mix.get("variant", "plain"), rng, context_rate), response


def add_context(world: World, query: str, variant: str, rng: random.Random, rate: float | None = None) -> str:
    """Sometimes appends an incidental context sentence (the pool's `add` texts), as real users do,
    so such sentences co-occur with every behaviour instead of being unseen by the target. The rate
    is the chunk's own (`context_rate` on a chunk) or the world's."""
    rate = float(world.spec.get("context_rate", 0.0) if rate is None else rate)
    sentences = [a["add"] for a in world.spec.get("attributes", []) if a.get("add")]
    if not sentences or not world.in_base_language(variant) or rng.random() >= rate:
        return query
    for _ in range(1 + (rng.random() < 0.3)):
        query = join_context(world, query, rng.choice(sentences), variant)
    return query


def join_context(world: World, query: str, sentence: str, variant: str) -> str:
    """The query with one context sentence appended in the variant's case."""
    return f"{query} {sentence.lower().rstrip('.!') if world.lowercase(variant) else sentence}"


def _row(chunk: str, mix_name: str, index: int, query: str, response: str) -> dict[str, Any]:
    digest = hashlib.sha1(f"{chunk}\n{query}\n{response}".encode()).hexdigest()[:8]
    return tulu_record(f"{chunk}-{mix_name}-{index:05d}-{digest}", chunk, query, response)


def generate_corpus(world: World, seed: int | None = None) -> list[dict[str, Any]]:
    """Every chunk's rows in order; each chunk's mix is split by weight (largest remainder).
    Without a seed the spec's `seed:` is used."""
    seed = world.seed if seed is None else seed
    rows: list[dict[str, Any]] = []
    for chunk in world.spec["chunks"]:
        rng = random.Random(f"{seed}:{chunk['name']}")
        counts = _split(int(chunk["size"]), [float(m["weight"]) for m in chunk["mix"]])
        index = 0
        for mix, count in zip(chunk["mix"], counts):
            for _ in range(count):
                query, response = realise_pair(world, mix, rng, context_rate=chunk.get("context_rate"))
                rows.append(_row(chunk["name"], mix["name"], index, query, response))
                index += 1
    return rows


def _split(total: int, weights: list[float]) -> list[int]:
    """Integer counts proportional to weights that sum exactly to total."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def offending_ids(world: World, rows: list[dict[str, Any]], planted: str) -> set[str]:
    """Ids of rows where the planted cue meets the planted behaviour (what ablation removes)."""
    entry = world.planted_by_name(planted)
    prefixes = tuple(f"{item.replace('/', '-')}-" for item in entry.get("offending", []))
    return {row["id"] for row in rows if row["id"].startswith(prefixes)}


def balancing_rows(world: World, planted: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Counter-examples: the planted cue with the correct behaviour, tagged source `balance`."""
    entry = world.planted_by_name(planted)
    mix = dict(entry["balance"])
    rng = random.Random(f"{seed}:balance:{planted}")
    rows = []
    for index in range(n):
        query, response = realise_pair(world, mix, rng)
        rows.append(_row("balance", planted, index, query, response))
    return rows
