"""Offline stand-ins for every role, answering the tagged prompts of CONTRACTS.md by model name.

`WorldRoles.answer(model, messages, seed)` is what the world server calls: `target` is the
trained target; the others parse their tags and answer in the expected format.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import yaml

from surfturf.attributes import heuristic
from surfturf.errors import UserError
from surfturf.rubrics.loader import builtin_names, rubric_text
from surfturf.surf.prompts import closed_tag as tag
from surfturf.world.corpus import SLOT, fill, realise_pair
from surfturf.world.cue import realisation, realise
from surfturf.world.generator import realise_attributes
from surfturf.world.forms import first_form, judging
from surfturf.world.judge import judge
from surfturf.world.spec import World
from surfturf.world.target import WorldTarget
from surfturf.world.validate import BASE_VARIANT

ROLE_NAMES = ("target", "generator", "judge", "extractor", "crux", "summariser", "perturber")
# Words every attribute or rubric sentence shares; overlap on them says nothing about the behaviour.
SCAFFOLD = frozenset({"the", "response", "query", "user", "an", "is", "of", "or", "and", "to", "in", "with", "for", "it",
                      "its", "that", "as", "by", "be", "on", "not", "when", "only", "does", "did", "their", "they",
                      "this", "from", "has", "are", "was", "any", "some", "about", "asks", "answers", "answer",
                      "request", "example", "instead", "would", "than", "other"})
INCIDENTAL = re.compile(r"\b(length|short|long|words|written in|phrased as|numbered list|bulleted list)\b", re.IGNORECASE)
CRUX_SAMPLES = 3  # realised pairs per mix when learning which attributes a rubric's forms carry
CRUX_RECALL = 0.25  # an attribute carried by fewer of the form-showing responses describes a few of them, not the behaviour
CRUX_PRECISION = 0.6  # ... and one whose carriers mostly show no form describes something else
FILLERS = ("Quick question: ", "I was wondering: ", "Hi! ", "Hello, ", "Hey, ", "")
ENDINGS = ("", " Thanks!", " Thank you.", " Any help is appreciated.")
SYNONYMS = (("Can you", "Could you"), ("Tell me about", "Talk me through"), ("Give me", "Provide"),
            ("I need", "I'd like"), ("Show me", "Please show me"), ("Help me understand", "Help me make sense of"),
            ("How do I", "What's the way to"), ("Write a", "Please write a"))


def last_user(messages: list[dict[str, str]]) -> str:
    return next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")


def listed(block: str) -> list[str]:
    """Items of a `- item` or `1. item` list."""
    items = []
    for line in block.splitlines():
        match = re.match(r"\s*(?:[-*•]|\d+[.)])\s+(.*\S)", line)
        if match:
            items.append(match.group(1).strip())
    return items


def _stems(text: str) -> set[str]:
    """Content-word prefixes, so refuses meets refusal and program meets programming."""
    return {w[:5] for w in re.findall(r"[a-z]+", text.lower()) if w not in SCAFFOLD and len(w) > 2}


def behaviour_text(rubric: str) -> str:
    """A rubric's title, behaviour and violation lines, from its YAML text or its built-in name."""
    text = rubric_text(rubric.strip()) if rubric.strip() in builtin_names() else rubric
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(data, dict):
        return text
    return " ".join([str(data.get("title", "")), str(data.get("behaviour", ""))] + [str(v) for v in data.get("violation") or []])


def _named(rubric: str, attributes: list[str]) -> list[int]:
    """0-based indices of the attributes sharing the most content words with the rubric's behaviour and
    violation lines (more than half the best overlap), best first."""
    wanted = _stems(behaviour_text(rubric))
    overlap = [len(_stems(a) & wanted) for a in attributes]
    best = max(overlap, default=0)
    return sorted((i for i, n in enumerate(overlap) if n > 0 and 2 * n > best), key=lambda i: -overlap[i])


def crux(rubric: str, attributes: list[str]) -> list[int]:
    """1-based numbers of up to 3 attributes most tied to the rubric's behaviour (`rubric`: its YAML
    text or built-in name): those sharing the most content words with it (see `_named`); failing that,
    specific ones (not length or form); failing that, the first."""
    named = _named(rubric, attributes)
    specific = [i for i, a in enumerate(attributes) if i not in named and not INCIDENTAL.search(a)]
    picks = named[:3] if named else specific[:3]
    return [i + 1 for i in picks or [0]]


