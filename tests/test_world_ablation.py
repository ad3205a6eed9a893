"""Ablation measures any planted behaviour through its probes, not rebuttals only."""

from __future__ import annotations

import json

import pytest

from surfturf.steer.ablate import ablate as ablate_rows
from surfturf.world.ablation import experiment
from surfturf.world import balancing_rows, generate_corpus, offending_ids


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.slow
def test_removing_a_non_rebuttal_shortcut_lowers_its_cue_rate(tmp_path, world):
    rows = generate_corpus(world, seed=0)
    planted = "latex_tool"
    removed = offending_ids(world, rows, planted)
    kept, _ = ablate_rows(rows, remove_ids=sorted(removed))
    corpora = {"baseline": _write(tmp_path / "baseline.jsonl", rows),
               "ablated": _write(tmp_path / "ablated.jsonl", kept),
               "balanced": _write(tmp_path / "balanced.jsonl", rows + balancing_rows(world, planted, len(removed)))}
    result = experiment(world, corpora, tmp_path, seed=0, samples=2, planted=planted)
    assert result["planted"] == planted and result["rubric"] == "tool_hallucination"
    assert result["baseline_rate"] > 0.5 > result["ablated_rate"]
    assert result["checks"] == {"ablated_lowers_cue_rate": True, "balanced_lowers_cue_rate": True,
                                "control_stays_low": True}
