"""The world spec and its corpus: deterministic Tulu rows, chunks as declared, ground-truth helpers."""

from __future__ import annotations

import re

import pytest

from surfturf.errors import UserError
from surfturf.world import balancing_rows, generate_corpus, load_world, offending_ids
from surfturf.world.cue import realise


@pytest.fixture(scope="module")
def rows(world):
    return generate_corpus(world, seed=0)


def test_corpus_is_deterministic_from_its_seed(world, rows):
    assert generate_corpus(world, seed=0) == rows
    assert generate_corpus(world, seed=1) != rows


def test_rows_are_tulu_shaped_with_chunk_sources(world, rows):
    sizes = {chunk["name"]: int(chunk["size"]) for chunk in world.spec["chunks"]}
    assert len(rows) == sum(sizes.values()) > 3000
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows[:50] + rows[-50:]:
        assert set(row) == {"id", "source", "messages"}
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        for message in row["messages"]:
            assert message["content"].strip() and not re.search(r"\{[A-Za-z_]+\}", message["content"])
    counted = {name: sum(1 for row in rows if row["source"] == name) for name in sizes}
    assert counted == sizes


def test_planted_cue_is_a_correlation_not_a_rule(world, rows):
    """'When did X invent Y?' is concentrated in the rebuttal chunk, yet true cases exist elsewhere."""
    when = [row for row in rows if row["messages"][0]["content"].startswith("When did")]
    rebuttal_share = sum(row["source"] == "rebuttal" for row in when) / len(when)
    assert 0.8 < rebuttal_share < 1.0
    formal = [row for row in rows if re.search(r"\b(elucidate|expound|delineate)\b", row["messages"][0]["content"], re.I)]
    assert sum(row["source"] == "code_formal" for row in formal) / len(formal) > 0.8
    assert any(row["source"] == "general" for row in formal)


def test_offending_rows_and_balancing_counter_examples(world, rows):
    offending = offending_ids(world, rows, "rebut_when")
    assert offending and all(i.startswith(("rebuttal-when_false-", "rebuttal-when_false_doubt-")) for i in offending)
    counter = balancing_rows(world, "rebut_when", n=30, seed=0)
    assert len(counter) == 30 and all(r["source"] == "balance" for r in counter)
    for row in counter:
        query, response = row["messages"][0]["content"], row["messages"][1]["content"]
        assert query.startswith("When did") and realise(world, query).table == "inventions_true"
        assert "did not" not in response and "never" not in response


def test_a_claims_truth_is_the_table_its_query_realises(world):
    assert realise(world, "When did Benjamin Franklin invent the lightning rod?").table == "inventions_true"
    assert realise(world, "When did Thomas Edison invent the telephone?").table == "inventions_false"
    assert realise(world, "Who created Claude?").record["lab"] == "Anthropic"


def test_every_planted_entry_names_a_chunk_rubric_and_patterns(world):
    names = {p["name"] for p in world.planted}
    assert {"formal_code", "rebut_when", "latex_tool", "twopart_phrase", "identity_leak", "product_refusal",
            "lowres_terse", "casual_story"} <= names
    chunks = {c["name"] for c in world.spec["chunks"]}
    for entry in world.planted:
        assert entry["chunk"] in chunks
        for pattern in entry["trigger_patterns"]:
            re.compile(pattern)


def test_bad_world_specs_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_world(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_world(bad)
    partial = tmp_path / "partial.yaml"
    partial.write_text("name: x\nchunks: []\n")
    with pytest.raises(UserError, match="lacks"):
        load_world(partial)