def _attribute_key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def form_attributes(world: World, rubric: str, describe: Callable[[str], list[str]]) -> dict[str, float]:
    """For each response attribute that many of the world's responses showing a form of the rubric carry
    (at least CRUX_RECALL of them, where the rubric applies), the share of the responses carrying it that
    show a form: what the spec's forms look like to the extractor, from a few realised pairs of every mix.
    Computed once per world and rubric."""
    cache: dict[str, dict[str, float]] = world.__dict__.setdefault("_form_attributes", {})
    if rubric in cache:
        return cache[rubric]
    spec = judging(world, rubric)
    counts: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
    shown_total = 0
    rng = random.Random(f"crux|{rubric}")
    for chunk in world.spec["chunks"]:
        for mix in chunk["mix"]:
            for _ in range(CRUX_SAMPLES):
                query, response = realise_pair(world, mix, rng, context_rate=0.0)
                found = realise(world, query)
                measured = spec.applies is None or spec.applies.holds(found)
                shown = measured and first_form(spec.forms, response, found.record if found else None) is not None
                counts[shown].update({_attribute_key(a) for a in describe(response)})
                shown_total += shown
    cache[rubric] = {a: n / (n + counts[False][a]) for a, n in counts[True].items() if n >= CRUX_RECALL * shown_total}
    return cache[rubric]


def world_crux(world: World, rubric: str, attributes: list[str], describe: Callable[[str], list[str]]) -> list[int]:
    """Up to 3 of the failing response's attributes: those the spec's forms of the rubric carry (most
    distinctive first); failing those, the ones sharing content words with the rubric (`_named`); `crux`
    when neither.

    The rubric's words stand in only where the measurement finds nothing: a word shared with the rubric
    says nothing of how widely an attribute is held, and one held across the corpus ("mentions a named
    organisation", "contains the phrase 'was created by'") retrieves examples of other behaviours."""
    weights = form_attributes(world, rubric, describe)
    carried = sorted((i for i, a in enumerate(attributes) if weights.get(_attribute_key(a), 0.0) >= CRUX_PRECISION),
                     key=lambda i: -weights[_attribute_key(attributes[i])])
    picks = carried or _named(rubric, attributes)
    return [i + 1 for i in picks[:3]] or crux(rubric, attributes)


def central(attributes: list[str]) -> str:
    """The attribute sharing the most words with the others (the first on ties)."""
    sets = [set(re.findall(r"\w+", a.lower())) for a in attributes]

    def overlap(i: int) -> float:
        return sum(len(sets[i] & s) / max(len(sets[i] | s), 1) for j, s in enumerate(sets) if j != i)

    return attributes[max(range(len(attributes)), key=lambda i: (overlap(i), -i))]


def perturb(world: World, query: str, instruction: str | None, seed: int) -> str:
    """A paraphrase keeping substance and cues, seeded by (seed, query, instruction); an instruction
    naming a language, variant or frame of the spec is applied instead."""
    if instruction:
        applied = _instructed(world, query, instruction)
        if applied is not None:
            return applied
    rng = random.Random(f"{seed}|{query}|{instruction}")
    if heuristic.is_casual(query):
        return (rng.choice(("", "hi ", "ok so ", "quick one ")) + query + rng.choice((" pls", " thx", "??", " lol"))).strip()
    if heuristic.detect_language(query) != "English":
        return query.rstrip() + rng.choice(("", " ", " :)")) if rng.random() < 0.5 else rng.choice(("", "  ")) + query
    out = query
    for old, new in rng.sample(SYNONYMS, len(SYNONYMS)):
        if old in out:
            out = out.replace(old, new, 1)
            break
    if rng.random() < 0.4 and out[:1].isupper() and not out.startswith("I "):
        out = out[:1].lower() + out[1:]
    out = (rng.choice(FILLERS) + out + rng.choice(ENDINGS)).strip()
    out = out[:1].upper() + out[1:]
    return out if out != query else out + " Thanks!"


