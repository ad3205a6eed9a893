"""Index scale bench: spherical k-means and exact top-k search on synthetic clustered unit vectors.

Times our path (surfturf.turf.cluster on a float16 memmap, as the index stores embeddings; blocked
exact search), a flat in-RAM FAISS index, and scikit-learn's MiniBatchKMeans on the same data with
the same K. Quality for both k-means runs is measured the same way on all points: the spherical
objective (mean 1 - cosine to the nearest unit centroid) and the inertia (sum of squared distances
to each method's own nearest centroid). Wall and CPU seconds are both reported: on a shared machine the CPU seconds (all threads) are
the fairer comparison. Last line: one JSON object.

    python bench/index_scale.py --n 100000 --dim 384 --k 4096
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from surfturf.turf.cluster import ASSIGN_BLOCK_ROWS, assign, spherical_kmeans
from surfturf.turf.search import normalise_queries, search_blocked

GEN_BLOCK = 65536


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_data(path: Path, n: int, dim: int, components: int, spread: float, seed: int) -> np.ndarray:
    """A gaussian mixture on the sphere (components of unequal size) written as a float16 memmap."""
    rng = np.random.default_rng(seed)
    centers = normalise_queries(rng.standard_normal((components, dim)))
    sizes = rng.dirichlet(np.full(components, 2.0))
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, dim))
    for start in range(0, n, GEN_BLOCK):
        m = min(GEN_BLOCK, n - start)
        labels = rng.choice(components, size=m, p=sizes)
        block = centers[labels] + rng.standard_normal((m, dim)).astype(np.float32) * (spread / np.sqrt(dim))
        out[start:start + m] = normalise_queries(block)
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def inertia(vectors: np.ndarray, centroids: np.ndarray) -> float:
    """Sum of squared Euclidean distances to the nearest of `centroids` (sklearn's definition)."""
    index = faiss.IndexFlatL2(centroids.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    total = 0.0
    for start in range(0, vectors.shape[0], ASSIGN_BLOCK_ROWS):
        block = normalise_queries(vectors[start:start + ASSIGN_BLOCK_ROWS])
        distances, _ = index.search(block, 1)
        total += float(distances.sum(dtype=np.float64))
    return total


def partition_inertia(vectors: np.ndarray, clusters: np.ndarray, k: int) -> float:
    """Sum of squared distances to each cluster's mean: n - sum_c |c| * |mean_c|^2 for unit rows."""
    from scipy import sparse

    sums = np.zeros((k, vectors.shape[1]), dtype=np.float64)
    for start in range(0, vectors.shape[0], ASSIGN_BLOCK_ROWS):
        block = normalise_queries(vectors[start:start + ASSIGN_BLOCK_ROWS])
        labels = clusters[start:start + len(block)]
        members = sparse.csr_matrix((np.ones(len(block)), (labels, np.arange(len(block)))), shape=(k, len(block)))
        sums += members @ block
    counts = np.bincount(clusters, minlength=k).astype(np.float64)
    nonempty = counts > 0
    return float(vectors.shape[0] - np.sum(np.sum(sums[nonempty] ** 2, axis=1) / counts[nonempty]))


def match_quality(vectors: np.ndarray, k: int, seed: int, target: float) -> dict[str, float] | None:
    """Our path with the fewest training iterations whose spherical objective is at least as good as `target`."""
    for iterations in (1, 2, 3, 5, 8, 12):
        t0, c0 = time.perf_counter(), time.process_time()
        clustering = spherical_kmeans(vectors, k, seed=seed, iterations=iterations)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        objective = float(np.mean(1.0 - clustering.similarity, dtype=np.float64))
        if objective <= target:
            return {"kmeans_equal_quality_iterations": iterations, "kmeans_equal_quality_s": round(wall, 2),
                    "kmeans_equal_quality_cpu_s": round(cpu, 2), "kmeans_equal_quality_objective": objective}
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=4096)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--topk", type=int, default=1000)
    parser.add_argument("--components", type=int, default=0, help="mixture components (default: k)")
    parser.add_argument("--spread", type=float, default=1.0, help="within-component noise scale")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-sklearn", action="store_true", help="skip MiniBatchKMeans (slow at 1M)")
    parser.add_argument("--sklearn-batch", type=int, default=4096)
    parser.add_argument("--sklearn-epochs", type=int, default=20,
                        help="MiniBatchKMeans max_iter (passes over the data)")
    args = parser.parse_args()
    result: dict[str, object] = {"n": args.n, "dim": args.dim, "k": args.k, "threads": faiss.omp_get_max_threads(),
                                 "load_average_1m": round(os.getloadavg()[0], 2)}

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        vectors = make_data(Path(tmp) / "x.npy", args.n, args.dim, args.components or args.k, args.spread, args.seed)
        result["generate_s"] = round(time.perf_counter() - t0, 2)
        print(f"data: {args.n} x {args.dim} float16 memmap in {result['generate_s']} s", flush=True)

        t0, c0 = time.perf_counter(), time.process_time()
        clustering = spherical_kmeans(vectors, args.k, seed=args.seed)
        result["kmeans_s"] = round(time.perf_counter() - t0, 2)
        result["kmeans_cpu_s"] = round(time.process_time() - c0, 2)
        result["objective"] = float(np.mean(1.0 - clustering.similarity, dtype=np.float64))
        result["inertia"] = partition_inertia(vectors, clustering.assignment, args.k)
        print(f"ours: k-means {result['kmeans_s']} s, objective {result['objective']:.5f}, "
              f"inertia {result['inertia']:.1f}", flush=True)

        rng = np.random.default_rng(args.seed + 1)
        queries = normalise_queries(vectors[np.sort(rng.choice(args.n, args.queries, replace=False))].astype(np.float32)
                                    + rng.standard_normal((args.queries, args.dim)).astype(np.float32) * 0.02)
        t0, c0 = time.perf_counter(), time.process_time()
        scores, rows = search_blocked(queries, vectors, args.topk)
        search_s = time.perf_counter() - t0
        result["search_s_per_query"] = round(search_s / args.queries, 5)
        result["search_cpu_s_per_query"] = round((time.process_time() - c0) / args.queries, 5)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)

        t0 = time.perf_counter()
        flat = faiss.IndexFlatIP(args.dim)
        for start in range(0, args.n, ASSIGN_BLOCK_ROWS):
            flat.add(np.ascontiguousarray(vectors[start:start + ASSIGN_BLOCK_ROWS], dtype=np.float32))
        result["flat_load_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        flat_scores, flat_rows = flat.search(queries, args.topk)
        result["flat_search_s_per_query"] = round((time.perf_counter() - t0) / args.queries, 5)
        result["search_agrees_with_flat"] = bool(np.allclose(np.sort(scores, axis=1), np.sort(flat_scores, axis=1), atol=1e-5))
        del flat
        print(f"search top-{args.topk}: blocked memmap {result['search_s_per_query']} s/query, "
              f"flat in RAM {result['flat_search_s_per_query']} s/query (+{result['flat_load_s']} s load), "
              f"same scores: {result['search_agrees_with_flat']}", flush=True)

        if not args.no_sklearn:
            from sklearn.cluster import MiniBatchKMeans

            dense = np.asarray(vectors, dtype=np.float32)
            t0, c0 = time.perf_counter(), time.process_time()
            sk = MiniBatchKMeans(n_clusters=args.k, batch_size=args.sklearn_batch, n_init=1,
                                 max_iter=args.sklearn_epochs, random_state=args.seed).fit(dense)
            result["sklearn_kmeans_s"] = round(time.perf_counter() - t0, 2)
            result["sklearn_kmeans_cpu_s"] = round(time.process_time() - c0, 2)
            result["sklearn_iterations"] = int(sk.n_iter_)
            del dense
            _, sk_similarity = assign(vectors, normalise_queries(sk.cluster_centers_))
            result["sklearn_objective"] = float(np.mean(1.0 - sk_similarity, dtype=np.float64))
            result["sklearn_inertia"] = inertia(vectors, sk.cluster_centers_)
            result["speedup"] = round(result["sklearn_kmeans_s"] / max(result["kmeans_s"], 1e-9), 2)
            result["speedup_cpu"] = round(result["sklearn_kmeans_cpu_s"] / max(result["kmeans_cpu_s"], 1e-9), 2)
            print(f"sklearn MiniBatchKMeans: {result['sklearn_kmeans_s']} s ({sk.n_iter_} epochs), objective "
                  f"{result['sklearn_objective']:.5f}, inertia {result['sklearn_inertia']:.1f}; "
                  f"ours is {result['speedup']}x faster", flush=True)
            matched = match_quality(vectors, args.k, args.seed, result["sklearn_objective"])
            if matched is not None:
                result.update(matched)
                result["speedup_equal_quality"] = round(
                    result["sklearn_kmeans_s"] / max(matched["kmeans_equal_quality_s"], 1e-9), 2)
                result["speedup_equal_quality_cpu"] = round(
                    result["sklearn_kmeans_cpu_s"] / max(matched["kmeans_equal_quality_cpu_s"], 1e-9), 2)
                print(f"ours reaches sklearn's objective with {matched['kmeans_equal_quality_iterations']} "
                      f"iterations: {matched['kmeans_equal_quality_s']} s "
                      f"({matched['kmeans_equal_quality_cpu_s']} CPU s)", flush=True)
    result["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
