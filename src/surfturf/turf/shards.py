"""The map step of an index build: one shard of rows -> attributes, embeddings and a finished shard folder.

A shard is written to `<name>.tmp/` and renamed into place only when complete, so the folder's
existence is the done marker: a killed build loses at most the shard in flight. Each kind's
attribute rows point (`text_id`) into the shard's distinct texts, and only those are embedded:
corpora repeat attribute texts verbatim, so vectors per row would repeat the same few rows.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from surfturf.attributes.extract import Extraction, extract_attributes, heuristic_extract
from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.data.rows import CorpusRow
from surfturf.errors import UserError
from surfturf.models import is_transient

EMBED_CHUNK = 2048
PROGRESS_ROWS = 256  # offline extraction reports progress in blocks: a bar update per row costs more than the row
DONE_FILE = "done.json"
KINDS = ("query", "response")


def attributes_file(kind: str) -> str:
    """A shard's rows of one kind: example (in the shard), position, text_id (into the shard's texts)."""
    return f"{kind}_attributes.parquet"


def texts_file(kind: str) -> str:
    """A shard's distinct texts of one kind, in order of first appearance; row i has vector i."""
    return f"{kind}_texts.parquet"


def vectors_file(kind: str) -> str:
    return f"{kind}.npy"


class BuildStopped(Exception):
    """The model layer refused more work (budget) or failed for good; the shard in flight is dropped."""


@dataclass
class Extractor:
    """Heuristic (offline) when `model` is None, else an LLM through the model layer.

    `offline` is the heuristic extractor with the lexicons fitted on the corpus (IndexBuilder fits it).
    """

    model: Any | None = None
    offline: OfflineExtractor | None = None

    @property
    def spec(self) -> str:
        return "heuristic" if self.model is None else self.model.spec

    async def run(self, rows: list[CorpusRow], on_rows: Callable[[int], None]) -> list[tuple[Extraction, Extraction]]:
        """Both extractions of every row; `on_rows(n)` as rows finish (every PROGRESS_ROWS offline)."""
        if self.model is None:
            out = []
            for row in rows:
                out.append((heuristic_extract(row.query, "query", self.offline),
                            heuristic_extract(row.response, "response", self.offline)))
                if len(out) % PROGRESS_ROWS == 0:
                    on_rows(PROGRESS_ROWS)
            on_rows(len(out) % PROGRESS_ROWS)
            return out

        async def one(row: CorpusRow) -> tuple[Extraction, Extraction]:
            pair = await asyncio.gather(extract_attributes(self.model, row.query, "query"),
                                        extract_attributes(self.model, row.response, "response"))
            on_rows(1)
            return pair[0], pair[1]

        return list(await asyncio.gather(*(one(row) for row in rows)))


async def embed_texts(embedder: Any, texts: list[str]) -> np.ndarray:
    """Unit float32 vectors for `texts` (already distinct), in chunks of EMBED_CHUNK."""
    parts = []
    for start in range(0, len(texts), EMBED_CHUNK):
        result = await embedder.embed(texts[start:start + EMBED_CHUNK])
        if result.error:
            raise BuildStopped(f"embedder {embedder.spec}: {result.error}")
        parts.append(result.vectors)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


def _attribute_table(extractions: list[Extraction]) -> tuple[pa.Table, list[str]]:
    """The rows of one kind (example, position, text_id) and the distinct texts they point into,
    numbered in order of first appearance."""
    lengths = np.fromiter((len(e.attributes) for e in extractions), dtype=np.int64, count=len(extractions))
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    encoded = pc.dictionary_encode(pa.array([text for e in extractions for text in e.attributes], pa.string()))
    table = pa.table({"example": pa.array(np.repeat(np.arange(len(extractions)), lengths), pa.int64()),
                      "position": pa.array(np.arange(len(starts)) - starts, pa.int8()),
                      "text_id": encoded.indices.cast(pa.int32())})
    return table, encoded.dictionary.to_pylist()


def _stopping_error(extractions: list[tuple[Extraction, Extraction]]) -> str | None:
    """A budget refusal or a transient failure left after retries (the endpoint did not answer, which
    says nothing about the row) means the shard is incomplete: stop rather than store rows without
    attributes as final, so a rerun redoes the shard."""
    for pair in extractions:
        for extraction in pair:
            if extraction.error and (extraction.error.startswith("budget:") or is_transient(extraction.error)):
                return extraction.error
    return None


async def build_shard(folder: Path, rows: list[CorpusRow], extractor: Extractor, embedder: Any,
                      dtype: str, on_rows: Callable[[int], None]) -> dict[str, Any]:
    """Extract, embed and write one shard; returns the shard's counts (also saved as done.json)."""
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    extractions = await extractor.run(rows, on_rows)
    stop = _stopping_error(extractions)
    if stop:
        raise BuildStopped(stop)
    queries = [pair[0] for pair in extractions]
    responses = [pair[1] for pair in extractions]
    tables = {kind: _attribute_table(side) for kind, side in zip(KINDS, (queries, responses))}
    vectors = {kind: await embed_texts(embedder, texts) for kind, (_, texts) in tables.items()}
    dims = {matrix.shape[1] for matrix in vectors.values() if matrix.size}
    if any(not np.isfinite(matrix).all() for matrix in vectors.values()):
        raise BuildStopped(f"embedder {embedder.spec} returned non-finite values")
    if len(dims) > 1:
        raise BuildStopped(f"embedder {embedder.spec} returned vectors of widths {sorted(dims)}")
    dim = dims.pop() if dims else 0
    tmp.mkdir(parents=True)
    examples = pa.table({
        "id": [row.id for row in rows], "source": [row.source for row in rows],
        "query": [row.query for row in rows], "response": [row.response for row in rows],
        "multi_turn": [row.multi_turn for row in rows],
        "query_error": pa.array([q.error for q in queries], pa.string()),
        "response_error": pa.array([r.error for r in responses], pa.string()),
    })
    pq.write_table(examples, tmp / "examples.parquet")
    for kind, (table, texts) in tables.items():
        pq.write_table(table, tmp / attributes_file(kind))
        pq.write_table(pa.table({"text": pa.array(texts, pa.string())}), tmp / texts_file(kind))
        np.save(tmp / vectors_file(kind), vectors[kind].astype(dtype).reshape(len(texts), dim), allow_pickle=False)
    failures = 0
    with open(tmp / "errors.jsonl", "w", encoding="utf-8") as handle:
        for example, (row, pair) in enumerate(zip(rows, extractions)):
            for kind, extraction in zip(("query", "response"), pair):
                if extraction.error:
                    failures += 1
                    handle.write(json.dumps({"example": example, "id": row.id, "kind": kind,
                                             "error": extraction.error, "raw": extraction.raw}) + "\n")
    done = {
        "rows": len(rows), "query_attributes": tables["query"][0].num_rows,
        "response_attributes": tables["response"][0].num_rows,
        "dim": int(dim), "extraction_errors": failures,
        "cost_usd": round(sum(e.cost_usd for pair in extractions for e in pair), 6),
        "multi_turn": sum(row.multi_turn for row in rows),
    }
    (tmp / DONE_FILE).write_text(json.dumps(done))
    _fsync_tree(tmp)
    os.replace(tmp, folder)
    return done


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def read_done(folder: Path) -> dict[str, Any] | None:
    """A finished shard's counts, or None when the shard is missing or unfinished."""
    marker = folder / DONE_FILE
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        raise UserError(f"shard marker {marker} is unreadable",
                        f"delete {folder} and rerun the build; only that shard is redone") from None