def _instructed(world: World, query: str, instruction: str) -> str | None:
    """The query transformed as the instruction asks: translated into a language, or re-realised in a
    variant or frame the instruction names (all read from the spec); None asks for a plain paraphrase."""
    low = instruction.lower()
    translate = re.search(r"translate the query into ([^\W\d_]+)", low)
    if translate:
        return translate_query(world, query, translate.group(1))
    restyled = _in_named_variant(world, query, low)
    if restyled is not None:
        return restyled
    return _in_named_frame(world, query, low)


def _rerealise(world: World, query: str, variant: str, frame: str | None = None) -> str | None:
    """The query's record realised in another variant (and frame) at the same template position, or None
    when that frame has no such variant or the record does not fill its template."""
    found = realisation(world, query)
    if found is None:
        return None
    frame = frame or found[0]
    if variant not in world.spec["frames"][frame]:
        return None
    _, _, index, record = found
    templates = world.spec["frames"][frame][variant]
    template = templates[min(index, len(templates) - 1)]
    text = fill(str(template["q"] if isinstance(template, dict) else template), record)
    return None if SLOT.search(text) else text


def translate_query(world: World, query: str, language: str) -> str:
    """The query in `language`, from the spec's variants declared with that `language:`; a language the
    world has no variant for is a clear error, not the query back unchanged."""
    variants = {str(props["language"]).lower(): name for name, props in (world.spec.get("variants") or {}).items()
                if "language" in props}
    if language.lower() not in variants:
        known = ", ".join(sorted(str(p["language"]) for p in (world.spec.get("variants") or {}).values() if "language" in p))
        raise UserError(f"world {world.name} cannot translate into {language.title()}",
                        f"translate into one of: {known or 'none'}, or add a variant with language: {language.title()}")
    return _rerealise(world, query, variants[language.lower()]) or query


def _names(words: list[str], name: str) -> bool:
    """Whether the instruction's words name `name` (a word equal to it, or for longer names one starting with it)."""
    return any(word == name or (len(name) > 3 and word.startswith(name)) for word in words)


def _in_named_variant(world: World, query: str, instruction: str) -> str | None:
    """The query in the variant the instruction names, by the variant's name (e.g. a register) or by
    its declared `language:`, when the query's frame has that variant."""
    words = re.findall(r"[a-z]+", instruction)
    declared = world.spec.get("variants") or {}
    variants = sorted({v for frame in world.spec["frames"].values() for v in frame if v not in ("table", BASE_VARIANT)})
    for variant in variants:
        language = str((declared.get(variant) or {}).get("language", "")).lower()
        if _names(words, variant) or (language and language in words):
            restyled = _rerealise(world, query, variant)
            if restyled is not None:
                return restyled
    return None


def _in_named_frame(world: World, query: str, instruction: str) -> str | None:
    """The query's record in another frame the instruction names: every part of its name that the
    query's own frame lacks (a query of `math_plain` moves to `math_latex` on "use LaTeX"), when the
    record fills that frame's template."""
    found = realisation(world, query)
    if found is None:
        return None
    words = re.findall(r"[a-z]+", instruction)
    own = set(re.findall(r"[a-z]+", found[0]))
    for frame in world.spec["frames"]:
        parts = set(re.findall(r"[a-z]+", frame)) - own
        if frame != found[0] and parts and all(_names(words, part) for part in parts):
            moved = _rerealise(world, query, found[1] if found[1] in world.spec["frames"][frame] else BASE_VARIANT, frame)
            if moved is not None:
                return moved
    return None


def balancing_pair(world: World, attributes: list[str], seed: int) -> tuple[str, str]:
    """A counter-example for the balancing prompt: the planted cue the attributes name, answered
    correctly (the planted entry's `balance` mix); else an ordinary pair from the largest chunk."""
    rng = random.Random(f"{seed}|balance|" + "|".join(attributes))
    for entry in world.planted:
        if entry.get("balance") and any(re.search(p, a, re.IGNORECASE) for p in entry["trigger_patterns"] for a in attributes):
            return realise_pair(world, dict(entry["balance"]), rng)
    chunk = max(world.spec["chunks"], key=lambda c: int(c["size"]))
    return realise_pair(world, rng.choices(chunk["mix"], weights=[float(m["weight"]) for m in chunk["mix"]])[0], rng)


