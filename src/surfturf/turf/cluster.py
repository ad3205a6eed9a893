"""Spherical k-means over (memory-mapped) attribute embeddings with FAISS: train on a sample, assign all.

The nearest-centroid searches (training iterations and assignment) run on a GPU when the FAISS
build has GPU support and sees one (`kmeans_device`), and on the CPU otherwise; the mean updates
and swap rounds stay in numpy. On a GPU every search is exact (a flat index; FAISS has no GPU
fast scan, and an exact search there costs less than the scan does on a CPU).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from surfturf.models.providers.base import normalise
from surfturf.turf.nearest import EXACT_SHARE, SCAN_CANDIDATES, Nearest, flat_index, kmeans_device, threads_for

ASSIGN_BLOCK_ROWS = 65536
# Training: Lloyd iterations on a uniform sample of k*TRAIN_POINTS_PER_CENTROID rows, with a swap
# round (_swap) after every iteration from FIRST_SWAP on but the last; then one mean update with ALL
# rows and the assignment of all rows. Why, measured at 1M x 384, K = 4096 (bench/index_scale.py;
# objective = mean 1 - cosine over all rows, ~0.29 at the planted centres): random seeding leaves
# ~1 in 4 mixture components without a centroid and Lloyd never recovers them (faiss 64 points x 6
# iterations: 0.3195; MiniBatchKMeans, k-means++ and reassignment of small centres: 0.3130); with
# swaps 16 x 6 reaches 0.2926 in 15.7 CPU s (8 x 5: 0.2984 in 13.2; 32 x 7: 0.2916 in 21.5).
TRAIN_POINTS_PER_CENTROID = 16
TRAIN_ITERATIONS = 6
FIRST_SWAP = 2
SPLIT_ROUNDS = 3  # 2-means iterations when estimating how much splitting a cluster would gain


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


def _read_unit(vectors: np.ndarray, start: int, buffer: np.ndarray) -> np.ndarray:
    """Rows start.. of `vectors` as unit float32 rows, converted in place in `buffer` (reused)."""
    block = buffer[:min(len(buffer), vectors.shape[0] - start)]
    block[...] = vectors[start:start + len(block)]
    return normalise(block, out=block)


@dataclass
class Clustering:
    """Centroids (K x d, unit rows) and every vector's cluster and cosine to its centroid."""

    centroids: np.ndarray
    assignment: np.ndarray  # int32, one per vector
    similarity: np.ndarray  # float32 cosine to the assigned centroid
    device: str = "cpu"  # where the searches ran (kmeans_device)


