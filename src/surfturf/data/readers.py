"""Stream raw records from JSONL, JSONL.gz, Parquet and Hugging Face datasets, one input at a time."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surfturf.data.rows import CorpusRow, CorpusStats, Layout, detect_layout, make_row
from surfturf.errors import UserError
from surfturf.io.files import sha256_file

FILE_SUFFIXES = (".jsonl.gz", ".jsonl", ".json.gz", ".json", ".parquet")
HF_DIR_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(:[\w.-]+)?$")
PARQUET_BATCH_ROWS = 4096


@dataclass(frozen=True)
class CorpusInput:
    """One thing to read: a file, a saved HF dataset directory, or a hub name (`owner/name[:split]`)."""

    kind: str  # "jsonl" | "parquet" | "hf-disk" | "hf-hub"
    location: str
    stem: str

    def sha256(self) -> str | None:
        """Content hash for the manifest; None for a hub dataset or a directory."""
        if self.kind in ("hf-hub", "hf-disk"):
            return None
        return sha256_file(Path(self.location))


def _stem(path: Path) -> str:
    name = path.name
    for suffix in FILE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _file_input(path: Path) -> CorpusInput:
    name = path.name
    if name.endswith(".parquet"):
        return CorpusInput("parquet", str(path), _stem(path))
    if name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz")):
        return CorpusInput("jsonl", str(path), _stem(path))
    raise UserError(
        f"cannot read corpus file {path}: unknown format",
        "give .jsonl, .jsonl.gz or .parquet files, a saved Hugging Face dataset directory, or a hub name",
    )


def resolve_inputs(specs: list[str]) -> list[CorpusInput]:
    """Expand each CLI argument into inputs; a directory of files expands to its corpus files, sorted."""
    inputs: list[CorpusInput] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            if any((path / marker).exists() for marker in HF_DIR_MARKERS):
                inputs.append(CorpusInput("hf-disk", str(path), path.name))
                continue
            files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(FILE_SUFFIXES))
            if not files:
                raise UserError(f"directory {path} holds no .jsonl, .jsonl.gz or .parquet files",
                                "point at the corpus files or at a saved Hugging Face dataset directory")
            inputs.extend(_file_input(p) for p in files)
        elif path.is_file():
            inputs.append(_file_input(path))
        elif HUB_NAME.match(spec) and not spec.startswith((".", "/")):
            name = spec.split(":")[0]
            inputs.append(CorpusInput("hf-hub", spec, name.split("/")[-1]))
        else:
            raise UserError(f"corpus {spec} does not exist",
                            "give an existing file or directory, or a Hugging Face hub name like owner/name")
    if not inputs:
        raise UserError("no corpus given", "name at least one corpus file, directory or hub dataset")
    return inputs


def iter_jsonl_objects(location: str | Path, shape: str = "one JSON object") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL or JSONL.gz file a user gave.

    A line that is not a JSON object, or a file that cannot be read, is a `UserError` naming
    the file and line; `shape` says in the fix what each line should be.
    """
    location = str(location)
    opener = gzip.open if location.endswith(".gz") else open
    try:
        with opener(location, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise UserError(f"{location} line {number} is not valid JSON ({error.msg})",
                                    f"fix or remove that line; each line must be {shape}") from None
                if not isinstance(record, dict):
                    raise UserError(f"{location} line {number} is not a JSON object", f"each line must be {shape}")
                yield number, record
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {location}: {error}", "check the file is complete and UTF-8 JSONL") from None


def _jsonl_records(location: str) -> Iterator[dict[str, Any]]:
    for _, record in iter_jsonl_objects(location, "one JSON object with messages or prompt/response fields"):
        yield record


def _parquet_records(location: str) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(location)
    except Exception as error:  # pyarrow raises several types for a bad file
        raise UserError(f"cannot read parquet file {location}: {error}", "check the file is a complete Parquet file") from None
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        yield from batch.to_pylist()


def _hf_dataset(corpus: CorpusInput) -> Any:
    try:
        import datasets
    except ImportError:
        raise UserError(f"reading {corpus.location} needs the Hugging Face datasets package",
                        "pip install 'surfturf[datasets]'") from None
    if corpus.kind == "hf-disk":
        loaded = datasets.load_from_disk(corpus.location)
        if isinstance(loaded, datasets.DatasetDict):
            split = "train" if "train" in loaded else next(iter(loaded))
            loaded = loaded[split]
        return loaded
    name, _, split = corpus.location.partition(":")
    try:
        return datasets.load_dataset(name, split=split or "train", streaming=True)
    except Exception as error:  # network, missing dataset, missing split
        raise UserError(f"cannot load hub dataset {corpus.location}: {error}",
                        "check the name and split (owner/name:split) and the network, or download it first") from None


def _columns_of(corpus: CorpusInput, first: dict[str, Any] | None, dataset: Any) -> list[str]:
    if corpus.kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(corpus.location).names)
    if dataset is not None and getattr(dataset, "column_names", None):
        return list(dataset.column_names)
    return list(first or {})


def _records(corpus: CorpusInput) -> tuple[Iterator[dict[str, Any]], Any]:
    if corpus.kind == "jsonl":
        return _jsonl_records(corpus.location), None
    if corpus.kind == "parquet":
        return _parquet_records(corpus.location), None
    dataset = _hf_dataset(corpus)
    return iter(dataset), dataset


def read_corpus(inputs: list[CorpusInput], stats: CorpusStats, limit: int | None = None) -> Iterator[CorpusRow]:
    """All rows of all inputs in order; `limit` caps the rows taken from each input (for a trial build)."""
    for corpus in inputs:
        records, dataset = _records(corpus)
        first = next(records, None)
        if first is None:
            stats.layouts[corpus.location] = "empty"
            continue
        layout: Layout = detect_layout(_columns_of(corpus, first, dataset), corpus.location)
        stats.layouts[corpus.location] = layout.describe()
        taken = 0
        for number, record in enumerate(_chain(first, records)):
            if limit is not None and taken >= limit:
                break
            row = make_row(record, layout, f"{corpus.stem}-{number}", corpus.stem, stats)
            if row is not None:
                taken += 1
                yield row


def read_tulu(paths: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Corpus files as Tulu rows (first user and assistant turn): (rows, manifest inputs, read stats)."""
    inputs = resolve_inputs(paths)
    stats = CorpusStats()
    rows = [row.tulu() for row in read_corpus(inputs, stats)]
    described = [{"path": item.location, "kind": "corpus", "sha256": item.sha256()} for item in inputs]
    return rows, described, stats.as_dict()


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest
