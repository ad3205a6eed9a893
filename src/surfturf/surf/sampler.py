"""Attribute sampling: P(a) from replay-buffer scores, mixed with uniform exploration."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def attribute_probabilities(
    attributes: Sequence[str],
    buffer: Iterable[tuple[Sequence[str], float]],
    exploration: float,
    floor: float = 0.0,
) -> np.ndarray:
    """P(a) over the pool: w(a) = sum of scores of buffer entries using a, normalised, then mixed
    with a uniform share `exploration` so a run cannot collapse onto one attribute. Uniform when
    the buffer is empty or scores nothing.

    Only scores above `floor` count: a score in the rubric's lowest band says the behaviour was
    absent or warranted, so following it (refusals of harmful requests, say) leads away from the
    failure; the paper's weights are floor 0."""
    n = len(attributes)
    uniform = np.full(n, 1.0 / n)
    position = {attribute: i for i, attribute in enumerate(attributes)}
    weights = np.zeros(n)
    for used, score in buffer:
        for attribute in used:
            i = position.get(attribute)
            if i is not None and score > floor:
                weights[i] += score
    total = weights.sum()
    if total <= 0:
        return uniform
    return (1.0 - exploration) * (weights / total) + exploration * uniform


def sample_attributes(rng: np.random.Generator, attributes: Sequence[str], p: np.ndarray, max_k: int) -> list[str]:
    """One candidate's attributes: k ~ uniform 1..max_k (capped by how many have p > 0), drawn
    from P(a) without replacement. Never empty."""
    available = int(np.count_nonzero(p))
    k = int(rng.integers(1, min(max_k, available) + 1))
    chosen = rng.choice(len(attributes), size=k, replace=False, p=p)
    return [attributes[i] for i in chosen]


def top_weights(attributes: Sequence[str], p: np.ndarray, n: int = 10) -> list[list[object]]:
    """The n most probable attributes as `[attribute, probability]` pairs, for iterations.jsonl."""
    order = np.argsort(-p, kind="stable")[:n]
    return [[attributes[i], round(float(p[i]), 6)] for i in order]