def _sample(vectors: np.ndarray, k: int, points_per_centroid: int, rng: np.random.Generator,
            candidates: np.ndarray | None, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A uniform sample of at most k*points_per_centroid rows (unit, float32) and their weights.

    Gathered in sorted row order so a memmap is read sequentially, never whole.
    """
    pool = np.arange(vectors.shape[0]) if candidates is None else np.asarray(candidates)
    n = len(pool)
    size = min(n, k * points_per_centroid)
    picked = np.sort(rng.choice(n, size=size, replace=False)) if size < n else np.arange(n)
    rows = pool[picked]
    sample = np.empty((size, vectors.shape[1]), dtype=np.float32)
    for start in range(0, size, ASSIGN_BLOCK_ROWS):
        chunk = rows[start:start + ASSIGN_BLOCK_ROWS]
        sample[start:start + len(chunk)] = normalise(vectors[chunk])
    sample_weights = np.ones(size) if weights is None else np.asarray(weights, dtype=np.float64)[picked]
    return sample, sample_weights


def _means(rows: np.ndarray, weights: np.ndarray, clusters: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Normalised weighted member mean of each cluster (a cluster without members keeps `previous`)."""
    from scipy import sparse

    k = previous.shape[0]
    members = sparse.csr_matrix((weights.astype(np.float32), (clusters, np.arange(len(rows)))), shape=(k, len(rows)))
    sums = np.asarray(members @ rows)
    return normalise(sums, sums.dtype, empty=previous).astype(np.float32)


def _cosines(rows: np.ndarray, centroids: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """rows[i] . centroids[clusters[i]] for every i, without materialising centroids[clusters]."""
    import faiss

    out = np.empty(len(rows), dtype=np.float32)
    row_ids = np.arange(len(rows), dtype=np.int64)
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    centroids = np.ascontiguousarray(centroids, dtype=np.float32)
    clusters = np.ascontiguousarray(clusters, dtype=np.int64)
    with threads_for(len(rows) * 64):
        faiss.pairwise_indexed_inner_product(rows.shape[1], len(rows), faiss.swig_ptr(rows), faiss.swig_ptr(row_ids),
                                             faiss.swig_ptr(centroids), faiss.swig_ptr(clusters), faiss.swig_ptr(out))
    return out


def _split_gains(rows: np.ndarray, weights: np.ndarray, centroids: np.ndarray,
                 clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cluster, the weighted cosine gained by splitting it in two by 2-means, and the two halves.

    Each split starts from the worst-fitting member and the member least like it: a centroid
    that serves two mixture components (one had no seed) has them as its two halves.
    """
    k = centroids.shape[0]
    fit = _cosines(rows, centroids, clusters)
    starts = np.searchsorted(np.sort(clusters), np.arange(k))
    splittable = np.bincount(clusters, minlength=k) >= 2
    first, second = centroids.copy(), centroids.copy()
    first[splittable] = rows[np.lexsort((fit, clusters))[starts[splittable]]]
    unlike = _cosines(rows, first, clusters)
    second[splittable] = rows[np.lexsort((unlike, clusters))[starts[splittable]]]
    for _ in range(SPLIT_ROUNDS):
        to_second = _cosines(rows, second, clusters) > _cosines(rows, first, clusters)
        first = _means(rows, weights * ~to_second, clusters, first)
        second = _means(rows, weights * to_second, clusters, second)
    best = np.maximum(_cosines(rows, first, clusters), _cosines(rows, second, clusters))
    gain = np.bincount(clusters, weights=weights * (best - fit), minlength=k)
    return np.where(splittable, gain, 0.0), first, second


def _swap(rows: np.ndarray, weights: np.ndarray, centroids: np.ndarray, sims: np.ndarray,
          ids: np.ndarray) -> np.ndarray:
    """Move redundant centroids onto clusters that are worth splitting, while the swap gains.

    Lloyd iterations cannot fix a bad seeding: a component with two seeds keeps twin centroids
    and one without any stays merged into a neighbour. Dropping centroid r costs what its members
    lose by moving to their second-nearest centroid (mostly one receiver); splitting cluster c
    gains what its 2-means halves fit better. The biggest gains pair with the cheapest drops while
    gain > cost, each centroid changed or receiving members at most once a round so the estimates
    stay valid (cf. sklearn's reassignment of small centres, which picks random points instead).
    """
    from scipy import sparse

    k = centroids.shape[0]
    clusters = ids[:, 0]
    cost = np.bincount(clusters, weights=weights * (sims[:, 0] - sims[:, 1]), minlength=k)
    flows = sparse.csr_matrix((weights, (clusters, np.maximum(ids[:, 1], 0))), shape=(k, k))
    receiver = np.where(np.diff(flows.indptr) > 0, np.asarray(flows.argmax(axis=1)).ravel(), np.arange(k))
    gain, first, second = _split_gains(rows, weights, centroids, clusters)
    changed, receiving = np.zeros(k, dtype=bool), np.zeros(k, dtype=bool)
    drop_order = np.argsort(cost, kind="stable")
    splits, drops, next_drop = [], [], 0
    for split in np.argsort(-gain, kind="stable")[:k // 2]:
        if changed[split] or receiving[split]:
            continue
        drop = None
        for position in range(next_drop, k):
            candidate = drop_order[position]
            if changed[candidate] or receiving[candidate] or changed[receiver[candidate]]:
                next_drop += position == next_drop  # never usable again this round
            elif candidate != split and receiver[candidate] != split:
                drop = candidate
                break
        if drop is None or gain[split] <= cost[drop]:
            break
        changed[[split, drop]] = True
        receiving[receiver[drop]] = True
        splits.append(split)
        drops.append(drop)
    centroids = centroids.copy()
    centroids[drops] = second[splits]
    centroids[splits] = first[splits]
    return centroids


def train_centroids(vectors: np.ndarray, k: int, seed: int = 0, iterations: int = TRAIN_ITERATIONS,
                    points_per_centroid: int = TRAIN_POINTS_PER_CENTROID,
                    candidates: np.ndarray | None = None, weights: np.ndarray | None = None,
                    device: str = "cpu") -> np.ndarray:
    """Spherical k-means centroids trained on a uniform sample of at most k*points_per_centroid rows.

    `candidates` restricts the sample to those rows and `weights` (one per candidate) weighs them:
    the build passes one row per distinct attribute text weighted by its count, which is the
    k-means objective over all attributes without the repeated identical vectors that make
    k-means split a cluster into twin centroids of which one stays empty. Seeds are a
    weight-proportional draw (as uniform seeding over all attributes would be); swap rounds
    (_swap) repair what the seeding got wrong.
    """
    rng = np.random.default_rng(seed)
    sample, sample_weights = _sample(vectors, k, points_per_centroid, rng, candidates, weights)
    k = max(1, min(k, len(sample)))
    seeds = rng.choice(len(sample), size=k, replace=False, p=sample_weights / sample_weights.sum())
    centroids = sample[np.sort(seeds)]
    nearest = Nearest(sample.shape[1], k, centroids, device)
    for iteration in range(iterations):
        nearest.set(centroids)
        sims, ids = nearest.search(sample, 2 if k > 1 else 1)
        centroids = _means(sample, sample_weights, ids[:, 0], centroids)
        if k > 1 and FIRST_SWAP <= iteration < iterations - 1:
            centroids = _swap(sample, sample_weights, centroids, sims, ids)
    return centroids


def assign(vectors: np.ndarray, centroids: np.ndarray, progress: Callable[[int], None] | None = None,
           device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid (by cosine) and its similarity for every row, in blocks (exact).

    The nearest unit centroid by inner product does not depend on a row's length, so rows are
    searched as stored and only the winning score is divided by the row's norm: one pass over the
    block fewer than normalising it first.
    """
    index = flat_index(centroids, device)
    n = vectors.shape[0]
    clusters = np.empty(n, dtype=np.int32)
    similarity = np.empty(n, dtype=np.float32)
    for start in range(0, n, ASSIGN_BLOCK_ROWS):
        block = np.ascontiguousarray(vectors[start:start + ASSIGN_BLOCK_ROWS], dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        with threads_for(len(block) * centroids.shape[0]):
            scores, ids = index.search(block, 1)
        clusters[start:start + len(block)] = ids[:, 0]
        similarity[start:start + len(block)] = scores[:, 0] / np.where(norms > 0, norms, 1.0)
        if progress is not None:
            progress(len(block))
    return clusters, similarity


def mean_directions(vectors: np.ndarray, clusters: np.ndarray, previous: np.ndarray,
                    weights: np.ndarray | None = None) -> np.ndarray:
    """Each cluster's normalised (weighted) member mean over ALL its rows (an empty cluster keeps its centroid).

    A training sample sees each distinct text about once; this full-data update, each row weighted
    by how often its text occurs, moves each centroid to where its members' mass is, so central
    attributes and summaries represent them.
    """
    from scipy import sparse

    k = previous.shape[0]
    sums = np.zeros(previous.shape, dtype=np.float64)
    for start in range(0, vectors.shape[0], ASSIGN_BLOCK_ROWS):
        block = normalise(vectors[start:start + ASSIGN_BLOCK_ROWS])
        labels = clusters[start:start + len(block)]
        members = sparse.csr_matrix((_block_weights(weights, start, len(block)), (labels, np.arange(len(block)))),
                                    shape=(k, len(block)))
        sums += members @ block
    return normalise(sums, sums.dtype, empty=previous).astype(np.float32)


def _block_weights(weights: np.ndarray | None, start: int, size: int) -> np.ndarray:
    """Rows start..start+size's weights as float32 (ones without weights)."""
    if weights is None:
        return np.ones(size, dtype=np.float32)
    return np.asarray(weights[start:start + size], dtype=np.float32)


def _scan_update_assign(vectors: np.ndarray, centroids: np.ndarray, nearest: Nearest,
                        progress: Callable[[int], None] | None, weights: np.ndarray | None) -> Clustering:
    """Approximate assignment of all rows, a full-data mean update, and the final assignment.

    Pass 1 scans each row's candidate centroids, picks the nearest exactly and adds the row to
    that cluster's sum; pass 2 picks again among the same candidates with the updated centroids,
    so all rows are scanned once. Rows whose candidates went stale because a centroid moved far
    fit badly, so the exact search of the worst-fitting rows catches most of them.
    """
    from scipy import sparse

    n, k = vectors.shape[0], centroids.shape[0]
    buffer = np.empty((min(n, ASSIGN_BLOCK_ROWS), vectors.shape[1]), dtype=np.float32)
    candidates = np.empty((n, SCAN_CANDIDATES), dtype=np.int32)
    sums = np.zeros(centroids.shape, dtype=np.float64)
    nearest.set(centroids)
    for start in range(0, n, ASSIGN_BLOCK_ROWS):
        block = _read_unit(vectors, start, buffer)
        proposed = nearest.candidates(block)
        _, ids = nearest.among(block, proposed)
        candidates[start:start + len(block)] = proposed
        members = sparse.csr_matrix((_block_weights(weights, start, len(block)), (ids[:, 0], np.arange(len(block)))),
                                    shape=(k, len(block)))
        sums += members @ block
    centroids = normalise(sums, sums.dtype, empty=centroids)
    nearest.set(centroids)
    clusters = np.empty(n, dtype=np.int32)
    similarity = np.empty(n, dtype=np.float32)
    for start in range(0, n, ASSIGN_BLOCK_ROWS):
        block = _read_unit(vectors, start, buffer)
        sims, ids = nearest.among(block, candidates[start:start + len(block)])
        clusters[start:start + len(block)] = ids[:, 0]
        similarity[start:start + len(block)] = sims[:, 0]
        if progress is not None:
            progress(len(block))
    _search_worst_fit(vectors, nearest.centroids, clusters, similarity)
    return Clustering(centroids=nearest.centroids, assignment=clusters, similarity=similarity)


def _search_worst_fit(vectors: np.ndarray, centroids: np.ndarray, clusters: np.ndarray, similarity: np.ndarray) -> None:
    """Exact search, in place, for the EXACT_SHARE of rows that fit their scanned cluster worst.

    A row far from every centroid has many at nearly the same distance, so the scan's 4-bit
    estimates rank its candidates least reliably: at 1M x 384, K = 4096 (d/8 sub-quantizers, 4
    candidates) 97% of the rows whose scanned cluster was not the exact nearest one were among
    the 1% worst-fitting rows.
    """
    rows = np.flatnonzero(similarity <= np.quantile(similarity, EXACT_SHARE))
    index = flat_index(centroids, "cpu")  # the scan, and so this repair of it, runs on the CPU only
    for start in range(0, len(rows), ASSIGN_BLOCK_ROWS):
        chunk = rows[start:start + ASSIGN_BLOCK_ROWS]
        block = normalise(vectors[chunk])
        with threads_for(len(chunk) * len(centroids)):
            sims, ids = index.search(block, 1)
        clusters[chunk] = ids[:, 0]
        similarity[chunk] = sims[:, 0]


def spherical_kmeans(vectors: np.ndarray, k: int, seed: int = 0, iterations: int = TRAIN_ITERATIONS,
                     points_per_centroid: int = TRAIN_POINTS_PER_CENTROID,
                     candidates: np.ndarray | None = None, weights: np.ndarray | None = None,
                     progress: Callable[[int], None] | None = None, device: str | None = None) -> Clustering:
    """Train on a sample (of `candidates`, if given), update every centroid with all its rows, assign all.

    Without `candidates`, `weights` (one per row: how many attributes a distinct text stands for)
    weigh the training sample and the full-data update alike, so clustering the distinct texts
    with their counts is clustering every attribute row.

    The searches run on `device` ('cpu' or 'gpu'; by default kmeans_device()). On a GPU, and on a
    CPU with fewer than SCAN_MIN_CENTROIDS centroids, every assignment is exact. On a CPU with
    more it is approximate: a row's cluster is the nearest of its fast-scan candidates (for the
    worst-fitting 1% of rows: of all centroids), the exact nearest centroid for 99.99% of the
    bench's rows and 99.7% of real MiniLM embeddings (see SCAN_MIN_CENTROIDS); `similarity` is
    always the exact cosine to the assigned centroid.
    """
    device = device or kmeans_device()
    centroids = train_centroids(vectors, k, seed=seed, iterations=iterations, points_per_centroid=points_per_centroid,
                                candidates=candidates, weights=weights, device=device)
    row_weights = weights if candidates is None else None
    nearest = Nearest(vectors.shape[1], len(centroids), centroids, device)
    if nearest.scan is not None:
        return _scan_update_assign(vectors, centroids, nearest, progress, row_weights)
    clusters, _ = assign(vectors, centroids, device=device)
    centroids = mean_directions(vectors, clusters, centroids, row_weights)
    clusters, similarity = assign(vectors, centroids, progress=progress, device=device)
    return Clustering(centroids=centroids, assignment=clusters, similarity=similarity, device=device)


def central_members(clusters: np.ndarray, similarity: np.ndarray, k: int, top: int = 5) -> list[np.ndarray]:
    """Per cluster, the rows of its `top` members closest to the centroid (best first)."""
    order = np.lexsort((-similarity, clusters))  # by cluster, then most similar first
    sorted_clusters = clusters[order]
    starts = np.searchsorted(sorted_clusters, np.arange(k), side="left")
    ends = np.searchsorted(sorted_clusters, np.arange(k), side="right")
    return [order[start:min(end, start + top)] for start, end in zip(starts, ends)]
