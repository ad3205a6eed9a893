"""What an index build will read and cost, before it runs: row counts, text lengths, planned calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from surfturf.data import CorpusInput, CorpusStats, read_corpus
from surfturf.models.accounting import approx_tokens
from surfturf.turf.cluster import default_k

if TYPE_CHECKING:
    from surfturf.turf.build import BuildConfig

# Dry-run token estimates per call: prompt overhead plus the clipped text; a 10-item list out.
EXTRACT_PROMPT_TOKENS = 260
EXTRACT_OUTPUT_TOKENS = 180
SUMMARY_INPUT_TOKENS = 160
SUMMARY_OUTPUT_TOKENS = 30
ATTRIBUTE_TOKENS = 12


def count_rows(inputs: list[CorpusInput], limit: int | None) -> CorpusStats:
    """Read the corpus once without extracting: row counts for progress, ETA and --dry-run."""
    stats = CorpusStats()
    for _ in read_corpus(inputs, stats, limit):
        pass
    return stats


def estimate_cost(session: Any, config: BuildConfig, stats: CorpusStats, mean_chars: float) -> float:
    """Record the planned calls per role on the session (for --dry-run) and return the total USD."""
    rows = stats.rows
    total = 0.0
    if config.extractor != "heuristic":
        per_call = EXTRACT_PROMPT_TOKENS + approx_tokens(min(mean_chars, 6000))
        total += session.estimate("extractor", config.extractor, 2 * rows, per_call, EXTRACT_OUTPUT_TOKENS)
    attributes = 20 * rows
    total += session.estimate("embedder", config.embedder, max(1, -(-attributes // 256)), 256 * ATTRIBUTE_TOKENS, 0)
    if config.summariser:
        k = config.k or default_k(10 * rows)
        total += session.estimate("summariser", config.summariser, k, SUMMARY_INPUT_TOKENS, SUMMARY_OUTPUT_TOKENS)
    return total


def mean_text_chars(inputs: list[CorpusInput], limit: int | None, sample: int = 2000) -> float:
    """Mean query/response length over the first rows, for the extraction cost estimate."""
    lengths = []
    for row in read_corpus(inputs, CorpusStats(), limit):
        lengths.append((len(row.query) + len(row.response)) / 2)
        if len(lengths) >= sample:
            break
    return float(np.mean(lengths)) if lengths else 0.0
