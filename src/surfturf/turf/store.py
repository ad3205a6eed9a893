"""The INDEX directory: file names, and `Index.open`, which memory-maps tables and embeddings.

Parquet tables are opened lazily (only the columns asked for are decoded); embeddings and
centroids are `.npy` memmaps, never read whole. Search scans the memmapped response embeddings
block by block (surfturf.turf.search), so an index larger than RAM still answers exactly.
"""

from __future__ import annotations

import asyncio
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from surfturf.errors import UserError
from surfturf.turf.search import normalise_queries, search_blocked

MANIFEST = "manifest.json"
EXAMPLES = "examples.parquet"
QUERY_ATTRIBUTES = "query_attributes.parquet"
RESPONSE_ATTRIBUTES = "response_attributes.parquet"
CLUSTERS = "clusters.parquet"
QUERY_EMBEDDINGS = "embeddings/query.npy"
RESPONSE_EMBEDDINGS = "embeddings/response.npy"
CENTROIDS = "centroids.npy"
RESPONSES_FAISS = "responses.faiss"
POOL = "pool.jsonl"
ERRORS = "errors.jsonl"
TABLES = (EXAMPLES, QUERY_ATTRIBUTES, RESPONSE_ATTRIBUTES, CLUSTERS)
ARRAYS = (QUERY_EMBEDDINGS, RESPONSE_EMBEDDINGS, CENTROIDS)


