"""Response-style inventory learned from the training responses alone.

A response's skeleton masks what it copies from its query and its numbers, so responses built
the same way look alike whatever their content; k-means over hashed skeleton n-grams groups them
into styles the target's router can choose between.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

import numpy as np

from surfturf.models.providers.base import normalise

SKELETON_DIM = 512
WORD = re.compile(r"\w+", re.UNICODE)


def skeleton(query: str, response: str, common: set[str]) -> list[str]:
    """Response words with query words as `<q>`, numbers as `<n>` and rare words as `<w>`."""
    query_words = {w.lower() for w in WORD.findall(query)}
    out = []
    for word in WORD.findall(response):
        low = word.lower()
        if low.isdigit():
            out.append("<n>")
        elif low in query_words:
            out.append("<q>")
        else:
            out.append(low if low in common else "<w>")
    return out


def skeleton_vectors(pairs: list[tuple[str, str]], min_share: float = 0.015) -> np.ndarray:
    """L2-normalised hashed features of each skeleton's shape: its first and last four words by
    position (where templates differ most) and, lightly weighted, its common words.

    Words in fewer than `min_share` of the responses are content, not form, so they are masked.
    """
    df = Counter(w for _, response in pairs for w in {w.lower() for w in WORD.findall(response)})
    common = {w for w, count in df.items() if count >= min_share * len(pairs)}
    matrix = np.zeros((len(pairs), SKELETON_DIM), dtype=np.float32)
    for row, (query, response) in enumerate(pairs):
        words = skeleton(query, response, common)
        grams = [(f"^{i}:{w}", 1.0) for i, w in enumerate(words[:4])]
        grams += [(f"${i}:{w}", 1.0) for i, w in enumerate(reversed(words[-4:]))]
        grams += [(f"w:{w}", 0.3) for w in set(words) if w not in ("<q>", "<w>", "<n>")]
        for gram, weight in grams:
            matrix[row, zlib.crc32(gram.encode("utf-8")) % SKELETON_DIM] += weight
    return normalise(np.sqrt(matrix))


def kmeans(vectors: np.ndarray, k: int, seed: int, iterations: int = 20) -> np.ndarray:
    """Cluster labels by spherical k-means with k-means++ seeding (numpy, deterministic per seed)."""
    rng = np.random.default_rng(seed)
    n = len(vectors)
    k = min(k, n)
    centres = [vectors[rng.integers(n)]]
    dist = 1.0 - vectors @ centres[0]
    for _ in range(1, k):
        weights = np.maximum(dist, 0.0) ** 2
        total = float(weights.sum())
        pick = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
        centres.append(vectors[pick])
        dist = np.minimum(dist, 1.0 - vectors @ vectors[pick])
    centre_matrix = np.stack(centres)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        new = np.argmax(vectors @ centre_matrix.T, axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for c in range(k):
            members = vectors[labels == c]
            if len(members):
                centre_matrix[c] = normalise(members.sum(axis=0))
    _, compact = np.unique(labels, return_inverse=True)
    return compact.astype(np.int64)
