"""Identical texts tied at the k-th place are sampled fairly, not cut by row order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from surfturf.turf.ties import TextGroups, untie


def test_a_tie_straddling_k_is_refilled_from_every_row_with_that_text() -> None:
    # rows 0-99: a unique best match; rows 100-1099: one text repeated (chunk A first, then chunk B)
    texts = pa.chunked_array([["best"] + ["The response is short."] * 1000 + ["other"] * 50])
    groups = TextGroups(texts)
    scores = np.array([1.0] + [0.8] * 99, dtype=np.float32)
    rows = np.arange(100)  # what a search returns: the lowest row numbers among the tied
    fair = untie(scores, rows, groups, "The response is short.")
    assert fair[0] == 0 and len(fair) == 100 and len(set(fair.tolist())) == 100
    assert set(fair[1:].tolist()) <= set(range(1, 1001))
    assert (fair[1:] > 500).sum() > 25  # rows of the later half get their share
    assert np.array_equal(fair, untie(scores, rows, groups, "The response is short."))  # seeded


def test_no_tie_beyond_k_leaves_the_rows_alone() -> None:
    groups = TextGroups(pa.chunked_array([["a", "b", "c", "d"]]))
    rows = np.array([2, 0])
    assert np.array_equal(untie(np.array([0.9, 0.5], dtype=np.float32), rows, groups, "x"), rows)
    assert np.array_equal(untie(np.array([0.9, -1.0], dtype=np.float32), np.array([1, -1]), groups, "x"),
                          np.array([1, -1]))
