"""The INDEX directory: file names, and `Index.open`, which memory-maps tables and embeddings.

Format 2: attribute rows (query_attributes / response_attributes) point by `text_id` into the
distinct texts of their kind (query_texts / response_texts), and the embeddings hold one vector
per distinct text, so disk grows with the distinct texts, not the attribute rows; a query text's
cluster is stored with it and copied onto its rows. Parquet tables are opened lazily (only the
columns asked for are decoded); embeddings and centroids are `.npy` memmaps, never read whole.
Search scans the memmapped text embeddings block by block (surfturf.turf.search), so an index
larger than RAM still answers exactly, and expands each text found into the rows that carry it.
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

INDEX_FORMAT = 2  # 1 (no "format" in the manifest): one embedding row per attribute row, texts inline
MANIFEST = "manifest.json"
EXAMPLES = "examples.parquet"
QUERY_ATTRIBUTES = "query_attributes.parquet"
RESPONSE_ATTRIBUTES = "response_attributes.parquet"
QUERY_TEXTS = "query_texts.parquet"
RESPONSE_TEXTS = "response_texts.parquet"
CLUSTERS = "clusters.parquet"
QUERY_EMBEDDINGS = "embeddings/query.npy"  # one row per distinct query text (QUERY_TEXTS order)
RESPONSE_EMBEDDINGS = "embeddings/response.npy"  # one row per distinct response text
CENTROIDS = "centroids.npy"
RESPONSES_FAISS = "responses.faiss"  # flat inner-product index of RESPONSE_EMBEDDINGS (ids are text ids)
POOL = "pool.jsonl"
ERRORS = "errors.jsonl"
TABLES = (EXAMPLES, QUERY_ATTRIBUTES, RESPONSE_ATTRIBUTES, QUERY_TEXTS, RESPONSE_TEXTS, CLUSTERS)
ARRAYS = (QUERY_EMBEDDINGS, RESPONSE_EMBEDDINGS, CENTROIDS)


def attributes_table(kind: str) -> str:
    """QUERY_ATTRIBUTES or RESPONSE_ATTRIBUTES."""
    return {"query": QUERY_ATTRIBUTES, "response": RESPONSE_ATTRIBUTES}[kind]


def texts_table(kind: str) -> str:
    """QUERY_TEXTS or RESPONSE_TEXTS."""
    return {"query": QUERY_TEXTS, "response": RESPONSE_TEXTS}[kind]


def _rebuild_fix(path: Path) -> str:
    return f"rebuild it with `surfturf index build CORPUS... -o {path}` (a rerun resumes from finished shards)"


def _check_format(path: Path, manifest: dict[str, Any]) -> None:
    """An index written in another format is refused with one line: the fix is a rebuild."""
    found = manifest.get("format", 1)
    if found != INDEX_FORMAT:
        raise UserError(f"index {path} has format {found}; this surfturf reads index format {INDEX_FORMAT} "
                        "(attributes point into distinct texts)",
                        f"rebuild it: `surfturf index build CORPUS... -o NEW_INDEX` (or delete {path} first)")


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
               "response_attributes", "query_texts", "response_texts", "clusters", "empty_clusters"),
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
        self._text_ids: dict[str, np.ndarray] = {}

    @classmethod
    def open(cls, path: Path | str) -> Index:
        """Check every file is present and readable (headers only) and return the index."""
        path = Path(path)
        manifest = read_manifest(path)
        status = manifest.get("status")
        if status != "complete":
            raise UserError(f"index {path} is not complete (status: {status})",
                            "rerun the same `surfturf index build` command to finish it")
        _check_format(path, manifest)
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
        """One unit vector per distinct query text (row i: text_id i); rows map by `text_ids`."""
        return self._array(QUERY_EMBEDDINGS)

    @cached_property
    def response_embeddings(self) -> np.ndarray:
        """One unit vector per distinct response text (row i: text_id i)."""
        return self._array(RESPONSE_EMBEDDINGS)

    def text_ids(self, kind: str) -> np.ndarray:
        """The text id of every attribute row of `kind` (query or response), int64."""
        if kind not in self._text_ids:
            column = self.table(attributes_table(kind), ["text_id"]).column("text_id")
            self._text_ids[kind] = column.to_numpy().astype(np.int64, copy=False)
        return self._text_ids[kind]

    def texts(self, kind: str) -> pa.ChunkedArray:
        """The distinct texts of `kind`, by text id."""
        return self.table(texts_table(kind), ["text"]).column("text")

    def attribute_texts(self, kind: str) -> pa.ChunkedArray:
        """The text of every attribute row of `kind`, in row order (materialised from the distinct texts)."""
        return self.texts(kind).take(pa.array(self.text_ids(kind)))

    @cached_property
    def _response_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Response attribute rows grouped by text: (rows sorted by text id, start of each text's rows)."""
        ids = self.text_ids("response")
        order = np.argsort(ids, kind="stable")
        starts = np.searchsorted(ids[order], np.arange(self.response_embeddings.shape[0] + 1))
        return order, starts

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

    def search_responses(self, vectors: np.ndarray, k: int,
                         matrix: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact cosine top-k over all response attribute rows: (scores, attribute rows), best first.

        The distinct texts are searched (`matrix`: an in-memory copy of the response embeddings,
        else the memmap) and each text found stands for all its rows, in row order; rows are -1
        where fewer than k exist.
        """
        self._check_dim(vectors)
        k = max(1, int(k))
        scores, found = search_blocked(vectors, self.response_embeddings if matrix is None else matrix, k)
        order, starts = self._response_rows
        out_scores = np.full((len(found), k), np.finfo(np.float32).min, dtype=np.float32)
        out_rows = np.full((len(found), k), -1, dtype=np.int64)
        for i, (row_scores, texts) in enumerate(zip(scores, found)):
            row_scores, texts = row_scores[texts >= 0], texts[texts >= 0]
            needed = int(np.searchsorted(np.cumsum(starts[texts + 1] - starts[texts]), k)) + 1
            rows = [order[starts[t]:starts[t + 1]] for t in texts[:needed]]
            if not rows:
                continue
            taken = np.concatenate(rows)[:k]
            out_rows[i, :len(taken)] = taken
            out_scores[i, :len(taken)] = np.repeat(row_scores[:needed], [len(r) for r in rows])[:k]
        return out_scores, out_rows

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
