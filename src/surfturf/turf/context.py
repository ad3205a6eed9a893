"""An index opened for tracing: the arrays every trace against it needs, built once and shared by a batch."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.models import Model, ModelSession
from surfturf.turf import store
from surfturf.turf.corpus import CorpusView
from surfturf.turf.describe import AttributeSource
from surfturf.turf.keywords import Vocabulary
from surfturf.turf.ties import TextGroups, untie

TIE_COSINE = 1e-4
FLOAT32_COPY_BYTES = 2 << 30  # float16 response embeddings up to this size (as float32) are searched in RAM


class TraceContext:
    """An index plus the arrays every trace against it needs, built once and shared.

    Only the columns a trace uses are read: query-attribute (example, cluster) pairs, the example
    of each response attribute, and (on first use) the response attribute texts for evidence.
    """

    def __init__(self, index: Any) -> None:
        self.index = index
        clusters = index.table(store.CLUSTERS, ["cluster", "summary"])
        ids = clusters.column("cluster").to_numpy().astype(np.int64)
        n_clusters = max(int(ids.max()) + 1 if ids.size else 0, index.n_clusters)
        self.summaries: list[str] = [""] * n_clusters
        for cluster, summary in zip(ids.tolist(), clusters.column("summary").to_pylist()):
            self.summaries[cluster] = summary or ""
        pairs = index.table(store.QUERY_ATTRIBUTES, ["example", "cluster"])
        self.corpus = CorpusView(index.examples, pairs, n_clusters)
        self.response_example = (index.table(store.RESPONSE_ATTRIBUTES, ["example"]).column("example")
                                 .to_numpy().astype(np.int64))
        self._vocabulary: Vocabulary | None = None

    def assign_clusters(self, vectors: np.ndarray) -> np.ndarray:
        """Nearest centroid of each vector; centroids tied within TIE_COSINE go to the biggest cluster.

        Corpora repeat attribute texts verbatim (identical vectors), and k-means then leaves
        duplicate centroids, only one of which holds the stored attributes; a plain argmax would
        pick either and often the empty twin.
        """
        if len(vectors) == 0:
            return np.zeros(0, dtype=np.int64)
        similarity = np.asarray(vectors, dtype=np.float32) @ np.asarray(self.index.centroids, dtype=np.float32).T
        tied = similarity >= similarity.max(axis=1, keepdims=True) - TIE_COSINE
        members = np.zeros(similarity.shape[1], dtype=np.int64)
        sizes = self.corpus.cluster_members[: members.size]
        members[: sizes.size] = sizes
        return np.argmax(np.where(tied, members[None, :] + 1, 0), axis=1).astype(np.int64)

    @cached_property
    def offline(self) -> OfflineExtractor:
        """The offline extractor the index was built with (its lexicon.json), for heuristic traces."""
        path = getattr(self.index, "path", None)
        return OfflineExtractor.for_index(Path(path)) if path is not None else OfflineExtractor()

    def source(self, model: Model | None) -> AttributeSource:
        """The extractor role for traces against this index: `model`, or the index's own offline one."""
        return AttributeSource(model, self.offline if model is None else None)

    @cached_property
    def response_texts(self) -> pa.ChunkedArray:
        return self.index.attribute_texts("response")

    @cached_property
    def text_groups(self) -> TextGroups:
        """Response attribute rows grouped by identical text, for fair ties in the top-k."""
        return TextGroups(self.response_texts)

    @cached_property
    def float32_responses(self) -> np.ndarray | None:
        """A float32 copy of float16 response (text) embeddings that fit in FLOAT32_COPY_BYTES, else None.

        Searching float16 memmaps converts every block on every search (~2 s at 1M x 384); a
        run traces many findings against the same index, so converting once pays for itself.
        """
        stored = self.index.response_embeddings
        if stored.dtype == np.float32 or stored.size * 4 > FLOAT32_COPY_BYTES:
            return None
        copy = np.empty(stored.shape, dtype=np.float32)
        for start in range(0, stored.shape[0], 1 << 17):
            copy[start:start + (1 << 17)] = stored[start:start + (1 << 17)]
        return copy

    def search(self, vectors: np.ndarray, texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k response attributes per crux vector, with ties at the k-th place filled fairly."""
        scores, rows = self.index.search_responses(vectors, k, self.float32_responses)
        scores, rows = np.asarray(scores), np.asarray(rows).astype(np.int64)
        for i, text in enumerate(texts):
            rows[i] = untie(scores[i], rows[i], self.text_groups, text)
        return scores, rows

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.build(self.corpus)
        return self._vocabulary

    async def embed(self, texts: list[str], session: ModelSession | None = None) -> np.ndarray:
        """Unit vectors from the index's own embedder (the same space as the stored attributes)."""
        if not texts:
            return np.zeros((0, self.index.dim), dtype=np.float32)
        return await self.index.aembed(texts, session)


def trace_context(index: Any) -> TraceContext:
    """A TraceContext for an opened index, an index path, or an existing context (returned as is)."""
    if isinstance(index, TraceContext):
        return index
    if isinstance(index, (str, Path)):
        index = store.Index.open(Path(index))
    return TraceContext(index)
