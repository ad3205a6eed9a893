"""How a rubric's behaviour shows in a response and when a query warrants it, read from the world spec.

A rubric's `forms` (and those of the planted entries that use it) are checked in order, first match
wins: a `styles:` form matches a response realised from one of those style templates (slots as
bounded wildcards, so the values the target substituted, case and spacing do not matter), a
`pattern:` form a regex over the response, a `max_words:` form a length bound. `applies` and
`warranted` are realisation conditions (frames, variants, tables) on the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from surfturf.world.corpus import SLOT
from surfturf.world.cue import Realised
from surfturf.world.spec import World
from surfturf.world.validate import CONDITION_KEYS

SLOT_SLACK = 40  # characters a substituted slot value may exceed the longest value the spec gives it
EXTRA_SLOT = 400  # bound for slots the spec gives no table values (frame-template extras such as {op})
MIN_LITERAL_WORDS = 2  # a style template with fewer literal words is not recognisable (e.g. "{answer}!")
WORDS = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Condition:
    """A realisation condition: the query realises one of the frames, variants and tables listed
    (each key that is listed must match)."""

    frames: frozenset[str]
    variants: frozenset[str]
    tables: frozenset[str]

    @classmethod
    def read(cls, declared: dict[str, Any] | None) -> Condition | None:
        if not declared:
            return None
        return cls(*(frozenset(_as_list(declared.get(key))) for key in CONDITION_KEYS))

    def holds(self, found: Realised | None) -> bool:
        if found is None:
            return False
        return ((not self.frames or found.frame in self.frames) and (not self.variants or found.variant in self.variants)
                and (not self.tables or found.table in self.tables))

    def describe(self) -> str:
        parts = [f"{key} {', '.join(sorted(values))}" for key, values in zip(CONDITION_KEYS, (self.frames, self.variants, self.tables))
                 if values]
        return "; ".join(parts) or "any realisation"


@dataclass(frozen=True)
class Form:
    """One form of a behaviour with its score band; `strength` (0..1) places a match within the band.

    With `mismatch` slots, a style realisation counts only where it gives one of those slots a value
    other than the query's record does (an answer naming the wrong maker, say)."""

    name: str
    band: tuple[int, int]
    label: str
    regexes: tuple[re.Pattern[str], ...] = ()
    slots: tuple[tuple[str, ...], ...] = ()
    max_words: int | None = None
    mismatch: frozenset[str] = frozenset()

    def strength(self, response: str, record: dict[str, str] | None = None) -> float | None:
        """How strongly the response shows this form (None: not at all). Styles and patterns: the share
        of the response the matches cover; a length bound: how far under the bound the response is."""
        text = response.strip()
        if self.max_words is not None:
            n = len(text.split())
            return 1.0 - n / (self.max_words + 1) if n <= self.max_words else None
        best: float | None = None
        for index, regex in enumerate(self.regexes):
            names = self.slots[index] if self.slots else ()
            covered = sum(len(m.group(0)) for m in regex.finditer(text) if self._differs(names, m, record))
            if covered:
                best = max(best or 0.0, min(1.0, covered / max(len(text), 1)))
        return best

    def _differs(self, names: tuple[str, ...], match: re.Match[str], record: dict[str, str] | None) -> bool:
        if not self.mismatch:
            return True
        if record is None:
            return False
        values = zip(names, match.groups())
        return any(name in self.mismatch and name in record and _plain(value) != _plain(record[name])
                   for name, value in values)

    def score(self, strength: float) -> int:
        low, high = self.band
        return low + round((high - low) * strength)


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


@dataclass(frozen=True)
class Judging:
    """What the judge reads for one rubric (planted entries' forms first) and one planted entry's overrides."""

    rubric: str
    forms: tuple[Form, ...]
    applies: Condition | None
    warranted: Condition | None
    claim: str | None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _slot_bounds(world: World) -> dict[str, int]:
    """The longest value each slot takes in any table, plus slack."""
    bounds: dict[str, int] = {}
    for rows in world.spec["tables"].values():
        for row in rows:
            for key, value in row.items():
                bounds[key] = max(bounds.get(key, 0), len(str(value)) + SLOT_SLACK)
    return bounds