def _rebuild_fix(path: Path) -> str:
    return f"rebuild it with `surfturf index build CORPUS... -o {path}` (a rerun resumes from finished shards)"


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an INDEX directory; a UserError names the file when it is missing or corrupt."""
    file = Path(path) / MANIFEST
    if not Path(path).is_dir():
        raise UserError(f"index {path} does not exist", "build one with `surfturf index build CORPUS... -o INDEX`")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"index {path} has no {MANIFEST}", _rebuild_fix(Path(path))) from None
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"index file {file} is corrupt ({error})", _rebuild_fix(Path(path))) from None


# What readers of an index take from its manifest; an edited manifest missing one is refused on open.
REQUIRED: dict[str, tuple[str, ...]] = {
    "models": ("extractor", "embedder", "summariser"),
    "embeddings": ("dim", "dtype"),
    "counts": ("examples", "multi_turn", "extraction_errors", "sources", "query_attributes",
               "response_attributes", "clusters", "empty_clusters"),
}


def _check_manifest(index: Index) -> None:
    """The manifest has every field readers use, and its sizes match the files (dim, clusters)."""
    manifest, file = index.manifest, index.path / MANIFEST
    missing = [key for key in ("created", "version") if key not in manifest]
    for section, keys in REQUIRED.items():
        block = manifest.get(section)
        missing += [f"{section}.{key}" for key in keys if not isinstance(block, dict) or key not in block]
    if missing:
        raise UserError(f"index manifest {file} lacks {', '.join(missing)} (edited or corrupt)", _rebuild_fix(index.path))
    embeddings, counts = manifest["embeddings"], manifest["counts"]
    width = index._array(QUERY_EMBEDDINGS).shape[-1]
    clusters = index._array(CENTROIDS).shape[0]
    if embeddings["dim"] != width or counts["clusters"] != clusters or not isinstance(counts["sources"], dict):
        raise UserError(f"index manifest {file} disagrees with its files (dim {embeddings['dim']!r} vs {width}, "
                        f"clusters {counts['clusters']!r} vs {clusters})", _rebuild_fix(index.path))


class Index:
    """A built index, opened read-only: tables, embeddings, centroids, search and cluster assignment."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest

    @classmethod
    def open(cls, path: Path | str) -> Index:
        """Check every file is present and readable (headers only) and return the index."""
        path = Path(path)
        manifest = read_manifest(path)
        status = manifest.get("status")
        if status != "complete":
            raise UserError(f"index {path} is not complete (status: {status})",
                            "rerun the same `surfturf index build` command to finish it")
        index = cls(path, manifest)
        for name in TABLES:
            index._parquet(name)
        for name in ARRAYS:
            index._array(name)
        _check_manifest(index)
        return index

    # -- files -----------------------------------------------------------------------------------

    def _parquet(self, name: str) -> pq.ParquetFile:
        file = self.path / name
        try:
            return pq.ParquetFile(file, memory_map=True)
        except FileNotFoundError:
            raise UserError(f"index file {file} is missing", _rebuild_fix(self.path)) from None
        except (OSError, pa.ArrowException) as error:
            raise UserError(f"index file {file} is corrupt ({error})", _rebuild_fix(self.path)) from None

    def _array(self, name: str) -> np.ndarray:
        file = self.path / name
        try:
            return np.load(file, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise UserError(f"index file {file} is missing", _rebuild_fix(self.path)) from None
        except (OSError, ValueError) as error:
            raise UserError(f"index file {file} is corrupt ({error})", _rebuild_fix(self.path)) from None

    def table(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """One Parquet table (e.g. QUERY_ATTRIBUTES), only the columns asked for, memory-mapped."""
        try:
            return self._parquet(name).read(columns=columns, use_threads=True)
        except (OSError, pa.ArrowException) as error:
            raise UserError(f"index file {self.path / name} is corrupt ({error})", _rebuild_fix(self.path)) from None

    @cached_property
    def examples(self) -> pa.Table:
        return self.table(EXAMPLES)

    @cached_property
    def query_attributes(self) -> pa.Table:
        return self.table(QUERY_ATTRIBUTES)

    @cached_property
    def response_attributes(self) -> pa.Table:
        return self.table(RESPONSE_ATTRIBUTES)

    @cached_property
    def clusters(self) -> pa.Table:
        return self.table(CLUSTERS)

    @cached_property
    def query_embeddings(self) -> np.ndarray:
        return self._array(QUERY_EMBEDDINGS)

    @cached_property
    def response_embeddings(self) -> np.ndarray:
        return self._array(RESPONSE_EMBEDDINGS)

    @cached_property
    def centroids(self) -> np.ndarray:
        return np.asarray(self._array(CENTROIDS), dtype=np.float32)

    @cached_property
    def cluster_summaries(self) -> list[str]:
        """Summary text per cluster id."""
        return self.table(CLUSTERS, ["summary"]).column("summary").to_pylist()

    # -- facts from the manifest --------------------------------------------------------------------

    @property
    def embedder_spec(self) -> str:
        return self.manifest["models"]["embedder"]

    @property
    def dim(self) -> int:
        return int(self.manifest["embeddings"]["dim"])

    @property
    def n_clusters(self) -> int:
        return int(self.manifest["counts"]["clusters"])

    # -- vectors ------------------------------------------------------------------------------------

    async def aembed(self, texts: list[str], session: Any | None = None) -> np.ndarray:
        """Unit vectors for `texts` from the embedder that built this index (for async callers)."""
        from surfturf.models import ModelSession

        own = session is None
        session = session or ModelSession(cache_dir=None, cache_mode="off")
        try:
            result = await session.model("embedder", self.embedder_spec).embed(list(texts))
        finally:
            if own:
                await session.aclose()
        if result.error:
            raise UserError(f"embedding with {self.embedder_spec} failed: {result.error}",
                            "check the embedder this index was built with is reachable")
        return normalise_queries(result.vectors)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Synchronous `aembed` for scripts and notebooks (not for use inside a running event loop)."""
        return asyncio.run(self.aembed(texts))

    def search_responses(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact cosine top-k over all response attributes: (scores, attribute rows), best first."""
        self._check_dim(vectors)
        return search_blocked(vectors, self.response_embeddings, k)

    def assign_clusters(self, vectors: np.ndarray) -> np.ndarray:
        """The nearest query-attribute cluster (by cosine) for each vector, int32."""
        import faiss

        self._check_dim(vectors)
        index = faiss.IndexFlatIP(self.centroids.shape[1])
        index.add(self.centroids)
        _, ids = index.search(normalise_queries(vectors), 1)
        return ids[:, 0].astype(np.int32)

    def _check_dim(self, vectors: np.ndarray) -> None:
        width = np.atleast_2d(vectors).shape[1]
        if width != self.dim:
            raise UserError(f"vectors of width {width} do not match index {self.path} (width {self.dim}, "
                            f"embedder {self.embedder_spec})", "embed with the index's embedder (Index.embed)")
