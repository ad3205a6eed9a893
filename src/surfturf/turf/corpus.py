"""The indexed corpus seen as arrays for statistics: chunk codes and sizes, text matches, clusters.

Built once per index and shared by every trace, keyword count and conditional statistic, so
that tracing a whole SURF run pays for these columns once.
"""

from __future__ import annotations

import re
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from surfturf.errors import UserError

TEXT_FIELDS = ("query", "response")


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for int arrays by sort and compare (NumPy 2's hash-based unique is ~100x slower here)."""
    ordered = np.sort(values)
    keep = np.ones(ordered.size, dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


class CorpusView:
    """Examples (row = example number), their chunk (`source`) and query-attribute clusters."""

    def __init__(self, examples: pa.Table, query_attributes: pa.Table | None = None, n_clusters: int | None = None):
        self.examples = examples
        self._query_attributes = query_attributes
        self._n_clusters = n_clusters

    @property
    def n_examples(self) -> int:
        return self.examples.num_rows

    @cached_property
    def _sources(self) -> pa.DictionaryArray:
        return pc.dictionary_encode(self.examples.column("source")).combine_chunks()

    @cached_property
    def sources(self) -> list[str]:
        """Chunk names, in code order."""
        return [str(name) for name in self._sources.dictionary.to_pylist()]

    @cached_property
    def source_codes(self) -> np.ndarray:
        """Chunk code of every example (int64, aligned with example numbers)."""
        return self._sources.indices.to_numpy(zero_copy_only=False).astype(np.int64)

    @cached_property
    def source_sizes(self) -> np.ndarray:
        """Examples per chunk, aligned with `sources`."""
        return np.bincount(self.source_codes, minlength=len(self.sources))

    def text(self, field: str) -> pa.ChunkedArray:
        if field not in TEXT_FIELDS:
            raise UserError(f"unknown text field '{field}'", f"use one of {', '.join(TEXT_FIELDS)}")
        return self.examples.column(field)

    def matches(self, field: str, pattern: str, ignore_case: bool = True) -> np.ndarray:
        """Boolean mask of examples whose `field` text matches the regular expression (RE2 syntax)."""
        try:
            re.compile(pattern)
            found = pc.match_substring_regex(self.text(field), pattern, ignore_case=ignore_case)
        except (re.error, pa.ArrowInvalid) as error:
            raise UserError(f"bad regular expression {pattern!r}: {error}", "fix the pattern (RE2 syntax)") from error
        return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)

    def contains_word(self, field: str, word: str) -> np.ndarray:
        """Examples whose `field` contains `word` (or phrase) as whole words, case-insensitively.

        Word boundaries are required only at ends that are word characters, so "Context:" and
        "####" match as written.
        """
        word = word.strip() or word
        start = r"\b" if re.match(r"\w", word) else ""
        end = r"\b" if re.search(r"\w$", word) else ""
        return self.matches(field, start + re.escape(word) + end)

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (example, cluster) pairs of the query attributes, sorted by example."""
        if self._query_attributes is None:
            raise UserError("this corpus has no query attributes", "open it from an index directory")
        example = _column(self._query_attributes, "example").astype(np.int64)
        cluster = _column(self._query_attributes, "cluster").astype(np.int64)
        n_clusters = self.n_clusters
        if cluster.size and (cluster.min() < 0 or cluster.max() >= n_clusters):
            raise UserError("query attribute clusters are out of range", "rebuild the index")
        pairs = sorted_unique(example * n_clusters + cluster)
        return pairs // n_clusters, pairs % n_clusters

    @property
    def n_clusters(self) -> int:
        if self._n_clusters is None:
            if self._query_attributes is None or self._query_attributes.num_rows == 0:
                return 0
            self._n_clusters = int(pc.max(self._query_attributes.column("cluster")).as_py()) + 1
        return self._n_clusters

    @cached_property
    def cluster_members(self) -> np.ndarray:
        """Distinct examples with at least one query attribute in each cluster (the enrichment population)."""
        return np.bincount(self._pairs[1], minlength=self.n_clusters)

    def clusters_of(self, examples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For distinct example numbers, every (example, cluster) pair they have, as two aligned arrays."""
        pair_example, pair_cluster = self._pairs
        examples = np.asarray(examples, dtype=np.int64)
        starts = np.searchsorted(pair_example, examples, side="left")
        ends = np.searchsorted(pair_example, examples, side="right")
        lengths = ends - starts
        owner = np.repeat(examples, lengths)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        return owner, pair_cluster[offsets]

    def cluster_mask(self, cluster: int) -> np.ndarray:
        """Examples with at least one query attribute in `cluster`."""
        pair_example, pair_cluster = self._pairs
        mask = np.zeros(self.n_examples, dtype=bool)
        mask[pair_example[pair_cluster == cluster]] = True
        return mask
