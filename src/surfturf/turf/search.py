"""Exact top-k cosine search over memory-mapped embeddings, block by block, in bounded memory.

A flat FAISS index must hold every vector as float32 in RAM (154 GB at the paper's 9.4M x 4096);
scanning float16 memmap blocks with FAISS's BLAS kernel gives the same exact top-k in a fixed
working set, and at 1M x 384 it is as fast as the in-RAM flat index (bench/index_scale.py).
"""

from __future__ import annotations

import numpy as np

from surfturf.models.providers.base import normalise

SEARCH_BLOCK_ROWS = 131072


def normalise_queries(vectors: np.ndarray) -> np.ndarray:
    """Float32, C-contiguous, unit rows (zero rows stay zero)."""
    return np.ascontiguousarray(normalise(np.atleast_2d(vectors)))


def search_blocked(queries: np.ndarray, vectors: np.ndarray, k: int,
                   block_rows: int = SEARCH_BLOCK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows), each (n_queries x k), best first; rows are -1 where fewer than k vectors exist."""
    import faiss

    queries = normalise_queries(queries)
    n = vectors.shape[0]
    k = max(1, int(k))
    heap = faiss.ResultHeap(queries.shape[0], k, keep_max=True)
    for start in range(0, n, block_rows):
        block = np.ascontiguousarray(vectors[start:start + block_rows], dtype=np.float32)
        scores, rows = faiss.knn(queries, block, min(k, len(block)), metric=faiss.METRIC_INNER_PRODUCT)
        heap.add_result(D=scores, I=np.where(rows >= 0, rows + start, -1))
    heap.finalize()
    return heap.D, heap.I
