"""A finding counts for a planted behaviour only when its query carries that behaviour's cue."""

from __future__ import annotations

from surfturf.world.cue import carries_cue
from surfturf.world.probe import probe_queries


def test_cue_probes_carry_their_cue_and_controls_do_not(world):
    for entry in world.planted:
        cue = probe_queries(world, entry["name"], "cue", 30, seed=5)
        control = probe_queries(world, entry["name"], "control", 30, seed=5)
        assert cue and control
        assert all(carries_cue(world, entry["name"], q) for q in cue), entry["name"]
        assert not any(carries_cue(world, entry["name"], q) for q in control), entry["name"]


def test_the_cue_is_found_inside_context_and_across_case(world):
    for entry in world.planted:
        query = probe_queries(world, entry["name"], "cue", 1, seed=2)[0]
        assert carries_cue(world, entry["name"], f"Some context first. {query.upper()} Thanks a lot!")
        others = [e["name"] for e in world.planted if e["name"] != entry["name"]]
        assert not all(carries_cue(world, other, query) for other in others)


def test_a_query_is_parsed_back_to_its_frame_and_record(world):
    from surfturf.world.cue import realisation

    frame, variant, index, record = realisation(world, "Eleza dhana ya amani.")
    assert (frame, variant, index) == ("explain", "sw", 0) and record["concept"] == "peace"
    assert realisation(world, "Something no frame of this world says.") is None


def test_translation_uses_the_specs_language_variants_or_fails_clearly(world):
    import pytest

    from surfturf.errors import UserError
    from surfturf.world.roles import perturb

    assert perturb(world, "Explain democracy.", "Translate the query into French.", 0) == "Expliquez-moi la démocratie."
    assert perturb(world, "Tell me about gravity.", "Rewrite the query in a formal register.", 0) != "Tell me about gravity."
    with pytest.raises(UserError, match="cannot translate into Malay") as caught:
        perturb(world, "Explain democracy.", "Translate the query into Malay.", 0)
    assert "Swahili" in caught.value.line()


def test_a_request_for_explanation_is_the_specs_declared_warrant_not_a_phrase_list(world):
    import copy

    from surfturf.world.judge import judge
    from surfturf.world.spec import World

    assert judge(world, "terse", "Please be thorough.", "Ndiyo.")[0] == 0
    assert judge(world, "terse", "Eleza dhana ya amani. Thank you in advance.", "Ndiyo.")[0] >= 80
    spec = copy.deepcopy(world.spec)
    spec["rubrics"]["terse"]["applies"] = {"frame": ["simple_fact"]}
    other = World(spec=spec, path="test")
    assert judge(other, "terse", "Eleza dhana ya amani.", "Ndiyo.")[0] == 0
    assert judge(other, "terse", "What is the capital of Japan?", "Ndiyo.")[0] >= 80
