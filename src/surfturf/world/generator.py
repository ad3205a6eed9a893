"""The offline query generator: realises a set of attribute descriptors as one realistic query.

The world knows how it writes queries: cells (frame x variant x table), each realised by its
templates and records, plus the incidental context sentences a query may carry. The offline
extractor, fitted on the world corpus (as the TURF index build fits it), describes each
realisation once, so any descriptor an index pool can hold maps to the cells (and realisations)
that carry it; a literal phrase or word descriptor maps by containment, and the spec's own
`attributes:` entries map through their `sets`/`add`/`prefix`. Attributes compose by
intersecting their realisations, so that as many as compose are carried (ties at random); one that
conflicts with the others, or that no cell carries, is left out of the query.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.attributes.lexical import tokens
from surfturf.data.rows import tulu_pair
from surfturf.world.corpus import fill, generate_corpus, join_context, number_record
from surfturf.world.spec import World

MAX_ADDITIONS = 2  # a realistic message mentions a detail or two of context, not five
MAX_REALISATIONS = 400  # per cell: every template x record up to this many, else an even sample
NUMBER_DRAWS = 12  # records drawn per template for the generated `numbers` table
CONTEXT_BASES = 3  # base queries each context sentence is appended to when learning what it carries
NEAREST_AT = 0.5  # Jaccard of content words for a paraphrased descriptor to count as the same
LITERAL = re.compile(r"\b(?:contains the (?:phrase|word)|opens with the sentence|ends with the sentence) ['\"‘“](.+?)['\"’”]\.?$",
                     re.IGNORECASE)

# Descriptor scaffolding ("The query is written in ...", "mentions", "asks for"): words every
# attribute shares, so matching on them would realise "written in Tamil" as Swahili.
SCAFFOLD = frozenset({"the", "query", "a", "an", "or", "of", "is", "as", "such", "written", "in", "about", "asks",
                      "for", "mentions", "uses", "contains", "says", "user", "with", "and", "to", "it", "its", "that",
                      "by", "like", "be", "has", "on", "from", "someone", "something", "some", "e", "g"})


def pool_attributes(world: World) -> list[str]:
    """The texts of the spec's attribute pool."""
    return [entry["text"] for entry in world.spec.get("attributes", [])]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower())) - SCAFFOLD


def _clean(text: str) -> str:
    """An attribute as listed (numbering, bullets and spacing removed)."""
    return " ".join(text.strip().lstrip("-*0123456789. ").split())


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(len(a | b), 1)


def match_attribute(world: World, text: str) -> dict[str, Any] | None:
    """The spec pool entry for an attribute text: exact, else the best overlap of content words
    (Jaccard >= NEAREST_AT), else None."""
    entries = world.spec.get("attributes", [])
    clean = _clean(text).rstrip(".").lower()
    for entry in entries:
        if entry["text"].rstrip(".").lower() == clean:
            return entry
    words = _words(clean)
    scored = [(_jaccard(words, _words(e["text"])), i) for i, e in enumerate(entries)]
    best, index = max(scored, default=(0.0, -1))
    return entries[index] if best >= NEAREST_AT else None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Cell:
    """One way the world writes a query: a frame's templates in one variant, filled from one table."""

    frame: str
    variant: str
    table: str


@dataclass(frozen=True)
class Realisation:
    """One template of a cell filled with one record."""

    cell: Cell
    template: int
    record: tuple[tuple[str, str], ...]

    def slots(self) -> dict[str, str]:
        return dict(self.record)


@dataclass
class Carrier:
    """Where an attribute shows: the realisations (per cell) and context sentences that carry it, or a
    front sentence. `cells` maps a cell to its carrying realisations (None: any realisation)."""

    cells: dict[Cell, set[int] | None] = field(default_factory=dict)
    contexts: tuple[str, ...] = ()
    prefix: str | None = None


def frame_tables(world: World, frame: str) -> list[str]:
    """The tables the corpus fills a frame from: its own and every table a mix pairs with it."""
    home = world.spec["frames"][frame].get("table", "numbers")
    paired = [m.get("table", home) for c in world.spec["chunks"] for m in c["mix"] if m["frame"] == frame]
    return list(dict.fromkeys([home, *paired]))


def _template_text(template: Any) -> str:
    return str(template["q"] if isinstance(template, dict) else template)


