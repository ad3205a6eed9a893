"""Spherical k-means, central members and blocked exact search on small synthetic vectors."""

from __future__ import annotations

import numpy as np

from surfturf.turf import nearest
from surfturf.turf.cluster import _swap, assign, central_members, default_k, spherical_kmeans
from surfturf.turf.search import normalise_queries, search_blocked


def _mixture(n: int, dim: int, components: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = normalise_queries(rng.standard_normal((components, dim)))
    labels = rng.integers(0, components, n)
    return normalise_queries(centers[labels] + 0.1 * rng.standard_normal((n, dim))), labels


def test_default_k_scales_like_the_paper() -> None:
    assert default_k(9_400_000) == 23_500  # the paper: 25k clusters for 9.4M attributes
    assert default_k(343_100) == round(2 * 343_100 ** 0.5)
    assert default_k(40) == 10 and default_k(3) == 1 and default_k(0) == 0


def test_kmeans_recovers_planted_clusters_from_a_float16_memmap(tmp_path) -> None:
    vectors, labels = _mixture(3000, 32, 12)
    np.save(tmp_path / "x.npy", vectors.astype(np.float16))
    memmap = np.load(tmp_path / "x.npy", mmap_mode="r")
    clustering = spherical_kmeans(memmap, 12, seed=1, points_per_centroid=100)
    assert clustering.centroids.shape == (12, 32)
    assert np.allclose(np.linalg.norm(clustering.centroids, axis=1), 1.0, atol=1e-5)
    # every planted component lands (almost) entirely in one cluster
    purity = sum(np.bincount(clustering.assignment[labels == c]).max() for c in range(12)) / len(labels)
    assert purity > 0.95
    again, _ = assign(memmap, clustering.centroids)
    assert np.array_equal(again, clustering.assignment)


def test_central_members_are_closest_first() -> None:
    clusters = np.array([1, 0, 1, 1, 0], dtype=np.int32)
    similarity = np.array([0.5, 0.9, 0.8, 0.7, 0.95], dtype=np.float32)
    members = central_members(clusters, similarity, 3, top=2)
    assert [m.tolist() for m in members] == [[4, 1], [2, 3], []]


def test_blocked_search_equals_brute_force_across_blocks() -> None:
    vectors, _ = _mixture(1000, 16, 5, seed=3)
    stored = vectors.astype(np.float16)
    queries = vectors[:4] + 0.05
    scores, rows = search_blocked(queries, stored, 30, block_rows=128)
    brute = normalise_queries(queries) @ stored.astype(np.float32).T
    expected = np.argsort(-brute, axis=1, kind="stable")[:, :30]
    assert np.allclose(scores, np.take_along_axis(brute, expected, 1), atol=1e-5)
    assert np.allclose(np.take_along_axis(brute, rows, 1), scores, atol=1e-5)
    few_scores, few_rows = search_blocked(queries, stored[:7], 10)
    assert (few_rows[:, 7:] == -1).all() and sorted(few_rows[0, :7].tolist()) == list(range(7))


def test_weighted_distinct_training_gives_frequent_texts_their_own_clusters() -> None:
    rng = np.random.default_rng(5)
    a, b = normalise_queries(rng.standard_normal((2, 16)))
    b = normalise_queries(a + 0.9 * b)[0]  # a near neighbour of a (cosine ~0.75)
    rare = normalise_queries(rng.standard_normal((1, 16)) + 0.3 * rng.standard_normal((60, 16)))
    distinct = np.vstack([a, b, rare])
    counts = np.array([2000, 1500] + [1] * 60)
    vectors = np.repeat(distinct, counts, axis=0)  # the corpus: each distinct text repeated count times
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    clustering = spherical_kmeans(vectors, 4, seed=0, candidates=first, weights=counts)
    heavy_a, heavy_b = clustering.assignment[0], clustering.assignment[2000]
    assert heavy_a != heavy_b
    assert np.bincount(clustering.assignment, minlength=4).min() > 0  # no empty twin centroids


def test_assign_ignores_row_length_and_reports_cosine() -> None:
    vectors, _ = _mixture(2000, 24, 8, seed=7)
    centroids = normalise_queries(vectors[:8])
    scaled = vectors * np.random.default_rng(1).uniform(0.1, 10.0, (len(vectors), 1)).astype(np.float32)
    scaled[5] = 0.0
    clusters, similarity = assign(scaled.astype(np.float16), centroids)
    cosine = normalise_queries(scaled.astype(np.float16)) @ centroids.T
    assert np.array_equal(clusters[np.arange(2000) != 5], cosine.argmax(axis=1)[np.arange(2000) != 5])
    assert np.allclose(similarity, cosine.max(axis=1), atol=1e-5)
    assert similarity[5] == 0.0


def test_a_small_training_sample_still_finds_the_planted_clusters() -> None:
    vectors, labels = _mixture(6000, 32, 12, seed=2)
    clustering = spherical_kmeans(vectors, 12, seed=0, points_per_centroid=16, iterations=5)
    purity = sum(np.bincount(clustering.assignment[labels == c]).max() for c in range(12)) / len(labels)
    assert purity > 0.9
    assert np.isclose(np.mean(clustering.similarity), np.mean(np.max(vectors @ clustering.centroids.T, axis=1)),
                      atol=1e-5)  # the objective is over ALL rows, not just the 192 trained on


def _purity(assignment: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows in the majority cluster of their planted component, each cluster counted once."""
    majority = {c: np.bincount(assignment[labels == c]).argmax() for c in np.unique(labels)}
    if len(set(majority.values())) < len(majority):
        return 0.0  # two components share a cluster
    return sum(np.sum(assignment[labels == c] == m) for c, m in majority.items()) / len(labels)


def test_swap_moves_a_twin_centroid_onto_two_merged_components() -> None:
    rng = np.random.default_rng(11)
    centers = normalise_queries(rng.standard_normal((3, 32)))
    labels = np.repeat(np.arange(3), 60)
    rows = normalise_queries(centers[labels] + 0.15 * rng.standard_normal((180, 32)))
    twins = normalise_queries(centers[[0, 0]] + 0.05 * rng.standard_normal((2, 32)))
    merged = normalise_queries(centers[1] + centers[2])
    centroids = np.vstack([twins, merged]).astype(np.float32)
    sims = rows @ centroids.T
    ids = np.argsort(-sims, axis=1)[:, :2]
    swapped = _swap(rows, np.ones(len(rows)), centroids, np.take_along_axis(sims, ids, 1), ids)
    assert _purity((rows @ swapped.T).argmax(axis=1), labels) == 1.0


def test_swaps_give_every_planted_component_its_own_cluster() -> None:
    rng = np.random.default_rng(4)
    centers = normalise_queries(rng.standard_normal((40, 48)))
    labels = rng.integers(0, 40, 8000)
    vectors = normalise_queries(centers[labels] + 0.2 * rng.standard_normal((8000, 48)))
    # 40 random seeds leave ~14 of 40 components without one; Lloyd alone never recovers them
    clustering = spherical_kmeans(vectors, 40, seed=3, iterations=10)
    assert _purity(clustering.assignment, labels) > 0.99


def test_fast_scan_assignment_on_hierarchical_clusters(monkeypatch) -> None:
    """Sub-clusters around shared super-centres (siblings at cosine ~0.6): the approximate path."""
    monkeypatch.setattr(nearest, "SCAN_MIN_CENTROIDS", 16)
    rng = np.random.default_rng(8)
    supers = normalise_queries(rng.standard_normal((6, 64)))
    subs = normalise_queries(np.repeat(supers, 8, axis=0) + 0.8 * normalise_queries(rng.standard_normal((48, 64))))
    labels = rng.integers(0, 48, 12000)
    vectors = normalise_queries(subs[labels] + 0.35 * normalise_queries(rng.standard_normal((12000, 64))))
    assert nearest.Nearest(64, 48, subs).scan is not None  # the fast scan, not exact search
    clustering = spherical_kmeans(vectors.astype(np.float16), 48, seed=0, iterations=10)
    exact, _ = assign(vectors.astype(np.float16), clustering.centroids)
    assert np.mean(exact == clustering.assignment) > 0.995
    stored = normalise_queries(vectors.astype(np.float16))
    cosine = np.einsum("ij,ij->i", stored, clustering.centroids[clustering.assignment])
    assert np.allclose(clustering.similarity, cosine, atol=1e-5)  # exact cosine to the chosen centroid
    assert _purity(clustering.assignment, labels) > 0.98


def test_kmeans_runs_on_a_gpu_only_when_faiss_can(monkeypatch) -> None:
    import faiss

    can = hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
    assert nearest.kmeans_device() == ("gpu" if can else "cpu")
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 1)
    monkeypatch.delattr(faiss, "StandardGpuResources", raising=False)
    assert nearest.kmeans_device() == "cpu"  # a CPU-only FAISS build that reports a GPU cannot use it
    monkeypatch.setattr(faiss, "StandardGpuResources", object, raising=False)
    assert nearest.kmeans_device() == "gpu"
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 0)
    assert nearest.kmeans_device() == "cpu"


def test_gpu_kmeans_searches_exactly_on_the_gpu_index(monkeypatch) -> None:
    """With many centroids the CPU path assigns by the approximate fast scan; the GPU path searches a
    flat GPU index exactly. FAISS's GPU flat index is stood in for by its CPU twin (same exact
    search), so what is checked is that every search goes to it and the result is exact."""
    import faiss

    made = []

    def gpu_flat(resources: object, dim: int) -> faiss.IndexFlatIP:
        made.append(dim)
        return faiss.IndexFlatIP(dim)

    monkeypatch.setattr(faiss, "StandardGpuResources", object, raising=False)
    monkeypatch.setattr(faiss, "GpuIndexFlatIP", gpu_flat, raising=False)
    monkeypatch.setattr(nearest, "_gpu_resources", lambda: object())
    vectors, _ = _mixture(6000, 16, 300, seed=2)
    k = nearest.SCAN_MIN_CENTROIDS + 76
    assert nearest.assignment_is_approximate(k, 16, "cpu") and not nearest.assignment_is_approximate(k, 16, "gpu")
    clustering = spherical_kmeans(vectors, k, seed=0, points_per_centroid=4, iterations=3, device="gpu")
    assert clustering.device == "gpu" and made and set(made) == {16}
    exact = np.argmax(vectors @ clustering.centroids.T, axis=1)
    assert np.array_equal(clustering.assignment, exact)
    assert spherical_kmeans(vectors[:500], 8, seed=0, device="cpu").device == "cpu"
