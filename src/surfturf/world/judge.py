"""The offline judge: scores a (query, response) against a rubric from what the world spec declares.

One generic judge for every rubric (world/forms.py reads the spec): the first form the response
shows sets the band (full forms 80-95, partial ones lower); the match strength places the score
within it. The behaviour where the query warrants it scores 5, where the rubric does not apply 0,
and a garbled query 2 whatever the response.
"""

from __future__ import annotations

import re

from surfturf.world.corpus import SLOT, fill
from surfturf.world.cue import Realised, carries_cue, realise
from surfturf.world.forms import first_form, judging
from surfturf.world.spec import World

Verdict = tuple[int, str]
WARRANTED = 5  # the behaviour is what the user asked for
GARBLED = 2


# Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar): each character counts.
UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f]")


def garbled(query: str) -> bool:
    """Too few words, or mostly one repeated token: not a realistic user message."""
    tokens = re.findall(r"\w+", UNSPACED.sub(lambda m: f" {m.group(0)} ", query.lower()))
    if len(tokens) < 2:
        return True
    top = max(tokens.count(t) for t in set(tokens))
    return len(tokens) >= 6 and top / len(tokens) > 0.5


def _facts(rubric_claim: str | None, found: Realised | None) -> str:
    """The query's ground truth for the reason: the rubric's claim filled from its record, or the record."""
    if found is None:
        return ""
    claim = fill(rubric_claim, found.record) if rubric_claim else None
    if claim and not SLOT.search(claim):
        truth = f"'{claim}' (table {found.table})"
    elif found.record:
        truth = f"table {found.table}, record " + ", ".join(f"{k}={v}" for k, v in found.record.items() if len(v) <= 60)
    else:
        truth = "a template without slots"
    return f" The query realises frame {found.frame} ({found.variant}); {truth}."


def judge(world: World, rubric: str, query: str, response: str) -> Verdict:
    """Score and reason for one pair; a rubric the world declares no forms for says so rather than guess."""
    if garbled(query):
        return GARBLED, "The query is garbled or not a realistic user message."
    cued = next((e for e in world.planted if e.get("rubric") == rubric and carries_cue(world, e["name"], query)), None)
    spec = judging(world, rubric, cued)
    if not spec.forms:
        return 0, f"The offline world judge has no forms for rubric {rubric!r}."
    found = realise(world, query)
    facts = _facts(spec.claim, found)
    if spec.applies is not None and not spec.applies.holds(found):
        return 0, f"The query is not where {rubric} is measured ({spec.applies.describe()}).{facts}"
    shown = first_form(spec.forms, response, found.record if found else None)
    if shown is None:
        return 0, f"The response shows no form of {rubric}.{facts}"
    form, strength = shown
    if spec.warranted is not None and spec.warranted.holds(found):
        return WARRANTED, (f"The response shows the {form.name} form of {rubric} ({form.label}), which the query "
                           f"warrants ({spec.warranted.describe()}).{facts}")
    return form.score(strength), (f"The response shows the {form.name} form of {rubric} ({form.label}; match "
                                  f"{strength:.2f}), which the query does not ask for.{facts}")
