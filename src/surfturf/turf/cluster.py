"""Spherical k-means over (memory-mapped) attribute embeddings with FAISS: train on a sample, assign all."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

ASSIGN_BLOCK_ROWS = 65536
# Training sample (points per centroid) and Lloyd iterations. An iteration costs sample*K*d, the one
# exact assignment of all n rows n*K*d; FAISS's default sample (256 a centroid) is the whole of 1M
# rows at K = 4096, so every iteration would cost a full assignment. 64 x 6 trains in ~1.6
# assignment passes: at 1M x 384, K = 4096 its objective on ALL rows is 0.3195 in 79 CPU s against
# 0.3185 in 138 CPU s for 64 x 10 (+0.3%; at 250k x 384, K = 1024 over 2 seeds 64 x 6 is 0.06-0.3%
# behind 64 x 10, while 128 x 4 is 0.7% ahead on one seed and 0.9% behind on another); with 32
# points the converged objective is ~2% worse, with 16 ~8% (bench/index_scale.py --grid).
TRAIN_POINTS_PER_CENTROID = 64
TRAIN_ITERATIONS = 6


SMALL_WORK = 50_000_000  # rows x centroids below which one thread beats OpenMP start-up and barriers


@contextmanager
def _threads_for(work: int) -> Iterator[None]:
    """One FAISS thread for small problems (OpenMP barriers cost more than they save there)."""
    import faiss

    before = faiss.omp_get_max_threads()
    if work < SMALL_WORK:
        faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def default_k(n_attributes: int) -> int:
    """Clusters for n query attributes: about 2*sqrt(n) for small corpora, n/400 for large ones.

    n/400 matches the paper's ~376 attributes a cluster (25k clusters for 9.4M attributes); the
    2*sqrt(n) floor keeps small corpora from collapsing into a handful of clusters (343k
    attributes -> 1171, 9.4M -> 23.5k). Never more than n/4 so clusters average 4+ members.
    """
    if n_attributes <= 0:
        return 0
    k = max(n_attributes / 400.0, 2.0 * math.sqrt(n_attributes))
    return int(max(1, min(round(k), n_attributes // 4 or 1)))


def _normalised(block: np.ndarray) -> np.ndarray:
    block = np.ascontiguousarray(block, dtype=np.float32)
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return block / norms


@dataclass
class Clustering:
    """Centroids (K x d, unit rows) and every vector's cluster and cosine to its centroid."""

    centroids: np.ndarray
    assignment: np.ndarray  # int32, one per vector
    similarity: np.ndarray  # float32 cosine to the assigned centroid


def train_centroids(vectors: np.ndarray, k: int, seed: int = 0, iterations: int = TRAIN_ITERATIONS,
                    points_per_centroid: int = TRAIN_POINTS_PER_CENTROID,
                    candidates: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
    """Spherical k-means centroids trained on a uniform sample of at most k*points_per_centroid rows.

    `candidates` restricts the sample to those rows and `weights` (one per candidate) weighs them:
    the build passes one row per distinct attribute text weighted by its count, which is the
    k-means objective over all attributes without the repeated identical vectors that make
    k-means split a cluster into twin centroids of which one stays empty. The sample is gathered
    in sorted row order so a memmap is read sequentially, never whole.
    """
    import faiss

    pool = np.arange(vectors.shape[0]) if candidates is None else np.asarray(candidates)
    n, dim = len(pool), vectors.shape[1]
    k = max(1, min(k, n))
    sample_size = min(n, k * points_per_centroid)
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(n, size=sample_size, replace=False)) if sample_size < n else np.arange(n)
    rows = pool[picked]
    sample = np.empty((sample_size, dim), dtype=np.float32)
    for start in range(0, sample_size, ASSIGN_BLOCK_ROWS):
        chunk = rows[start:start + ASSIGN_BLOCK_ROWS]
        sample[start:start + len(chunk)] = _normalised(vectors[chunk])
    kmeans = faiss.Kmeans(dim, k, niter=iterations, spherical=True, seed=seed,
                          max_points_per_centroid=points_per_centroid, min_points_per_centroid=1,
                          verbose=False)
    sample_weights, init = None, None
    if weights is not None:
        # start from a weight-proportional draw, as uniform seeding over all attributes would;
        # uniform seeding over distinct texts lets rare variants take the centroids
        sample_weights = np.ascontiguousarray(np.asarray(weights)[picked], dtype=np.float32)
        chosen = rng.choice(sample_size, size=k, replace=False, p=sample_weights / sample_weights.sum())
        init = np.ascontiguousarray(sample[np.sort(chosen)])
    with _threads_for(sample_size * k):
        kmeans.train(sample, weights=sample_weights, init_centroids=init)
    return _normalised(kmeans.centroids)


