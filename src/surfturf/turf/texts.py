"""Distinct attribute texts across the shards of a build: one global id per text, its row count, one vector.

Ids follow first appearance in corpus order, so the distinct texts (and k-means, which samples
them) do not depend on how rows were sharded or which engine built the shards. Memory grows with
the distinct texts (a dict, and per shard a local -> global id map), never with the attribute rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from surfturf.errors import UserError
from surfturf.turf.shards import attributes_file, texts_file, vectors_file


@dataclass
class DistinctTexts:
    """The distinct texts of one kind (query or response) over a build's shards, in id order."""

    kind: str
    ids: dict[str, int] = field(default_factory=dict)
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    maps: list[np.ndarray] = field(default_factory=list)  # per shard: local text id -> global id
    new: list[np.ndarray] = field(default_factory=list)  # per shard: local ids of texts first seen there

    @classmethod
    def collect(cls, folders: list[Path], kind: str) -> DistinctTexts:
        """One pass over the shards' text tables and text ids (the only columns read)."""
        distinct = cls(kind)
        local_counts = []
        for folder in folders:
            texts = pq.read_table(folder / texts_file(kind)).column("text").to_pylist()
            local = pq.read_table(folder / attributes_file(kind), columns=["text_id"]).column("text_id").to_numpy()
            mapping = np.empty(len(texts), dtype=np.int64)
            new = []
            for position, text in enumerate(texts):
                number = distinct.ids.get(text)
                if number is None:
                    number = distinct.ids[text] = len(distinct.ids)
                    new.append(position)
                mapping[position] = number
            distinct.maps.append(mapping)
            distinct.new.append(np.asarray(new, dtype=np.int64))
            local_counts.append(np.bincount(local, minlength=len(texts)))
        distinct.counts = np.zeros(len(distinct.ids), dtype=np.int64)
        for mapping, counts in zip(distinct.maps, local_counts):
            np.add.at(distinct.counts, mapping, counts)
        return distinct

    def __len__(self) -> int:
        return len(self.ids)

    def texts(self) -> list[str]:
        return list(self.ids)

    def merge_vectors(self, folders: list[Path], path: Path, dtype: str) -> np.ndarray:
        """One vector per distinct text (from the shard that first saw it), as a memmapped .npy at `path`."""
        parts = [np.load(folder / vectors_file(self.kind), mmap_mode="r", allow_pickle=False) for folder in folders]
        dims = {part.shape[1] for part in parts if part.shape[0]}
        if len(dims) > 1:
            raise UserError(f"shards under {path.parent.parent / 'work'} have embeddings of different widths "
                            f"{sorted(dims)}", "delete the index's work/ folder and rebuild")
        dim = dims.pop() if dims else 0
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npy")
        merged = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=(len(self), dim))
        start = 0
        for part, new in zip(parts, self.new):  # a shard's new texts hold consecutive global ids
            merged[start:start + len(new)] = part[new]
            start += len(new)
        merged.flush()
        del merged
        os.replace(tmp, path)
        return np.load(path, mmap_mode="r", allow_pickle=False)

    def table(self, **columns: pa.Array) -> pa.Table:
        """The index's texts table: text_id, text, count (rows carrying it), plus `columns`."""
        table = pa.table({"text_id": pa.array(np.arange(len(self)), pa.int64()),
                          "text": pa.array(self.texts(), pa.string()), "count": pa.array(self.counts, pa.int64())})
        for name, column in columns.items():
            table = table.append_column(name, column)
        return table
