"""The map step of an index build: one shard of rows -> attributes, embeddings and a finished shard folder.

A shard is written to `<name>.tmp/` and renamed into place only when complete, so the folder's
existence is the done marker: a killed build loses at most the shard in flight.
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
import pyarrow.parquet as pq

from surfturf.attributes.extract import Extraction, extract_attributes, heuristic_extract
from surfturf.attributes.heuristic import OfflineExtractor
from surfturf.data.rows import CorpusRow
from surfturf.errors import UserError
from surfturf.models import is_transient

EMBED_CHUNK = 2048
DONE_FILE = "done.json"


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

    async def run(self, rows: list[CorpusRow], on_row: Callable[[], None]) -> list[tuple[Extraction, Extraction]]:
        if self.model is None:
            out = []
            for row in rows:
                out.append((heuristic_extract(row.query, "query", self.offline),
                            heuristic_extract(row.response, "response", self.offline)))
                on_row()
            return out

        async def one(row: CorpusRow) -> tuple[Extraction, Extraction]:
            pair = await asyncio.gather(extract_attributes(self.model, row.query, "query"),
                                        extract_attributes(self.model, row.response, "response"))
            on_row()
            return pair[0], pair[1]

        return list(await asyncio.gather(*(one(row) for row in rows)))


async def embed_texts(embedder: Any, texts: list[str]) -> np.ndarray:
    """Unit float32 vectors for `texts`; each distinct text is embedded once."""
    unique = list(dict.fromkeys(texts))
    parts = []
    for start in range(0, len(unique), EMBED_CHUNK):
        result = await embedder.embed(unique[start:start + EMBED_CHUNK])
        if result.error:
            raise BuildStopped(f"embedder {embedder.spec}: {result.error}")
        parts.append(result.vectors)
    if not unique:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.concatenate(parts).astype(np.float32, copy=False)
    where = {text: i for i, text in enumerate(unique)}
    return matrix[[where[text] for text in texts]]


def _attribute_table(extractions: list[Extraction]) -> pa.Table:
    examples, positions, texts = [], [], []
    for example, extraction in enumerate(extractions):
        for position, text in enumerate(extraction.attributes):
            examples.append(example)
            positions.append(position)
            texts.append(text)
    return pa.table({"example": pa.array(examples, pa.int64()), "position": pa.array(positions, pa.int8()),
                     "text": pa.array(texts, pa.string())})


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
                      dtype: str, on_row: Callable[[], None]) -> dict[str, Any]:
    """Extract, embed and write one shard; returns the shard's counts (also saved as done.json)."""
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    extractions = await extractor.run(rows, on_row)
    stop = _stopping_error(extractions)
    if stop:
        raise BuildStopped(stop)
    queries = [pair[0] for pair in extractions]
    responses = [pair[1] for pair in extractions]
    query_table = _attribute_table(queries)
    response_table = _attribute_table(responses)
    texts = query_table.column("text").to_pylist() + response_table.column("text").to_pylist()
    vectors = await embed_texts(embedder, texts)
    if vectors.shape[0] and not np.isfinite(vectors).all():
        raise BuildStopped(f"embedder {embedder.spec} returned non-finite values")
    n_query = query_table.num_rows
    tmp.mkdir(parents=True)
    examples = pa.table({
        "id": [row.id for row in rows], "source": [row.source for row in rows],
        "query": [row.query for row in rows], "response": [row.response for row in rows],
        "multi_turn": [row.multi_turn for row in rows],
        "query_error": pa.array([q.error for q in queries], pa.string()),
        "response_error": pa.array([r.error for r in responses], pa.string()),
    })
    pq.write_table(examples, tmp / "examples.parquet")
    pq.write_table(query_table, tmp / "query_attributes.parquet")
    pq.write_table(response_table, tmp / "response_attributes.parquet")
    dim = vectors.shape[1] if vectors.size else 0
    np.save(tmp / "query.npy", vectors[:n_query].astype(dtype).reshape(n_query, dim), allow_pickle=False)
    np.save(tmp / "response.npy", vectors[n_query:].astype(dtype).reshape(len(texts) - n_query, dim),
            allow_pickle=False)
    failures = 0
    with open(tmp / "errors.jsonl", "w", encoding="utf-8") as handle:
        for example, (row, pair) in enumerate(zip(rows, extractions)):
            for kind, extraction in zip(("query", "response"), pair):
                if extraction.error:
                    failures += 1
                    handle.write(json.dumps({"example": example, "id": row.id, "kind": kind,
                                             "error": extraction.error, "raw": extraction.raw}) + "\n")
    done = {
        "rows": len(rows), "query_attributes": n_query, "response_attributes": len(texts) - n_query,
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