def assign(vectors: np.ndarray, centroids: np.ndarray,
           progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid (by cosine) and its similarity for every row, in blocks (exact).

    The nearest unit centroid by inner product does not depend on a row's length, so rows are
    searched as stored and only the winning score is divided by the row's norm: one pass over the
    block fewer than normalising it first.
    """
    import faiss

    index = faiss.IndexFlatIP(centroids.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    n = vectors.shape[0]
    clusters = np.empty(n, dtype=np.int32)
    similarity = np.empty(n, dtype=np.float32)
    for start in range(0, n, ASSIGN_BLOCK_ROWS):
        block = np.ascontiguousarray(vectors[start:start + ASSIGN_BLOCK_ROWS], dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        with _threads_for(len(block) * centroids.shape[0]):
            scores, ids = index.search(block, 1)
        clusters[start:start + len(block)] = ids[:, 0]
        similarity[start:start + len(block)] = scores[:, 0] / np.where(norms > 0, norms, 1.0)
        if progress is not None:
            progress(len(block))
    return clusters, similarity


def mean_directions(vectors: np.ndarray, clusters: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Each cluster's normalised member mean over ALL its rows (an empty cluster keeps its centroid).

    Training on distinct texts ignores how often a text occurs; this full-weight update moves each
    centroid to where its members' mass is, so central attributes and summaries represent them.
    """
    from scipy import sparse

    k = previous.shape[0]
    sums = np.zeros(previous.shape, dtype=np.float64)
    for start in range(0, vectors.shape[0], ASSIGN_BLOCK_ROWS):
        block = _normalised(vectors[start:start + ASSIGN_BLOCK_ROWS])
        labels = clusters[start:start + len(block)]
        members = sparse.csr_matrix((np.ones(len(block), dtype=np.float32), (labels, np.arange(len(block)))),
                                    shape=(k, len(block)))
        sums += members @ block
    norms = np.linalg.norm(sums, axis=1)
    return np.where(norms[:, None] > 0, sums / np.where(norms > 0, norms, 1.0)[:, None], previous).astype(np.float32)


def spherical_kmeans(vectors: np.ndarray, k: int, seed: int = 0, iterations: int = TRAIN_ITERATIONS,
                     points_per_centroid: int = TRAIN_POINTS_PER_CENTROID,
                     candidates: np.ndarray | None = None, weights: np.ndarray | None = None,
                     progress: Callable[[int], None] | None = None) -> Clustering:
    """Train on a sample (of `candidates`, if given), assign every vector exactly to its nearest centroid.

    With `candidates`, one full-weight update (mean_directions) and a second exact assignment follow.
    """
    centroids = train_centroids(vectors, k, seed=seed, iterations=iterations,
                                points_per_centroid=points_per_centroid, candidates=candidates, weights=weights)
    clusters, similarity = assign(vectors, centroids, progress=progress)
    if candidates is not None:
        centroids = mean_directions(vectors, clusters, centroids)
        clusters, similarity = assign(vectors, centroids, progress=progress)
    return Clustering(centroids=centroids, assignment=clusters, similarity=similarity)


def central_members(clusters: np.ndarray, similarity: np.ndarray, k: int, top: int = 5) -> list[np.ndarray]:
    """Per cluster, the rows of its `top` members closest to the centroid (best first)."""
    order = np.lexsort((-similarity, clusters))  # by cluster, then most similar first
    sorted_clusters = clusters[order]
    starts = np.searchsorted(sorted_clusters, np.arange(k), side="left")
    ends = np.searchsorted(sorted_clusters, np.arange(k), side="right")
    return [order[start:min(end, start + top)] for start, end in zip(starts, ends)]