class Realiser:
    """Attribute texts -> queries for one world, learned once from realisations of every cell."""

    def __init__(self, world: World, extractor: OfflineExtractor) -> None:
        self.world = world
        self.extractor = extractor
        self.cells: list[Cell] = [Cell(frame, variant, table) for frame, spec in world.spec["frames"].items()
                                  for variant in spec if variant != "table" for table in frame_tables(world, frame)]
        self.realisations: dict[Cell, list[Realisation]] = {cell: self._enumerate(cell) for cell in self.cells}
        self.texts: dict[Cell, list[str]] = {cell: [self.query_of(r) for r in rs] for cell, rs in self.realisations.items()}
        self.descriptors: dict[str, dict[Cell, set[int]]] = {}
        for cell, texts in self.texts.items():
            for index, text in enumerate(texts):
                for descriptor in extractor.query(text):
                    self.descriptors.setdefault(descriptor, {}).setdefault(cell, set()).add(index)
        self.sentences = [str(a["add"]) for a in world.spec.get("attributes", []) if a.get("add")]
        self.context_descriptors = self._learn_contexts()
        self.prior = self._corpus_prior()
        self._words = {d: _words(d) for d in [*self.descriptors, *self.context_descriptors]}
        self._spaced = {cell: [_spaced(t) for t in texts] for cell, texts in self.texts.items()}
        self._carriers: dict[str, Carrier | None] = {}

    def _enumerate(self, cell: Cell) -> list[Realisation]:
        """Every template x record of a cell (numbers: NUMBER_DRAWS draws), evenly thinned to MAX_REALISATIONS."""
        templates = self.world.spec["frames"][cell.frame][cell.variant]
        rng = random.Random(f"{self.world.name}|{cell}")
        if cell.table == "numbers":
            records = [number_record(rng) for _ in range(NUMBER_DRAWS)]
        else:
            records = [{k: str(v) for k, v in row.items()} for row in self.world.spec["tables"][cell.table]]
        pairs = [(t, r) for t in range(len(templates)) for r in range(len(records))]
        if len(pairs) > MAX_REALISATIONS:
            step = len(pairs) / MAX_REALISATIONS
            pairs = [pairs[int(i * step)] for i in range(MAX_REALISATIONS)]
        return [Realisation(cell, t, tuple(sorted(records[r].items()))) for t, r in pairs]

    def query_of(self, realisation: Realisation) -> str:
        """The realisation's query text in its variant's case."""
        template = self.world.spec["frames"][realisation.cell.frame][realisation.cell.variant][realisation.template]
        query = fill(_template_text(template), realisation.slots())
        return query.lower() if self.world.lowercase(realisation.cell.variant) else query

    def _base_cells(self) -> list[Cell]:
        """Cells written in the world's own language, the ones a context sentence can follow."""
        return [c for c in self.cells if self.world.in_base_language(c.variant) and self.texts[c]]

    def _learn_contexts(self) -> dict[str, set[str]]:
        """Descriptor -> context sentences that add it to a query (in most of CONTEXT_BASES base queries)."""
        bases = self._base_cells()
        out: dict[str, set[str]] = {}
        if not bases or not self.sentences:
            return out
        rng = random.Random(f"{self.world.name}|contexts")
        for sentence in self.sentences:
            counts: dict[str, int] = {}
            for cell in rng.sample(bases, min(CONTEXT_BASES, len(bases))):
                base = rng.choice(self.texts[cell])
                before = set(self.extractor.query(base))
                after = self.extractor.query(join_context(self.world, base, sentence, cell.variant))
                for descriptor in set(after) - before:
                    counts[descriptor] = counts.get(descriptor, 0) + 1
            for descriptor, count in counts.items():
                if count * 2 > min(CONTEXT_BASES, len(bases)):
                    out.setdefault(descriptor, set()).add(sentence)
        return out

    def _corpus_prior(self) -> dict[Cell, float]:
        """How often the corpus writes each cell (mix weights x chunk sizes): what an unconstrained query looks like.
        The spec's `default_frames` weights, when given, say instead which frames everyday queries use."""
        defaults = self.world.spec.get("default_frames")
        prior: dict[Cell, float] = {}
        if defaults:
            for cell in self.cells:
                if cell.variant == "plain" and cell.table == frame_tables(self.world, cell.frame)[0]:
                    prior[cell] = float(defaults.get(cell.frame, 0.0))
        else:
            for chunk in self.world.spec["chunks"]:
                total = sum(float(m["weight"]) for m in chunk["mix"]) or 1.0
                for mix in chunk["mix"]:
                    home = self.world.spec["frames"][mix["frame"]].get("table", "numbers")
                    cell = Cell(mix["frame"], mix.get("variant", "plain"), mix.get("table", home))
                    prior[cell] = prior.get(cell, 0.0) + float(chunk["size"]) * float(mix["weight"]) / total
        return {cell: weight for cell, weight in prior.items() if weight > 0 and self.texts.get(cell)}

    # -- attribute text -> carrier ------------------------------------------------------------

    def carrier(self, text: str) -> Carrier | None:
        """Where an attribute shows (resolved once per text): the spec entry's steer, a literal phrase by
        containment, the exact descriptor, else the nearest descriptor by content words; None when nothing
        carries it."""
        if text not in self._carriers:
            self._carriers[text] = self._resolve(text)
        return self._carriers[text]

    def _resolve(self, text: str) -> Carrier | None:
        entry = match_attribute(self.world, text)
        clean = _clean(text)
        if entry is not None and entry["text"].rstrip(".").lower() == clean.rstrip(".").lower():
            steered = self._from_entry(entry)
            if steered is not None:
                return steered
        literal = LITERAL.search(clean)
        if literal:
            return self._containing(literal.group(1))
        exact = self._from_descriptor(clean if clean.endswith(".") else clean + ".")
        if exact is not None:
            return exact
        words = _words(clean)
        scored = sorted(((_jaccard(words, w), d) for d, w in self._words.items()), key=lambda s: (-s[0], s[1]))
        if scored and scored[0][0] >= NEAREST_AT:
            if entry is None or scored[0][0] >= _jaccard(words, _words(entry["text"])):
                return self._from_descriptor(scored[0][1])
        return self._from_entry(entry) if entry is not None else None

    def _from_descriptor(self, descriptor: str) -> Carrier | None:
        cells = {cell: set(found) for cell, found in self.descriptors.get(descriptor, {}).items()}
        contexts = tuple(sorted(self.context_descriptors.get(descriptor, ())))
        return Carrier(cells=dict(cells), contexts=contexts) if cells or contexts else None

    def _containing(self, phrase: str) -> Carrier | None:
        """Realisations and context sentences whose words contain the phrase's words, in order."""
        needle = _spaced(phrase)
        if not needle.strip():
            return None
        cells = {cell: {i for i, text in enumerate(texts) if needle in text} for cell, texts in self._spaced.items()}
        contexts = tuple(s for s in self.sentences if needle in _spaced(s))
        carrier = Carrier(cells={c: found for c, found in cells.items() if found}, contexts=contexts)
        return carrier if carrier.cells or carrier.contexts else None

    def _from_entry(self, entry: dict[str, Any]) -> Carrier | None:
        """A spec attribute's `sets` (frames, variant, tables, record `where`), `add` and `prefix` as a carrier."""
        sets = entry.get("sets") or {}
        frames = set(_as_list(sets["frame"])) if sets.get("frame") else None
        variants = set(_as_list(sets["variant"])) if sets.get("variant") else None
        tables = set(_as_list(sets["table"])) if sets.get("table") else None
        where = sets.get("where") or {}
        cells: dict[Cell, set[int] | None] = {}
        if frames or variants or tables:
            matching = [c for c in self.cells if not ((frames and c.frame not in frames) or (
                variants and c.variant not in variants) or (tables and c.table not in tables))]
            meeting = {c: {i for i, r in enumerate(self.realisations[c]) if _meets(r.slots(), where)} for c in matching}
            kept: dict[Cell, set[int] | None] = {c: found for c, found in meeting.items() if found}
            cells = kept if where and kept else dict.fromkeys(matching)  # a filter no record meets is dropped
            if not cells:
                return None
        contexts = (str(entry["add"]),) if entry.get("add") else ()
        prefix = str(entry["prefix"]) if entry.get("prefix") else None
        return Carrier(cells=cells, contexts=contexts, prefix=prefix) if cells or contexts or prefix else None

    # -- composing ------------------------------------------------------------------------------

    def realise(self, attributes: list[str], seed: int = 0) -> str:
        """A query carrying as many of the attributes as compose, deterministic for (attributes, seed)."""
        rng = random.Random(f"{seed}|" + "|".join(attributes))
        carriers = [c for c in (self.carrier(a) for a in attributes) if c is not None]
        rng.shuffle(carriers)
        plans = [self._compose(carriers[i:] + carriers[:i]) for i in range(max(len(carriers), 1))]
        allowed, placed = max(plans, key=lambda plan: len(plan[1]))  # the most attributes; ties: the shuffle's first
        contexts = [rng.choice(c.contexts) for c, how in placed if how == "context"]
        prefixes = [str(c.prefix) for c, how in placed if how == "prefix"]
        cell, index = self._pick(allowed, rng)
        chosen = self.realisations[cell][index] if index is not None else self._fresh(cell, rng)
        query = self.query_of(chosen)
        for prefix in prefixes:
            query = f"{prefix} {query}"
        for sentence in dict.fromkeys(contexts):
            query = join_context(self.world, query, sentence, cell.variant)
        return query

    def _compose(self, carriers: list[Carrier]) -> tuple[dict[Cell, set[int] | None] | None, list[tuple[Carrier, str]]]:
        """Places the carriers in order: each narrows the realisations, or adds a context sentence or prefix to a
        query in the world's own language; one that conflicts with those already placed is left out."""
        allowed: dict[Cell, set[int] | None] | None = None  # None: every cell, any realisation
        placed: list[tuple[Carrier, str]] = []
        for carrier in carriers:
            if carrier.cells:
                joined = _intersect(allowed, carrier.cells) or self._blend(allowed, carrier.cells)
                if joined:
                    allowed = joined
                    placed.append((carrier, "cells"))
                    continue
            base = {c: v for c, v in (allowed or dict.fromkeys(self._base_cells())).items()
                    if self.world.in_base_language(c.variant)}
            if not base:
                continue
            if carrier.contexts and sum(how == "context" for _, how in placed) < MAX_ADDITIONS:
                placed.append((carrier, "context"))
            elif carrier.prefix:
                placed.append((carrier, "prefix"))
            else:
                continue
            allowed = base
        return allowed, placed

    def _blend(self, allowed: dict[Cell, set[int] | None] | None,
               cells: dict[Cell, set[int] | None]) -> dict[Cell, set[int] | None]:
        """When two attributes share no realisation and just one of them is a variant (a register, language or
        format, never `plain`): the other's frames and tables written in that variant, where the world has them."""
        if allowed is None:
            return {}
        variants = {c.variant for c in cells}, {c.variant for c in allowed}
        sides = [(v, o) for v, o in ((variants[0], allowed), (variants[1], cells)) if "plain" not in v]
        if len(sides) != 1:
            return {}
        styled, topics = sides[0][0], {(c.frame, c.table) for c in sides[0][1]}
        return {c: None for c in self.cells if c.variant in styled and (c.frame, c.table) in topics and self.texts[c]}

    def _pick(self, allowed: dict[Cell, set[int] | None] | None, rng: random.Random) -> tuple[Cell, int | None]:
        """A cell (weighted by how many of its realisations carry the attributes, or by the corpus prior
        when nothing constrains it) and one carrying realisation (None: any)."""
        if allowed is None:
            pool = self.prior or {c: 1.0 for c in self.cells if self.texts[c]}
            cells = sorted(pool, key=str)
            cell = rng.choices(cells, weights=[pool[c] for c in cells])[0]
            return cell, None
        cells = sorted((c for c in allowed if self.texts[c]), key=str)
        if all(allowed[c] is None for c in cells) and any(c in self.prior for c in cells):
            weights = [self.prior.get(c, 0.0) for c in cells]
        else:
            weights = [1.0 if allowed[c] is None else len(allowed[c] or ()) / len(self.texts[c]) for c in cells]
        cell = rng.choices(cells, weights=weights)[0]
        found = allowed[cell]
        return cell, (rng.choice(sorted(found)) if found else None)

    def _fresh(self, cell: Cell, rng: random.Random) -> Realisation:
        """Any template of the cell with a newly drawn record."""
        templates = self.world.spec["frames"][cell.frame][cell.variant]
        if cell.table == "numbers":
            record = number_record(rng)
        else:
            record = {k: str(v) for k, v in rng.choice(self.world.spec["tables"][cell.table]).items()}
        return Realisation(cell, rng.randrange(len(templates)), tuple(sorted(record.items())))