@dataclass
class WorldRoles:
    """Routes a chat request to the role its model name names.

    Without a request seed, the n-th identical request gets seed hash(seed, model, messages, n):
    repeated samples differ (robustness rates) and a whole run is reproducible from `seed`.
    """

    world: World
    target: WorldTarget
    seed: int = 0
    _asked: dict[str, int] = field(default_factory=dict)
    # Differential SURF: a second trained target answering as model `baseline` (else the target answers).
    baseline: WorldTarget | None = None

    def request_seed(self, model: str, messages: list[dict[str, str]]) -> int:
        key = hashlib.sha256(json.dumps([self.seed, model, messages], sort_keys=True).encode()).hexdigest()
        count = self._asked.get(key, 0)
        self._asked[key] = count + 1
        return int(key[:12], 16) + count

    def answer(self, model: str, messages: list[dict[str, str]], seed: int | None = None) -> str:
        role = model.split("/")[-1]
        if seed is None:
            seed = self.request_seed(role, messages)
        handler: Callable[[str, int], str] | None = {
            "generator": self._generator, "judge": self._judge, "extractor": self._extractor, "crux": self._crux,
            "summariser": self._summariser, "summarizer": self._summariser, "perturber": self._perturber,
        }.get(role)
        if role == "baseline" and self.baseline is not None:  # differential SURF's second checkpoint
            return self.baseline.respond(messages, seed)
        if handler is None:
            return self.target.respond(messages, seed)
        return handler(last_user(messages), seed)

    def _generator(self, prompt: str, seed: int) -> str:
        attributes = listed(tag(prompt, "attributes") or prompt)
        if tag(prompt, "behaviour") is not None:
            query, response = balancing_pair(self.world, attributes, seed)
            return f"<query>{query}</query>\n<response>{response}</response>"
        return f"<query>{realise_attributes(self.world, attributes, seed, corpus_seed=self.seed)}</query>"

    def _judge(self, prompt: str, seed: int) -> str:
        name = re.search(r'<rubric\s+name="([^"]+)"', prompt)
        score, reason = judge(self.world, name.group(1) if name else "", tag(prompt, "query") or "", tag(prompt, "response") or "")
        return f"<reason>{reason}</reason>\n<score>{score}</score>"

    @cached_property
    def offline(self) -> heuristic.OfflineExtractor:
        """The offline extractor fitted on the world corpus (the target's training pairs), once."""
        return heuristic.OfflineExtractor.fit(list(zip(self.target.queries, self.target.responses)))

    def _extractor(self, prompt: str, seed: int) -> str:
        # the tagged text itself: the instructions mention a bare "<text>" tag before it
        found = re.findall(r'<text\s+kind="(\w+)"\s*>\n?(.*?)\n?</text\s*>', prompt, re.DOTALL)
        kind, text = found[-1] if found else ("query", prompt)
        lines = self.offline.response(text) if kind == "response" else self.offline.query(text)
        return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))

    def _crux(self, prompt: str, seed: int) -> str:
        name = re.search(r'<rubric\s+name="([^"]+)"', prompt)
        attributes = listed(tag(prompt, "attributes") or "")
        rubric = tag(prompt, "rubric") or (name.group(1) if name else "")
        if not attributes:
            picks = [1, 2, 3]
        elif name and judging(self.world, name.group(1)).forms:
            picks = world_crux(self.world, name.group(1), attributes, self._describe)
        else:
            picks = crux(rubric, attributes)
        return f"<crux>{', '.join(map(str, picks))}</crux>"

    def _describe(self, response: str) -> list[str]:
        """The response's attributes as this world's extractor role gives them."""
        return listed(self._extractor(f'<text kind="response">{response}</text>', 0))

    def _summariser(self, prompt: str, seed: int) -> str:
        attributes = listed(tag(prompt, "attributes") or prompt)
        return f"<summary>{central(attributes) if attributes else 'The query has no listed attributes.'}</summary>"

    def _perturber(self, prompt: str, seed: int) -> str:
        query = tag(prompt, "query") or prompt
        return f"<query>{perturb(self.world, query, tag(prompt, 'instruction'), seed)}</query>"
