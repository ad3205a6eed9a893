"""`hash/<dim>`: a dependency-free embedder (words and character n-grams hashed into signed buckets)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from surfturf.errors import UserError
from surfturf.models.providers.base import Provider, normalise

_WORD = re.compile(r"\w+", re.UNICODE)
_NGRAMS = (3, 4)
_NGRAM_WEIGHT = 0.5
_CACHE_LIMIT = 200_000


class HashingEmbedder:
    """Deterministic across processes (blake2b, never Python's salted hash); per-word features are memoised."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._features: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _bucket(self, feature: str) -> tuple[int, float]:
        value = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
        return value % self.dim, (1.0 if value >> 63 else -1.0)

    def word_features(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Bucket indices and signed weights for one word: the word itself plus its padded 3- and 4-grams."""
        cached = self._features.get(word)
        if cached is not None:
            return cached
        padded = f"<{word}>"
        items = [self._bucket("w:" + word) + (1.0,)]
        for n in _NGRAMS:
            items.extend(
                self._bucket(f"c{n}:{padded[i:i + n]}") + (_NGRAM_WEIGHT,) for i in range(max(1, len(padded) - n + 1))
            )
        index = np.array([bucket for bucket, _, _ in items], dtype=np.int64)
        weight = np.array([sign * scale for _, sign, scale in items], dtype=np.float32)
        if len(self._features) >= _CACHE_LIMIT:
            self._features.clear()
        self._features[word] = (index, weight)
        return index, weight

    def embed(self, texts: list[str]) -> np.ndarray:
        """n x dim float32, L2-normalised; an empty text is a zero row."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            if not words:
                continue
            parts = [self.word_features(word) for word in words]
            index = np.concatenate([p[0] for p in parts])
            weight = np.concatenate([p[1] for p in parts])
            np.add.at(out[row], index, weight)
        return normalise(out)


class HashingProvider(Provider):
    """The embedder role with no model at all: fast, free, reproducible; good enough for tests and the world."""

    cacheable = False
    metered = False

    def __init__(self, endpoint, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(endpoint, timeout_s)
        try:
            dim = int(endpoint.spec.model)
        except ValueError:
            dim = 0
        if dim < 8:
            raise UserError(f"hash embedder dimension {endpoint.spec.model!r} is not an integer >= 8",
                            "use e.g. hash/384")
        self.embedder = HashingEmbedder(dim)

    async def embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        return self.embedder.embed(texts), 0
