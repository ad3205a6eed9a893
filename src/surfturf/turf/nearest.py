"""Nearest centroids of unit rows with FAISS: an exact flat search (CPU or GPU) or a PQ fast scan with
exact re-ranking, and the thread count that suits the problem size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np

# From SCAN_MIN_CENTROIDS centroids on, the nearest centroid is found approximately: a 4-bit PQ
# fast scan (d/4 sub-quantizers, SIMD table lookups) proposes SCAN_CANDIDATES centroids per row,
# exact inner products rank them, and the EXACT_SHARE of rows that fit worst get an exact search
# (cluster._search_worst_fit). At K = 4096, d = 384 this costs ~1/4 of an exact BLAS search (2.3x less at
# K = 1024). Rows given their exact nearest centroid: 99.99% on the bench's mixture, 99.7% on
# MiniLM embeddings of sft-mix (68k texts, K = 1024; with d/8 sub-quantizers and 4 candidates only
# 92.8%, as real embeddings sit at similar distances from many centroids).
SCAN_MIN_CENTROIDS = 1024
SCAN_SUBSPACE_DIMS = 4  # dimensions per 4-bit PQ sub-quantizer
SCAN_CANDIDATES = 16  # centroids per row that the scan proposes and exact inner products rank
EXACT_SHARE = 0.01  # the worst-fitting rows, which get an exact search after the scan (cluster._search_worst_fit)
CODEBOOK_ROWS = 8192  # at most this many centroids train the scan's PQ codebook

SMALL_WORK = 50_000_000  # rows x centroids below which one thread beats OpenMP start-up and barriers


@contextmanager
def threads_for(work: int) -> Iterator[None]:
    """One FAISS thread for small problems (OpenMP barriers cost more than they save there)."""
    import faiss

    before = faiss.omp_get_max_threads()
    if work < SMALL_WORK:
        faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def kmeans_device() -> str:
    """'gpu' when this FAISS build has GPU support and sees a GPU, else 'cpu': where k-means searches run."""
    import faiss

    return "gpu" if hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0 else "cpu"


@lru_cache(maxsize=1)
def _gpu_resources() -> Any:
    """FAISS's GPU memory and streams, made once per process (they are costly to set up)."""
    import faiss

    return faiss.StandardGpuResources()


def flat_index(centroids: np.ndarray, device: str) -> Any:
    """An exact inner-product index over the centroids, on the GPU or the CPU."""
    import faiss

    dim = centroids.shape[1]
    index = faiss.GpuIndexFlatIP(_gpu_resources(), dim) if device == "gpu" else faiss.IndexFlatIP(dim)
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    return index


def assignment_is_approximate(k: int, dim: int, device: str = "cpu") -> bool:
    """Whether `spherical_kmeans` assigns rows by the fast scan (approximate; CPU only) rather than exactly."""
    return device == "cpu" and k >= SCAN_MIN_CENTROIDS and dim % SCAN_SUBSPACE_DIMS == 0


class Nearest:
    """Nearest centroids of unit rows: exact for few centroids or on a GPU, else PQ fast scan + exact re-rank."""

    def __init__(self, dim: int, k: int, codebook_rows: np.ndarray, device: str = "cpu") -> None:
        import faiss

        self.dim, self.scan, self.device = dim, None, device
        if assignment_is_approximate(k, dim, device):
            self.scan = faiss.IndexPQFastScan(dim, dim // SCAN_SUBSPACE_DIMS, 4, faiss.METRIC_INNER_PRODUCT)
            self.scan.pq.cp.niter, self.scan.pq.cp.min_points_per_centroid = 10, 1
            with threads_for(0):
                self.scan.train(np.ascontiguousarray(codebook_rows[:CODEBOOK_ROWS], dtype=np.float32))

    def set(self, centroids: np.ndarray) -> None:
        self.centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        if self.scan is None:
            self.flat = flat_index(self.centroids, self.device)
        else:
            self.scan.reset()
            self.scan.add(self.centroids)

    def candidates(self, rows: np.ndarray) -> np.ndarray:
        """SCAN_CANDIDATES centroid ids per row by approximate inner product (scan mode only)."""
        with threads_for(len(rows) * len(self.centroids)):
            return self.scan.search(rows, SCAN_CANDIDATES)[1]

    def among(self, rows: np.ndarray, candidates: np.ndarray, top: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Exact best `top` (similarities, ids) of each row among its candidate centroids."""
        import faiss

        rows = np.ascontiguousarray(rows, dtype=np.float32)
        candidates = np.ascontiguousarray(candidates, dtype=np.int64)
        n, width = candidates.shape
        sims, ids = np.empty((n, top), dtype=np.float32), np.empty((n, top), dtype=np.int64)
        with threads_for(n * width * 64):
            faiss.knn_inner_products_by_idx(faiss.swig_ptr(rows), faiss.swig_ptr(self.centroids),
                                            faiss.swig_ptr(candidates), self.dim, n, len(self.centroids), width,
                                            top, faiss.swig_ptr(sims), faiss.swig_ptr(ids), width)
        return sims, ids

    def search(self, rows: np.ndarray, top: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The `top` nearest centroids (similarities, ids) of each row: exact, or the best candidates."""
        if self.scan is None:
            with threads_for(len(rows) * len(self.centroids)):
                return self.flat.search(rows, top)
        return self.among(rows, self.candidates(rows), top)
