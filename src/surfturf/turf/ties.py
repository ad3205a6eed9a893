"""Fair top-k when the k-th place is tied: identical attribute texts must not be cut by row order.

Corpora repeat attribute texts verbatim (always with the heuristic extractor, often with LLMs:
"The response is written in English."), and identical texts have identical vectors. When such a
group straddles the k-th place, a search returns the members with the lowest row numbers, that
is, those of whichever chunk was indexed first. Here the tied places are refilled with a seeded
uniform sample of every response attribute carrying one of the tied texts.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIE = 1e-6


class TextGroups:
    """Response attribute rows grouped by identical text (built once per index)."""

    def __init__(self, texts: pa.ChunkedArray) -> None:
        encoded = pc.dictionary_encode(texts).combine_chunks()
        self.codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        counts = np.bincount(self.codes, minlength=len(encoded.dictionary))
        self.counts = counts
        self.starts = np.concatenate([[0], np.cumsum(counts)])
        self.rows_by_code = np.argsort(self.codes, kind="stable")

    def members(self, codes: np.ndarray) -> np.ndarray:
        return np.concatenate([self.rows_by_code[self.starts[c]:self.starts[c + 1]] for c in codes])


def untie(scores: np.ndarray, rows: np.ndarray, groups: TextGroups, seed_text: str) -> np.ndarray:
    """`rows` (one crux's top-k, best first) with the places tied with the k-th filled fairly."""
    if rows.size == 0 or not (rows >= 0).all():
        return rows  # fewer than k attributes exist: everything was returned
    tied = scores <= scores[-1] + TIE  # best first: the tail that ties with the k-th place
    codes = np.unique(groups.codes[rows[tied]])
    if int(groups.counts[codes].sum()) <= int(tied.sum()):
        return rows
    seed = int.from_bytes(hashlib.sha256(seed_text.encode("utf-8")).digest()[:8], "little")
    chosen = np.random.default_rng(seed).choice(groups.members(codes), size=int(tied.sum()), replace=False)
    return np.concatenate([rows[~tied], np.sort(chosen)])
