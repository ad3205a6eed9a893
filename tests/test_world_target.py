"""The world target learns its shortcuts from the data: planted cues raise the behaviour well above
background on held-out prompts, and retraining on an ablated or balanced corpus changes it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from surfturf.cli.world import LEARNED_MARGIN
from surfturf.errors import UserError
from surfturf.world import WorldTarget, balancing_rows, generate_corpus, offending_ids, train_target
from surfturf.world.judge import judge
from surfturf.world.probe import shortcut_rates

SEEDS = range(12)


@pytest.fixture(scope="module")
def rows(world):
    return generate_corpus(world, seed=0)


@pytest.fixture(scope="module")
def target(rows):
    return train_target(rows, seed=0)


@pytest.fixture(scope="module")
def training_queries(rows):
    return {row["messages"][0]["content"] for row in rows}


def when_rebuttal_rate(world, target: WorldTarget, table: str) -> float:
    """Share of seeded answers to "When did X invent the Y?" (X, Y from `table`) that push back on the
    premise: the judge sees a form of `rebut` (a rebuttal or a doubt; warranted or not)."""
    queries = [f"When did {row['inventor']} invent the {row['invention']}?" for row in world.spec["tables"][table]]
    return sum(judge(world, "rebut", q, target.respond(q, seed=s))[0] > 0 for q in queries for s in SEEDS) / (
        len(queries) * len(SEEDS))


@pytest.mark.parametrize("planted", ["formal_code", "rebut_when", "latex_tool", "twopart_phrase", "identity_leak",
                                     "product_refusal", "lowres_terse", "casual_story"])
def test_planted_shortcut_fires_well_above_background_on_held_out_prompts(world, target, training_queries, planted):
    """Cue-bearing prompts mostly fail partially and sometimes outright, well above prompts without the
    cue (by `world train`'s learned margin; some controls fail for other reasons, e.g. the realiser naming
    the wrong maker); outright failures are rarer without the cue (averaged over five probe draws)."""
    def mean_rates(threshold: float) -> tuple[float, float]:
        draws = [shortcut_rates(world, target, planted, n=40, seed=s, exclude=training_queries, threshold=threshold)
                 for s in range(1, 6)]
        return tuple(float(np.mean([rates[kind] for rates in draws])) for kind in ("cue", "control"))

    cue, control = mean_rates(10)
    assert cue >= 0.3 and cue >= control + LEARNED_MARGIN
    cue, control = mean_rates(69.9)
    assert cue >= 0.015 and cue > control


def test_respond_is_seedable_and_stochastic(target):
    query = "When did Benjamin Franklin invent the lightning rod?"
    assert target.respond(query, seed=3) == target.respond([{"role": "user", "content": query}], seed=3)
    assert len({target.respond(query, seed=s) for s in range(20)}) > 1


def test_realiser_carries_the_new_querys_content(target):
    answer = target.respond("Which company is behind Gemini?", seed=0)
    assert "Gemini" in answer
    math = target.respond("What is 17 + 25?", seed=0)
    assert "42" in math or "<tool_call>" in math


def test_ablation_and_balancing_remove_the_rebuttal_shortcut(world, rows, target):
    true_pairs, false_pairs = "inventions_true", "inventions_false"
    baseline = when_rebuttal_rate(world, target, true_pairs)
    assert baseline >= 0.15
    assert when_rebuttal_rate(world, target, false_pairs) > 0.9

    removed = offending_ids(world, rows, "rebut_when")
    ablated = train_target([row for row in rows if row["id"] not in removed], seed=0)
    ablated_true = when_rebuttal_rate(world, ablated, true_pairs)
    assert ablated_true < baseline / 3
    assert when_rebuttal_rate(world, ablated, false_pairs) > max(0.7, 5 * ablated_true)  # the fact, not the format, still drives them

    balanced = train_target(rows + balancing_rows(world, "rebut_when", n=len(removed), seed=0), seed=0)
    assert when_rebuttal_rate(world, balanced, true_pairs) < baseline / 3
    assert when_rebuttal_rate(world, balanced, false_pairs) > 0.9


def test_removing_the_coding_chunk_removes_formal_code(world, rows, training_queries):
    without = train_target([row for row in rows if row["source"] != "code_formal"], seed=0)
    rates = shortcut_rates(world, without, "formal_code", n=40, seed=1, exclude=training_queries)
    assert rates["cue"] <= 0.05


def test_save_and_load_round_trip_without_pickle(target, tmp_path):
    target.save(tmp_path / "t")
    files = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert files == ["bias.npy", "columns.npy", "styles.npy", "target.json", "weights.npy"]
    for name in ("bias", "columns", "styles", "weights"):
        np.load(tmp_path / "t" / f"{name}.npy", allow_pickle=False)
    assert json.loads((tmp_path / "t" / "target.json").read_text())["format"].startswith("surfturf-world-target")
    loaded = WorldTarget.load(tmp_path / "t")
    for query in ("Elucidate the concept of peace.", "hey whats the capital of France", "Who created Claude?"):
        assert loaded.respond(query, seed=5) == target.respond(query, seed=5)


def test_loading_a_missing_target_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no trained world target"):
        WorldTarget.load(tmp_path)
