"""On the built-in chunky world, traces of the planted failures name the planted trigger and chunk.

The failing pairs come from the world's trained target on the planted cue's probe queries (the
first one its judge scores >= 70); the crux comes from the world's offline informed judge (the
attributes its forms carry, as the heuristic extractor describes them); the
index is built from the world corpus with the heuristic extractor and hash embeddings.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from rich.console import Console

from surfturf.attributes.heuristic import response_attributes
from surfturf.data import resolve_inputs
from surfturf.models import ModelSession
from surfturf.turf.build import BuildConfig, IndexBuilder
from surfturf.turf.context import trace_context
from surfturf.turf.trace import trace_one
from surfturf.world import generate_corpus, load_world, roles, train_target
from surfturf.world.judge import judge
from surfturf.world.probe import probe_queries


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict, dict]]:
    root = tmp_path_factory.mktemp("world")
    world = load_world(None)
    rows = generate_corpus(world, seed=0)
    (root / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))

    async def build() -> None:
        session = ModelSession(cache_dir=None, cache_mode="off")
        builder = IndexBuilder(resolve_inputs([str(root / "corpus.jsonl")]), root / "INDEX",
                               BuildConfig(extractor="heuristic", embedder="hash/384"), session, None,
                               session.model("embedder", "hash/384"), None, console=Console(quiet=True))
        await builder.run()
        await session.aclose()

    asyncio.run(build())
    context = trace_context(root / "INDEX")
    target = train_target(rows, seed=0)
    out = []
    for entry in world.planted:
        for number, query in enumerate(probe_queries(world, entry["name"], "cue", 30, seed=1)):
            response = target.respond(query, seed=number)
            if judge(world, entry["rubric"], query, response)[0] >= 70:
                break
        else:
            pytest.fail(f"the world target never failed on {entry['name']}'s cue")
        blind = response_attributes(response)
        crux = [blind[pick - 1] for pick in roles.world_crux(world, entry["rubric"], blind, response_attributes)]
        out.append((entry, trace_one(query, response, entry["rubric"], context, crux=crux, blind_attributes=blind)))
    return out


def test_enriched_trigger_and_top_chunk_match_the_planted_ones(traces: list[tuple[dict, dict]]) -> None:
    wrong_trigger, wrong_chunk = [], []
    for entry, record in traces:
        trigger = record["trigger_by_enrichment"]
        if not any(re.search(pattern, text, re.IGNORECASE) for pattern in entry["trigger_patterns"]
                   for text in (trigger["text"], trigger["cluster_summary"])):
            wrong_trigger.append((entry["name"], trigger["text"]))
        if record["chunks"][0]["source"] != entry["chunk"]:
            wrong_chunk.append((entry["name"], record["chunks"][0]["source"]))
    assert len(traces) >= 8
    assert len(wrong_trigger) / len(traces) <= 0.1, wrong_trigger
    assert len(wrong_chunk) / len(traces) <= 0.1, wrong_chunk


def test_raw_hits_favour_the_biggest_cluster_which_is_why_enrichment_is_reported(traces: list) -> None:
    """The named trigger is the enriched one; the chunk is significant in every trace, the trigger in all but
    at most one (a crux as wide as "a short answer" retrieves a sample of every short answer)."""
    for _, record in traces:
        raw, enriched = record["trigger_by_hits"], record["trigger_by_enrichment"]
        assert record["trigger"] == enriched
        assert raw["hits"] >= enriched["hits"] and enriched["lift"] >= raw["lift"]
        assert record["chunks"][0]["p_adjusted"] < 0.05
    assert sum(record["trigger"]["p_adjusted"] >= 0.05 for _, record in traces) <= 1