def _spaced(text: str) -> str:
    """The text's words, space-separated and padded, for whole-word phrase containment."""
    return f" {' '.join(tokens(text))} "


def _meets(slots: dict[str, str], where: dict[str, Any]) -> bool:
    return all(str(slots.get(k)) in map(str, _as_list(v)) for k, v in where.items())


def _intersect(allowed: dict[Cell, set[int] | None] | None,
               cells: dict[Cell, set[int] | None]) -> dict[Cell, set[int] | None]:
    """The cells (and realisations) both allow; None on a side means any realisation."""
    if allowed is None:
        return dict(cells)
    out: dict[Cell, set[int] | None] = {}
    for cell, found in cells.items():
        if cell not in allowed:
            continue
        mine = allowed[cell]
        joined = found if mine is None else mine if found is None else mine & found
        if joined is None or joined:
            out[cell] = joined
    return out


def realiser(world: World, corpus_seed: int | None = None) -> Realiser:
    """The world's realiser with the extractor fitted on its corpus for `corpus_seed` (the spec's seed when
    None), built once per world and seed."""
    seed = world.seed if corpus_seed is None else corpus_seed
    cache: dict[int, Realiser] = world.__dict__.setdefault("_realisers", {})
    if seed not in cache:
        rows = generate_corpus(world, seed)
        pairs = [tulu_pair(row) for row in rows]
        cache[seed] = Realiser(world, OfflineExtractor.fit(pairs))
    return cache[seed]


def realise_attributes(world: World, attributes: list[str], seed: int = 0, corpus_seed: int | None = None) -> str:
    """A query with every attribute that composes, deterministic for (attributes, seed)."""
    return realiser(world, corpus_seed).realise(attributes, seed)
