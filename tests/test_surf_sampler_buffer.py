"""Attribute sampling from buffer scores and the deduplicating replay buffer."""

import numpy as np

from surfturf.surf.buffer import is_near_duplicate, normalise, select_top
from surfturf.surf.findings import compute_findings
from surfturf.surf.sampler import attribute_probabilities, sample_attributes, top_weights

POOL = [f"The query has property {i}." for i in range(10)]


def test_uniform_when_buffer_is_empty() -> None:
    p = attribute_probabilities(POOL, [], exploration=0.1)
    assert np.allclose(p, 0.1)


def test_weights_are_score_sums_mixed_with_exploration() -> None:
    buffer = [([POOL[0], POOL[1]], 90.0), ([POOL[0]], 30.0)]
    p = attribute_probabilities(POOL, buffer, exploration=0.0)
    assert np.isclose(p[0], 120 / 210) and np.isclose(p[1], 90 / 210) and p[2:].sum() == 0
    mixed = attribute_probabilities(POOL, buffer, exploration=0.2)
    assert np.isclose(mixed.sum(), 1.0)
    assert np.isclose(mixed[5], 0.2 / 10)
    assert np.isclose(mixed[0], 0.8 * 120 / 210 + 0.02)


def test_zero_scores_fall_back_to_uniform() -> None:
    p = attribute_probabilities(POOL, [([POOL[3]], 0.0)], exploration=0.0)
    assert np.allclose(p, 0.1)


def test_k_is_between_one_and_max_k_without_replacement() -> None:
    rng = np.random.default_rng(0)
    p = np.full(10, 0.1)
    sizes = set()
    for _ in range(500):
        chosen = sample_attributes(rng, POOL, p, max_k=5)
        assert 1 <= len(chosen) <= 5
        assert len(set(chosen)) == len(chosen)
        sizes.add(len(chosen))
    assert sizes == {1, 2, 3, 4, 5}


def test_k_never_exceeds_attributes_with_weight() -> None:
    rng = np.random.default_rng(1)
    p = np.zeros(10)
    p[[2, 7]] = 0.5
    for _ in range(100):
        chosen = sample_attributes(rng, POOL, p, max_k=5)
        assert set(chosen) <= {POOL[2], POOL[7]}


def test_same_seed_same_samples() -> None:
    p = np.full(10, 0.1)
    a = [sample_attributes(np.random.default_rng([3, 1, 2]), POOL, p, 5) for _ in range(3)]
    b = [sample_attributes(np.random.default_rng([3, 1, 2]), POOL, p, 5) for _ in range(3)]
    assert a == b


def test_top_weights_lists_most_probable_first() -> None:
    p = np.array([0.05, 0.5, 0.45] + [0.0] * 7)
    assert top_weights(POOL, p, 2) == [[POOL[1], 0.5], [POOL[2], 0.45]]


def _record(cid: str, query: str, score: float | None, error: str | None = None) -> dict:
    return {"id": cid, "query": query, "score": score, "error": error}


def test_buffer_keeps_top_n_and_drops_duplicates_and_errors() -> None:
    records = [
        _record("a", "What is the capital of France?", 90),
        _record("b", "what is the capital of france", 95),  # exact duplicate after normalising
        _record("c", "What, exactly, is the capital of France?", 80),  # near duplicate
        _record("d", "Write a poem about rain", 70),
        _record("e", "Explain entropy to a child", None, "parse: no score"),
        _record("f", "How do tides work?", 60),
        _record("g", "Tell me about volcanoes", 50),
    ]
    top = select_top(records, 3, near_duplicate=0.8)
    assert [r["id"] for r in top] == ["b", "d", "f"]


def test_near_duplicate_uses_token_jaccard() -> None:
    assert normalise("  Hello,   WORLD! ") == "hello world"
    assert is_near_duplicate("the cat sat on the mat", ["the dog sat on the rug"], 0.8) is False
    assert is_near_duplicate("the cat sat on the mat", ["on the mat the cat sat"], 0.8) is True


def test_scores_at_or_below_the_floor_carry_no_weight() -> None:
    buffer = [([POOL[0]], 5.0), ([POOL[1]], 40.0)]
    p = attribute_probabilities(POOL, buffer, exploration=0.0, floor=10.0)
    assert p[0] == 0.0 and p[1] == 1.0
    assert np.allclose(attribute_probabilities(POOL, [([POOL[0]], 5.0)], exploration=0.0, floor=10.0), 1 / len(POOL))


def test_equal_scores_rank_the_reproduced_failure_first() -> None:
    def record(i: int, run: int, attributes: list[str], score: float) -> dict:
        return {"id": f"r{run}-c{i}", "run": run, "query": f"query number {i} about {attributes[0]}",
                "attributes": attributes, "score": score, "violation": score > 50, "error": None}

    stray = record(0, 0, ["The query mentions a pet."], 88)
    systematic = [record(i, 1, ["The query is formal."], 88 if i == 1 else 40) for i in range(1, 6)]
    systematic += [record(i, 2, ["The query is formal.", "The query is short."], 88) for i in range(6, 9)]
    findings = compute_findings([stray, *systematic], buffer=5, near_duplicate=0.9)
    assert findings[0]["attributes"][0] == "The query is formal."
    violations = [f for f in findings if f["score"] == 88]
    assert violations[-1]["id"] == "r0-c0" and [f["rank"] for f in findings] == list(range(1, len(findings) + 1))
