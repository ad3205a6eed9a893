"""The index's final files, streamed from the shards one at a time: the row tables, the response
FAISS file, the error log, and the small arrays and tables beside them; each written atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from surfturf.io.files import write_jsonl_atomic
from surfturf.models import is_transient
from surfturf.turf import store
from surfturf.turf.shards import KINDS, attributes_file, read_done
from surfturf.turf.texts import DistinctTexts

FAISS_FILE_MAX_BYTES = 2 << 30  # a flat float32 index above this is not written (search uses the memmap)


def _concat(path: Path, folders: list[Path], shard_file: str, extra: Any) -> None:
    """Concatenate one table over shards, one shard in memory at a time; `extra(table, shard,
    example0, row0)` adds the global numbers."""
    tmp = path.with_name(path.name + ".tmp")
    writer = None
    example_offset = 0
    row_offset = 0
    for number, folder in enumerate(folders):
        table = extra(pq.read_table(folder / shard_file), number, example_offset, row_offset)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table)
        example_offset += pq.read_metadata(folder / "examples.parquet").num_rows
        row_offset += table.num_rows
    if writer is not None:
        writer.close()
        os.replace(tmp, path)


def write_row_tables(out: Path, folders: list[Path], texts: dict[str, DistinctTexts], clusters: np.ndarray) -> None:
    """The row tables: examples, and per kind the attribute rows with their global text id
    (and, for queries, the cluster of that text)."""
    def examples(table: pa.Table, _: int, example0: int, __: int) -> pa.Table:
        numbers = pa.array(np.arange(example0, example0 + table.num_rows, dtype=np.int64))
        return table.add_column(0, "example", numbers)

    def attributes(kind: str):  # type: ignore[no-untyped-def]
        def add(table: pa.Table, shard: int, example0: int, row0: int) -> pa.Table:
            text_ids = texts[kind].maps[shard][table.column("text_id").to_numpy()]
            rows = pa.table({
                "attribute": pa.array(np.arange(row0, row0 + table.num_rows, dtype=np.int64)),
                "example": pa.array(table.column("example").to_numpy() + example0, pa.int64()),
                "position": table.column("position"), "text_id": pa.array(text_ids, pa.int64()),
            })
            if kind == "query":
                rows = rows.append_column("cluster", pa.array(clusters[text_ids], pa.int32()))
            return rows
        return add

    _concat(out / store.EXAMPLES, folders, "examples.parquet", examples)
    for kind in KINDS:
        _concat(out / store.attributes_table(kind), folders, attributes_file(kind), attributes(kind))


def write_faiss(out: Path, responses: np.ndarray) -> bool:
    """The flat inner-product FAISS file of the response vectors, unless too big (search then uses the memmap)."""
    import faiss

    if responses.shape[0] * responses.shape[1] * 4 > FAISS_FILE_MAX_BYTES:
        return False
    index = faiss.IndexFlatIP(responses.shape[1])
    for start in range(0, responses.shape[0], 65536):
        index.add(np.ascontiguousarray(responses[start:start + 65536], dtype=np.float32))
    path = out / store.RESPONSES_FAISS
    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)
    return True


def collect_errors(out: Path, folders: list[Path]) -> tuple[int, int]:
    """INDEX/errors.jsonl: every extraction failure with its raw output and global example number.

    Returns (real extraction errors, transient ones): a timeout or 5xx says nothing about the data.
    """
    transient = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal transient
        offset = 0
        for folder in folders:
            with open(folder / "errors.jsonl", encoding="utf-8") as handle:
                for line in handle:
                    record = json.loads(line)
                    record["example"] += offset
                    transient += is_transient(record["error"])
                    yield record
            offset += read_done(folder)["rows"]

    written = write_jsonl_atomic(out / store.ERRORS, records(), ensure_ascii=True)
    return written - transient, transient


def write_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.stem + ".tmp.npy")
    np.save(tmp, array, allow_pickle=False)
    os.replace(tmp, path)


def write_parquet(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_pool(path: Path, summaries: list[str], sizes: np.ndarray) -> None:
    """pool.jsonl: one line per non-empty cluster, its summary weighted by its size."""
    write_jsonl_atomic(path, ({"attribute": summary, "weight": int(size), "cluster": cluster}
                              for cluster, (summary, size) in enumerate(zip(summaries, sizes)) if size > 0 and summary),
                       ensure_ascii=True)