def style_regex(template: str, bounds: dict[str, int]) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """A style template as a case-insensitive regex, each {slot} a bounded wildcard (one group per slot,
    named in order) and any run of spaces loose; None when the template has too little literal text to
    be recognised."""
    literal = SLOT.sub(" ", template)
    if len(WORDS.findall(literal)) < MIN_LITERAL_WORDS:
        return None
    parts: list[str] = []
    names: list[str] = []
    last = 0
    slots = list(SLOT.finditer(template))
    for match in slots:
        parts.append(_loose(template[last:match.start()]))
        name = match.group(1)[0].lower() + match.group(1)[1:]
        trailing = match is slots[-1] and not template[match.end():].strip(".!? ")
        # a trailing slot is greedy, so the match covers the value and not just its first character
        parts.append(rf"([\s\S]{{1,{bounds.get(name, EXTRA_SLOT)}}}" + (")" if trailing else "?)"))
        names.append(name)
        last = match.end()
    parts.append(_loose(template[last:].rstrip(".!? ")) + r"[.!?]?")
    return re.compile("".join(parts), re.IGNORECASE), tuple(names)


def _loose(text: str) -> str:
    return r"\s+".join(re.escape(chunk) for chunk in re.split(r"\s+", text)) if text.strip() else (r"\s*" if text else "")


def read_form(world: World, declared: dict[str, Any]) -> Form:
    """One declared form (already validated) compiled against the world's styles."""
    band = (int(declared["band"][0]), int(declared["band"][1]))
    name = str(declared["form"])
    if "styles" in declared:
        bounds = _slot_bounds(world)
        styles = _as_list(declared["styles"])
        templates = [str(t) for style in styles for t in world.spec["styles"][style]]
        compiled = [r for r in (style_regex(t, bounds) for t in templates) if r is not None]
        mismatch = frozenset(_as_list(declared.get("mismatch")))
        label = f"realised from style {', '.join(styles)}" + (f" with another {', '.join(sorted(mismatch))} than the query's" if mismatch else "")
        return Form(name, band, label, tuple(r for r, _ in compiled), tuple(n for _, n in compiled), mismatch=mismatch)
    if "pattern" in declared:
        return Form(name, band, f"matches {declared['pattern']!r}", (re.compile(str(declared["pattern"])),))
    return Form(name, band, f"at most {int(declared['max_words'])} words", max_words=int(declared["max_words"]))


def judging(world: World, rubric: str, entry: dict[str, Any] | None = None) -> Judging:
    """The forms and conditions for a rubric: every planted entry's forms for it (`entry`'s first),
    then the rubric's own; `entry`'s applies/warranted override the rubric's. Compiled once per world."""
    cache: dict[tuple[str, str | None], Judging] = world.__dict__.setdefault("_judging", {})
    key = (rubric, entry["name"] if entry else None)
    if key in cache:
        return cache[key]
    declared = (world.spec.get("rubrics") or {}).get(rubric) or {}
    entries = [e for e in world.planted if e.get("rubric") == rubric]
    if entry is not None:
        entries = [entry] + [e for e in entries if e["name"] != entry["name"]]
    forms = [read_form(world, f) for e in entries for f in e.get("forms") or []]
    forms += [read_form(world, f) for f in declared.get("forms") or []]
    override = entry or {}
    cache[key] = Judging(
        rubric=rubric, forms=tuple(forms),
        applies=Condition.read(override.get("applies", declared.get("applies"))),
        warranted=Condition.read(override.get("warranted", declared.get("warranted"))),
        claim=declared.get("claim"),
    )
    return cache[key]


def first_form(forms: tuple[Form, ...], response: str, record: dict[str, str] | None = None) -> tuple[Form, float] | None:
    """The first form the response shows (for the query's `record`), with its strength."""
    for form in forms:
        strength = form.strength(response, record)
        if strength is not None:
            return form, strength
    return None
