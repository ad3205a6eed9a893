"""The replay buffer: the top-n scored candidates, without exact or near-duplicate queries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(query: str) -> str:
    """Lower-case words only, so punctuation and spacing changes compare equal."""
    return " ".join(_WORD.findall(query.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    """Token-set Jaccard similarity (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def is_near_duplicate(query: str, others: Iterable[str], threshold: float) -> bool:
    """True when `query` equals another after normalising, or shares >= threshold of its tokens."""
    norm = normalise(query)
    tokens = set(norm.split())
    for other in others:
        other_norm = normalise(other)
        if norm == other_norm or jaccard(tokens, set(other_norm.split())) >= threshold:
            return True
    return False


def select_top(
    records: Iterable[dict[str, Any]], size: int, near_duplicate: float
) -> list[dict[str, Any]]:
    """The best `size` scored records, best first, skipping any whose query duplicates a better
    one. Ties break by candidate id so the result is deterministic."""
    scored = [r for r in records if r.get("score") is not None and r.get("error") is None]
    scored.sort(key=lambda r: (-float(r["score"]), str(r["id"])))
    kept: list[dict[str, Any]] = []
    for record in scored:
        if len(kept) == size:
            break
        if not is_near_duplicate(record["query"], (k["query"] for k in kept), near_duplicate):
            kept.append(record)
    return kept
