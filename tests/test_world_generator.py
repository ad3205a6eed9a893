"""The data-driven realiser: any descriptor the offline extractor gives a world's queries (what an
index pool holds) is realised into a query that carries it; literal phrases by containment; the
spec's own attributes still steer; attributes intersect; one nothing carries is left out."""

from __future__ import annotations

import pytest

from surfturf.world import load_world
from surfturf.world.cue import carries_cue, realisation
from surfturf.attributes.lexical import tokens
from surfturf.world.generator import LITERAL, realise_attributes, realiser
from surfturf.world.spec import shipped_worlds


@pytest.fixture(scope="module")
def default_realiser(world):
    return realiser(world, 0)


def carried(built, descriptor: str, query: str) -> bool:
    """The extractor describes the query so, or (a literal phrase: it lists only a few) the query contains it."""
    literal = LITERAL.search(descriptor)
    if literal:
        return f" {' '.join(tokens(literal.group(1)))} " in f" {' '.join(tokens(query))} "
    return descriptor in built.extractor.query(query)


def test_every_learned_descriptor_is_realised_into_a_query_carrying_it(default_realiser):
    """The realiser picks a cell whose realisations carry the descriptor; a detector that fires on
    only some of a cell's templates (a short Spanish query read as unknown) misses now and then."""
    descriptors = sorted(default_realiser.descriptors)
    assert len(descriptors) > 100
    tries = [(d, carried(default_realiser, d, default_realiser.realise([d], seed))) for d in descriptors for seed in range(3)]
    assert sum(ok for _, ok in tries) >= 0.95 * len(tries), [d for d, ok in tries if not ok][:10]
    assert all(any(ok for d, ok in tries if d == descriptor) for descriptor in descriptors)


def test_literal_phrases_are_realised_by_containment(world):
    for seed in range(5):
        assert "zephyr x9" in realise_attributes(world, ["The query contains the word 'zephyr'."], seed).lower()
        when = realise_attributes(world, ["The query contains the phrase 'when did'."], seed)
        assert when.lower().startswith("when did")
    assert realise_attributes(world, ["The query contains the word 'coffee'."], 1).endswith("coffee.")


def test_attributes_intersect_and_conflicts_keep_the_most_that_compose(world):
    both = realise_attributes(world, ["The query skips capital letters, a casual lowercase chat style.",
                                      "The query mentions a deadline."], seed=2)
    assert both == both.lower() and both.endswith("i need this by tomorrow")
    kinds = set()
    for seed in range(12):
        query = realise_attributes(world, ["The query is phrased as a question.",
                                           "The query is a question of the form 'When did ... invent ...'.",
                                           "The query contains LaTeX math notation."], seed)
        assert query.endswith("?") and (query.startswith("When did") or "$" in query)  # two of three compose
        kinds.add(query.startswith("When did"))
    assert kinds == {True, False}  # either conflicting one, at random


def test_spec_attributes_still_steer_and_unknown_ones_are_left_out(world):
    assert realisation(world, realise_attributes(world, ["The query is written in Swahili."], seed=3))[1] == "sw"
    assert realise_attributes(world, ["The query mentions a deadline."], seed=6).endswith("I need this by tomorrow.")
    tamil = realise_attributes(world, ["The query is written in Tamil."], seed=3)
    assert tamil.strip() and realisation(world, tamil) is not None  # an ordinary query, not a failure
    attrs = ["The query mentions the user's job.", "The query contains LaTeX math notation."]
    assert realise_attributes(world, attrs, seed=7) == realise_attributes(world, attrs, seed=7)


@pytest.mark.parametrize("name", sorted(shipped_worlds()))
def test_each_planted_cue_has_a_pool_descriptor_that_realises_it(name):
    """For every shipped world: the extractor describes each planted cue probe's queries with some
    descriptor that, realised alone, yields cue-carrying queries often (a descriptor may also fit the
    cue's register or language in other frames; SURF's search narrows it, and recall is measured in
    bench/worlds.py)."""
    world = load_world(name)
    built = realiser(world)
    for entry in world.planted:
        cue = entry["probe"]["cue"]
        cells = [c for c in built.cells if c.frame == cue["frame"] and c.variant == cue.get("variant", "plain")
                 and c.table == cue.get("table", c.table)]
        described = {d for c in cells for t in built.texts[c] for d in built.extractor.query(t)}
        rates = {d: sum(carries_cue(world, entry["name"], built.realise([d], s)) for s in range(16)) / 16
                 for d in sorted(described)}
        assert max(rates.values()) >= 0.3, (entry["name"], sorted(rates.items(), key=lambda r: -r[1])[:3])
