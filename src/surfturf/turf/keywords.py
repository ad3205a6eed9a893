"""Keyword attribution: which chunk a word comes from, as in "85% of 'elucidate' is in one dataset".

Counts are documents (examples whose query, or response, contains the word as a whole word,
case-insensitively), so a word repeated inside one example counts once. Concentration is the
share of those documents in the top chunk; lift compares it with that chunk's share of the
corpus, and the p-value is the same hypergeometric test as the trace's chunk breakdown,
corrected (Benjamini-Hochberg) over the chunks.

Rare words of a failing query are found by their frequency in a sample of the corpus (cheap,
computed once per index), then counted exactly over the whole corpus.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow.compute as pc

from surfturf.turf.corpus import CorpusView
from surfturf.turf.enrichment import enrichment

WORD = re.compile(r"[a-z][a-z'\-]{2,}")
VOCABULARY_SAMPLE = 20_000


def keyword_counts(corpus: CorpusView, words: list[str], field: str = "query") -> list[dict]:
    """Per word: documents containing it, per chunk counts, top chunk, concentration and enrichment."""
    results = []
    for word in words:
        mask = corpus.contains_word(field, word)
        per_source = np.bincount(corpus.source_codes[mask], minlength=len(corpus.sources))
        count = int(per_source.sum())
        entry: dict = {"word": word, "field": field, "count": count,
                       "sources": {corpus.sources[i]: int(per_source[i]) for i in np.argsort(-per_source) if per_source[i] > 0}}
        if count == 0:
            entry.update(top_source=None, concentration=0.0, corpus_share=0.0, lift=0.0, p_adjusted=1.0)
        else:
            stats = enrichment(per_source, corpus.source_sizes, corpus.n_examples, count)
            top = int(np.argmax(per_source))
            entry.update(
                top_source=corpus.sources[top],
                concentration=round(float(per_source[top]) / count, 4),
                corpus_share=round(float(corpus.source_sizes[top]) / corpus.n_examples, 4),
                lift=round(float(stats.lift[top]), 4),
                p_adjusted=float(stats.p_adjusted[top]),
            )
        results.append(entry)
    return results


@dataclass
class Vocabulary:
    """Word document frequencies in a sample of the corpus queries, for spotting rare words."""

    frequency: Counter
    n_documents: int

    @classmethod
    def build(cls, corpus: CorpusView, field: str = "query", sample: int = VOCABULARY_SAMPLE, seed: int = 0) -> Vocabulary:
        texts = corpus.text(field)
        if len(texts) > sample:
            rows = np.sort(np.random.default_rng(seed).choice(len(texts), size=sample, replace=False))
            texts = texts.take(rows)
        frequency: Counter = Counter()
        for text in pc.utf8_lower(texts).to_pylist():
            frequency.update(set(WORD.findall(text or "")))
        return cls(frequency, len(texts))

    def share(self, word: str) -> float:
        return self.frequency.get(word, 0) / max(self.n_documents, 1)


def query_words(query: str) -> list[str]:
    """The distinct words of a query, lower-cased, in order of first appearance."""
    return list(dict.fromkeys(WORD.findall(query.lower())))


def rare_keywords(corpus: CorpusView, vocabulary: Vocabulary, query: str, *, max_share: float = 0.05,
                  min_count: int = 3, limit: int = 5, field: str = "query") -> list[dict]:
    """Attribution of the query's rare words (in at most `max_share` of sampled documents).

    Words seen in fewer than `min_count` documents say nothing about a chunk and are dropped;
    the rest are ranked by how surprising their top chunk's concentration is.
    """
    candidates = [word for word in query_words(query) if vocabulary.share(word) <= max_share]
    candidates.sort(key=vocabulary.share)
    counted = [entry for entry in keyword_counts(corpus, candidates[: 4 * limit], field) if entry["count"] >= min_count]
    counted.sort(key=lambda entry: (entry["p_adjusted"], -entry["concentration"]))
    return counted[:limit]
