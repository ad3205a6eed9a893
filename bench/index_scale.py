"""Index scale bench: spherical k-means and exact top-k search on synthetic clustered unit vectors.

Times our path (surfturf.turf.cluster on a float16 memmap, as the index stores embeddings; blocked
exact search) at its default and at a grid of (training points per centroid, iterations), a flat
in-RAM FAISS index, and scikit-learn's MiniBatchKMeans at several (batch size, epochs), its fit
including the labels of all points. Every run's quality is measured the same way on ALL points: the
spherical objective (mean 1 - cosine to the nearest unit centroid; sklearn's centres normalised) and
the inertia. "Equal quality" is the fastest grid run whose objective is at least as good as
sklearn's best. Our assignment of all rows is approximate from SCAN_MIN_CENTROIDS centroids on:
each run reports the share of AGREEMENT_ROWS sampled rows whose cluster is their exact nearest
centroid (exact FAISS search), and the cosine lost on average. Wall and CPU seconds (all threads)
and the load average around every run are printed: on a shared machine compare CPU seconds too.
Last line: one JSON object.

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

from surfturf.turf.cluster import (ASSIGN_BLOCK_ROWS, TRAIN_ITERATIONS, TRAIN_POINTS_PER_CENTROID, Clustering,
                                   assign, spherical_kmeans)
from surfturf.turf.search import normalise_queries, search_blocked

GEN_BLOCK = 65536
AGREEMENT_ROWS = 100_000


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


def agreement(vectors: np.ndarray, clustering: Clustering, seed: int) -> tuple[float, float]:
    """Share of sampled rows assigned to their exact nearest centroid, and the mean cosine lost."""
    rows = np.sort(np.random.default_rng(seed).choice(vectors.shape[0], min(AGREEMENT_ROWS, vectors.shape[0]),
                                                      replace=False))
    exact_clusters, exact_similarity = assign(vectors[rows], clustering.centroids)
    same = float(np.mean(exact_clusters == clustering.assignment[rows]))
    lost = float(np.mean(exact_similarity - clustering.similarity[rows], dtype=np.float64))
    return same, lost


def pairs(text: str) -> list[tuple[int, int]]:
    """"64:10,32:2" -> [(64, 10), (32, 2)]."""
    return [(int(a), int(b)) for a, b in (item.split(":") for item in text.split(",") if item.strip())]


def load() -> float:
    return round(os.getloadavg()[0], 2)


def run_ours(vectors: np.ndarray, k: int, seed: int, points_per_centroid: int, iterations: int) -> dict[str, object]:
    """One timed run of our path (train on a sample, update with and assign all rows), objective on all points."""
    before, t0, c0 = load(), time.perf_counter(), time.process_time()
    clustering = spherical_kmeans(vectors, k, seed=seed, iterations=iterations, points_per_centroid=points_per_centroid)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    after = load()
    same, lost = agreement(vectors, clustering, seed)
    run = {"points_per_centroid": points_per_centroid, "iterations": iterations, "s": round(wall, 2),
           "cpu_s": round(cpu, 2), "objective": round(float(np.mean(1.0 - clustering.similarity, dtype=np.float64)), 5),
           "assignment_agreement": round(same, 5), "assignment_cosine_lost": round(lost, 7),
           "load_before": before, "load_after": after}
    print(f"ours ppc={points_per_centroid} iterations={iterations}: {run['s']} s ({run['cpu_s']} CPU s), "
          f"objective {run['objective']:.5f}, exact nearest centroid for {100 * same:.2f}% of rows "
          f"({lost:.1e} cosine lost), load {before}->{after}", flush=True)
    return run | {"clustering": clustering}


def run_sklearn(vectors: np.ndarray, dense: np.ndarray, k: int, seed: int, batch: int, epochs: int) -> dict[str, object]:
    """One timed MiniBatchKMeans fit (its labels of all points included) and its objective on all points."""
    from sklearn.cluster import MiniBatchKMeans

    before, t0, c0 = load(), time.perf_counter(), time.process_time()
    sk = MiniBatchKMeans(n_clusters=k, batch_size=batch, n_init=1, max_iter=epochs, random_state=seed).fit(dense)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    _, similarity = assign(vectors, normalise_queries(sk.cluster_centers_))
    run = {"batch_size": batch, "epochs": epochs, "epochs_run": int(sk.n_iter_), "s": round(wall, 2),
           "cpu_s": round(cpu, 2), "objective": round(float(np.mean(1.0 - similarity, dtype=np.float64)), 5),
           "inertia": round(float(sk.inertia_), 1), "load_before": before, "load_after": load()}
    print(f"sklearn batch={batch} epochs={epochs} (ran {run['epochs_run']}): {run['s']} s ({run['cpu_s']} CPU s), "
          f"objective {run['objective']:.5f}, inertia {run['inertia']}, load {before}->{run['load_after']}", flush=True)
    return run


def equal_quality(ours: list[dict[str, object]], sklearn: list[dict[str, object]]) -> dict[str, object]:
    """Fastest run of ours at least as good as sklearn's best run, and the speedups (wall and CPU).

    Also the most conservative ratio: for every sklearn run, our fastest run at least as good as it,
    and the smallest of those speedups.
    """
    best = min(sklearn, key=lambda run: run["objective"])
    good = [run for run in ours if run["objective"] <= best["objective"]]
    if not good:
        return {"sklearn_best": best, "kmeans_equal_quality": None}
    fastest = min(good, key=lambda run: run["s"])
    ratios = []
    for run in sklearn:
        matching = [mine for mine in ours if mine["objective"] <= run["objective"]]
        if matching:
            ratios.append(run["s"] / min(mine["s"] for mine in matching))
    return {"sklearn_best": best, "kmeans_equal_quality": fastest,
            "speedup_equal_quality": round(best["s"] / max(fastest["s"], 1e-9), 2),
            "speedup_equal_quality_cpu": round(best["cpu_s"] / max(fastest["cpu_s"], 1e-9), 2),
            "speedup_equal_quality_min_over_sklearn_runs": round(min(ratios), 2)}


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
    parser.add_argument("--grid", type=pairs, default=pairs("16:2,16:3,32:2,32:3,64:10,96:5"),
                        help="our extra (points per centroid:iterations) runs; the default is always run")
    parser.add_argument("--sklearn", type=pairs, default=pairs("1024:1,4096:1,1024:3,4096:3"),
                        help="MiniBatchKMeans (batch size:epochs) runs; 1024 is its default batch size")
    parser.add_argument("--no-sklearn", action="store_true", help="skip MiniBatchKMeans (slow at 1M)")
    args = parser.parse_args()
    result: dict[str, object] = {"n": args.n, "dim": args.dim, "k": args.k, "threads": faiss.omp_get_max_threads(),
                                 "cpus": os.cpu_count(), "load_average_1m": load()}

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        vectors = make_data(Path(tmp) / "x.npy", args.n, args.dim, args.components or args.k, args.spread, args.seed)
        result["generate_s"] = round(time.perf_counter() - t0, 2)
        print(f"data: {args.n} x {args.dim} float16 memmap in {result['generate_s']} s", flush=True)

        default = run_ours(vectors, args.k, args.seed, TRAIN_POINTS_PER_CENTROID, TRAIN_ITERATIONS)
        clustering = default.pop("clustering")
        result.update({"default_points_per_centroid": TRAIN_POINTS_PER_CENTROID,
                       "default_iterations": TRAIN_ITERATIONS, "kmeans_s": default["s"],
                       "kmeans_cpu_s": default["cpu_s"], "objective": default["objective"],
                       "assignment_agreement": default["assignment_agreement"],
                       "assignment_cosine_lost": default["assignment_cosine_lost"],
                       "inertia": round(partition_inertia(vectors, clustering.assignment, args.k), 1)})
        del clustering

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

        ours = [default]
        for points_per_centroid, iterations in args.grid:
            if (points_per_centroid, iterations) != (TRAIN_POINTS_PER_CENTROID, TRAIN_ITERATIONS):
                run = run_ours(vectors, args.k, args.seed, points_per_centroid, iterations)
                del run["clustering"]
                ours.append(run)
        result["ours_runs"] = ours

        if not args.no_sklearn:
            dense = np.asarray(vectors, dtype=np.float32)
            sklearn = [run_sklearn(vectors, dense, args.k, args.seed, batch, epochs) for batch, epochs in args.sklearn]
            del dense
            result["sklearn_runs"] = sklearn
            matched = equal_quality(ours, sklearn)
            best = matched["sklearn_best"]
            result.update({"sklearn_kmeans_s": best["s"], "sklearn_kmeans_cpu_s": best["cpu_s"],
                           "sklearn_objective": best["objective"], "sklearn_inertia": best["inertia"],
                           "sklearn_batch_size": best["batch_size"], "sklearn_epochs": best["epochs"],
                           "speedup_default_vs_sklearn_best": round(best["s"] / max(result["kmeans_s"], 1e-9), 2)})
            result.update({key: value for key, value in matched.items() if key != "sklearn_best"})
            eq = matched["kmeans_equal_quality"]
            print(f"sklearn best: batch {best['batch_size']}, {best['epochs']} epochs, {best['s']} s, objective "
                  f"{best['objective']:.5f}; ours default {result['kmeans_s']} s, objective {result['objective']:.5f}; "
                  + (f"ours at equal quality (ppc {eq['points_per_centroid']}, {eq['iterations']} iterations) "
                     f"{eq['s']} s, objective {eq['objective']:.5f}: {matched['speedup_equal_quality']}x "
                     f"({matched['speedup_equal_quality_cpu']}x in CPU s)" if eq else "no run of ours matched"), flush=True)
    result["load_average_1m_end"] = load()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
