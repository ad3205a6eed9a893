"""`surfturf index build`: corpus -> shards (extract + embed) -> merge -> k-means -> summaries -> INDEX.

The extraction and embedding stage is a map over fixed-size shards of rows (surfturf.turf.shards),
each written under INDEX/work/ and skipped on a rerun; the later stages are deterministic given
the shards and quick next to extraction, so a rerun redoes them (summaries come from the model
cache). The shard map is the part a distributed engine runs. Everything after it works on the
distinct attribute texts (surfturf.turf.texts) and streams the row tables shard by shard, so
memory is bounded by the shard size and the number of distinct texts, not by the corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console

from surfturf.attributes.heuristic import LEXICON_FILE, OfflineExtractor
from surfturf.data import CorpusInput, CorpusRow, CorpusStats, read_corpus
from surfturf.errors import UserError
from surfturf.io.files import write_jsonl_atomic, write_text_atomic
from surfturf.io.manifest import manifest as common_manifest
from surfturf.models import is_transient
from surfturf.models.accounting import approx_tokens
from surfturf.models.ledger import SpendLedger
from surfturf.turf import store
from surfturf.turf.cluster import (SCAN_CANDIDATES, assignment_is_approximate, central_members, default_k,
                                   spherical_kmeans)
from surfturf.turf.engine import Engine, InProcessEngine, ShardJob
from surfturf.turf.progress import stage_progress
from surfturf.turf.shards import KINDS, BuildStopped, Extractor, attributes_file, read_done
from surfturf.turf.summaries import summarise_clusters
from surfturf.turf.texts import DistinctTexts

CENTRAL_TEXTS = 5
FAISS_FILE_MAX_BYTES = 2 << 30  # a flat float32 index above this is not written (search uses the memmap)
# Dry-run token estimates per call: prompt overhead plus the clipped text; a 10-item list out.
EXTRACT_PROMPT_TOKENS = 260
EXTRACT_OUTPUT_TOKENS = 180
SUMMARY_INPUT_TOKENS = 160
SUMMARY_OUTPUT_TOKENS = 30
ATTRIBUTE_TOKENS = 12


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides an index's content; the first five must match for a rerun to resume."""

    extractor: str = "heuristic"
    embedder: str = "hash/384"
    shard_rows: int = 4096
    dtype: str = "float16"
    limit: int | None = None
    summariser: str | None = None
    k: int | None = None
    seed: int = 0

    def resume_key(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"format": store.INDEX_FORMAT, "extractor": self.extractor, "embedder": self.embedder,
                "shard_rows": self.shard_rows, "dtype": self.dtype, "limit": self.limit, "inputs": inputs}


def _shard_batches(rows: Iterator[CorpusRow], size: int) -> Iterator[list[CorpusRow]]:
    batch: list[CorpusRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def corpus_pairs(inputs: list[CorpusInput], limit: int | None) -> Iterator[tuple[str, str]]:
    """Every row's (query, response), streamed: what a first pass over the corpus (e.g. fitting an
    offline extractor before the shard map) reads."""
    for row in read_corpus(inputs, CorpusStats(), limit):
        yield row.query, row.response


def count_rows(inputs: list[CorpusInput], limit: int | None) -> CorpusStats:
    """Read the corpus once without extracting: row counts for progress, ETA and --dry-run."""
    stats = CorpusStats()
    for _ in read_corpus(inputs, stats, limit):
        pass
    return stats


def estimate_cost(session: Any, config: BuildConfig, stats: CorpusStats, mean_chars: float) -> float:
    """Record the planned calls per role on the session (for --dry-run) and return the total USD."""
    rows = stats.rows
    total = 0.0
    if config.extractor != "heuristic":
        per_call = EXTRACT_PROMPT_TOKENS + approx_tokens(min(mean_chars, 6000))
        total += session.estimate("extractor", config.extractor, 2 * rows, per_call, EXTRACT_OUTPUT_TOKENS)
    attributes = 20 * rows
    total += session.estimate("embedder", config.embedder, max(1, -(-attributes // 256)), 256 * ATTRIBUTE_TOKENS, 0)
    if config.summariser:
        k = config.k or default_k(10 * rows)
        total += session.estimate("summariser", config.summariser, k, SUMMARY_INPUT_TOKENS, SUMMARY_OUTPUT_TOKENS)
    return total


def mean_text_chars(inputs: list[CorpusInput], limit: int | None, sample: int = 2000) -> float:
    """Mean query/response length over the first rows, for the extraction cost estimate."""
    lengths = []
    for row in read_corpus(inputs, CorpusStats(), limit):
        lengths.append((len(row.query) + len(row.response)) / 2)
        if len(lengths) >= sample:
            break
    return float(np.mean(lengths)) if lengths else 0.0


def _write_json(path: Path, value: Any) -> None:
    write_text_atomic(path, json.dumps(value, indent=2, ensure_ascii=False))


class IndexBuilder:
    """One build of one INDEX directory; `run()` does every stage, resuming finished shards."""

    def __init__(self, inputs: list[CorpusInput], out: Path, config: BuildConfig, session: Any,
                 extractor_model: Any | None, embedder_model: Any, summariser_model: Any | None = None,
                 runtime_config: dict[str, Any] | None = None, console: Console | None = None,
                 engine: Engine | None = None) -> None:
        self.inputs = inputs
        self.out = Path(out)
        self.work = self.out / "work"
        self.config = config
        self.session = session
        self.extractor = Extractor(extractor_model)
        self.embedder = embedder_model
        self.summariser = summariser_model
        self.engine = engine or InProcessEngine(session, self.extractor, embedder_model, config.dtype)
        self.runtime_config = runtime_config or {}
        self.console = console or Console(stderr=True)
        self.timings: dict[str, float] = {}
        self.stats = CorpusStats()
        self.input_records = [{"path": corpus.location, "sha256": corpus.sha256()} for corpus in inputs]

    # -- bookkeeping ------------------------------------------------------------------------------

    def _spend(self) -> float:
        return float(self.session.usage.totals().get("cost_usd", 0.0))

    def _usage(self) -> dict[str, Any]:
        """This process's usage, plus the directory's cumulative spend when the session keeps a ledger."""
        usage = self.session.usage.summary()
        usage["all_processes"] = _directory_spend(self.session)
        return usage

    def _fit_lexicon(self, total: int) -> None:
        """Offline builds: fit the extractor's lexicons in a first pass, or reuse a resumed build's."""
        if self.extractor.model is not None:
            return
        path = self.out / LEXICON_FILE
        if path.exists():
            self.extractor.offline = OfflineExtractor.load(path)
            return
        started = time.perf_counter()
        rows = ((row.query, row.response) for row in read_corpus(self.inputs, CorpusStats(), self.config.limit))
        self.extractor.offline = OfflineExtractor.fit(rows, total=total)
        self.extractor.offline.save(path)
        self.timings["fit_lexicon"] = time.perf_counter() - started

    def _manifest(self, status: str, counts: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The common manifest (surfturf.io.manifest) plus the index's own fields and `extra`."""
        config = asdict(self.config)
        config["runtime"] = self.runtime_config
        record = common_manifest(
            command="index build", config=config, seeds={"kmeans": self.config.seed},
            models={"extractor": self.extractor.spec, "embedder": self.embedder.spec,
                    "summariser": self.summariser.spec if self.summariser else "central-attribute"},
            inputs=self.input_records, counts=counts, usage=self._usage(), status=status)
        record.update({"format": store.INDEX_FORMAT, "lexicon": LEXICON_FILE if self.extractor.offline else None,
                       "engine": self.engine.name, "timings_s": {k: round(v, 2) for k, v in self.timings.items()}})
        record.update(extra or {})
        return record

    def _prepare(self) -> None:
        manifest_file = self.out / store.MANIFEST
        if manifest_file.exists():
            try:
                previous = json.loads(manifest_file.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                previous = {}
            if previous.get("status") == "complete":
                raise UserError(f"{self.out} already holds a complete index",
                                "choose another -o, or delete that directory to rebuild")
        if self.out.exists() and not self.out.is_dir():
            raise UserError(f"{self.out} exists and is not a directory", "choose another -o")
        self.work.mkdir(parents=True, exist_ok=True)
        key = self.config.resume_key(self.input_records)
        key_file = self.work / "config.json"
        if key_file.exists():
            previous_key = json.loads(key_file.read_text(encoding="utf-8"))
            if previous_key != key:
                changed = sorted(k for k in key if key[k] != previous_key.get(k))
                raise UserError(f"{self.out} holds a partial build made with other settings ({', '.join(changed)})",
                                "rerun with the same corpus and settings to resume, or choose another -o")
        else:
            _write_json(key_file, key)

    # -- stages -------------------------------------------------------------------------------------

    def _jobs(self, folders: list[Path], on_skip: Any) -> Iterator[ShardJob]:
        """The shards still to do, read lazily: a finished shard (done marker, same rows) is never redone."""
        rows = read_corpus(self.inputs, self.stats, self.config.limit)
        for number, batch in enumerate(_shard_batches(rows, self.config.shard_rows)):
            folder = self.work / f"shard-{number:05d}"
            folders.append(folder)
            done = read_done(folder)
            if done is not None and done["rows"] == len(batch):
                on_skip(len(batch))
                continue
            if folder.exists():
                shutil.rmtree(folder)
            yield ShardJob(number, folder, batch)

    async def _map_shards(self, total_rows: int) -> list[Path]:
        folders: list[Path] = []
        started = time.perf_counter()
        with stage_progress(self.console, "rows", self._spend) as progress:
            task = progress.add_task("extract + embed", total=total_rows or None)

            def finished(job: ShardJob, done: dict[str, Any]) -> None:
                if not self.console.is_terminal:  # a log file gets one line per shard instead of a live bar
                    done_rows = int(progress.tasks[0].completed)
                    elapsed = time.perf_counter() - started
                    self.console.print(f"shard {job.number}: {done_rows:,}/{total_rows:,} rows, "
                                       f"{done_rows / max(elapsed, 1e-9):,.1f} rows/s, ${self._spend():.4f}")

            await self.engine.map(self._jobs(folders, lambda n: progress.advance(task, n)),
                                  lambda n: progress.advance(task, n), finished)
        self.timings["extract_embed"] = time.perf_counter() - started
        return folders

    def _write_table(self, name: str, folders: list[Path], shard_file: str, extra: Any) -> None:
        """Concatenate one table over shards, one shard in memory at a time; `extra(table, shard,
        example0, row0)` adds the global numbers."""
        path = self.out / name
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

    def _write_tables(self, folders: list[Path], texts: dict[str, DistinctTexts], clusters: np.ndarray) -> None:
        """The row tables: examples, and per kind the attribute rows with their global text id
        (and, for queries, the cluster of that text)."""
        def examples(table: pa.Table, _: int, example0: int, __: int) -> pa.Table:
            numbers = pa.array(np.arange(example0, example0 + table.num_rows, dtype=np.int64))
            return table.add_column(0, "example", numbers)

        def attributes(kind: str):  # type: ignore[no-untyped-def]
            def add(table: pa.Table, shard: int, example0: int, row0: int) -> pa.Table:
                text_ids = texts[kind].maps[shard][table.column("text_id").to_numpy()]
                out = pa.table({
                    "attribute": pa.array(np.arange(row0, row0 + table.num_rows, dtype=np.int64)),
                    "example": pa.array(table.column("example").to_numpy() + example0, pa.int64()),
                    "position": table.column("position"), "text_id": pa.array(text_ids, pa.int64()),
                })
                if kind == "query":
                    out = out.append_column("cluster", pa.array(clusters[text_ids], pa.int32()))
                return out
            return add

        self._write_table(store.EXAMPLES, folders, "examples.parquet", examples)
        for kind in KINDS:
            self._write_table(store.attributes_table(kind), folders, attributes_file(kind), attributes(kind))

    def _write_faiss(self, responses: np.ndarray) -> bool:
        import faiss

        if responses.shape[0] * responses.shape[1] * 4 > FAISS_FILE_MAX_BYTES:
            return False
        index = faiss.IndexFlatIP(responses.shape[1])
        for start in range(0, responses.shape[0], 65536):
            index.add(np.ascontiguousarray(responses[start:start + 65536], dtype=np.float32))
        path = self.out / store.RESPONSES_FAISS
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(index, str(tmp))
        os.replace(tmp, path)
        return True

    def _collect_errors(self, folders: list[Path]) -> tuple[int, int]:
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

        written = write_jsonl_atomic(self.out / store.ERRORS, records(), ensure_ascii=True)
        return written - transient, transient

    async def run(self) -> dict[str, Any]:
        """Every stage; returns the final manifest. Raises BuildStopped (manifest says why) on a budget stop."""
        self._prepare()
        counted = count_rows(self.inputs, self.config.limit)
        if counted.rows == 0:
            raise UserError(f"the corpus has no usable rows (skipped: {dict(counted.skipped) or 'none'})",
                            "check the files hold conversations with a user and an assistant turn")
        self._fit_lexicon(counted.rows)
        _write_json(self.out / store.MANIFEST, self._manifest("running", counted.as_dict()))
        try:
            folders = await self._map_shards(counted.rows)
        except BuildStopped as stop:
            failure = self.session.endpoint_failure
            status, extra = ("failed", {"stopped": failure.line()}) if failure else (f"stopped: {stop}", None)
            _write_json(self.out / store.MANIFEST, self._manifest(status, self.stats.as_dict(), extra))
            raise
        dones = [read_done(folder) for folder in folders]

        started = time.perf_counter()
        texts = {kind: DistinctTexts.collect(folders, kind) for kind in KINDS}
        queries = texts["query"].merge_vectors(folders, self.out / store.QUERY_EMBEDDINGS, self.config.dtype)
        responses = texts["response"].merge_vectors(folders, self.out / store.RESPONSE_EMBEDDINGS, self.config.dtype)
        n_queries = int(texts["query"].counts.sum())
        if n_queries == 0:
            raise UserError("no query attributes were extracted (see INDEX/work/*/errors.jsonl)",
                            "check the extractor model and its output format, then rerun")
        self.timings["merge"] = time.perf_counter() - started

        started = time.perf_counter()
        k = min(self.config.k or default_k(n_queries), len(texts["query"]))
        self.console.print(f"clustering {n_queries:,} query attributes ({len(texts['query']):,} distinct) "
                           f"into {k:,} clusters")
        clustering = spherical_kmeans(queries, k, seed=self.config.seed, weights=texts["query"].counts)
        self.timings["cluster"] = time.perf_counter() - started
        _write_npy(self.out / store.CENTROIDS, clustering.centroids.astype(np.float32))

        started = time.perf_counter()
        query_texts = texts["query"].texts()
        central = [[query_texts[int(t)] for t in members]
                   for members in central_members(clustering.assignment, clustering.similarity, k, top=CENTRAL_TEXTS)]
        del query_texts
        sizes = np.bincount(clustering.assignment, weights=texts["query"].counts, minlength=k).astype(np.int64)
        with stage_progress(self.console, "clusters", self._spend) as progress:
            task = progress.add_task("summarise", total=k)
            summaries, summary_errors = await summarise_clusters(self.summariser, central,
                                                                 lambda: progress.advance(task, 1))
        self.timings["summarise"] = time.perf_counter() - started

        started = time.perf_counter()
        self._write_tables(folders, texts, clustering.assignment)
        _write_parquet(self.out / store.texts_table("query"),
                       texts["query"].table(cluster=pa.array(clustering.assignment, pa.int32())))
        _write_parquet(self.out / store.texts_table("response"), texts["response"].table())
        clusters = pa.table({
            "cluster": pa.array(np.arange(k), pa.int32()), "size": pa.array(sizes, pa.int64()),
            "summary": pa.array(summaries, pa.string()), "central": pa.array(central, pa.list_(pa.string())),
            "summary_error": pa.array(summary_errors, pa.string()),
        })
        _write_parquet(self.out / store.CLUSTERS, clusters)
        _write_pool(self.out / store.POOL, summaries, sizes)
        faiss_written = self._write_faiss(responses)
        extraction_errors, transient_errors = self._collect_errors(folders)
        self.timings["write"] = time.perf_counter() - started

        counts = self.stats.as_dict()
        counts.update({
            "examples": int(sum(d["rows"] for d in dones)), "shards": len(folders),
            "query_attributes": n_queries, "response_attributes": int(texts["response"].counts.sum()),
            "query_texts": len(texts["query"]), "response_texts": len(texts["response"]),
            "clusters": int(k), "empty_clusters": int((sizes == 0).sum()),
            "extraction_errors": extraction_errors, "transient_extraction_errors": transient_errors,
            "summary_errors": int(sum(e is not None for e in summary_errors)),
            "extraction_cost_usd_all_runs": round(sum(d["cost_usd"] for d in dones), 6),
        })
        manifest = self._manifest("complete", counts, {
            "embeddings": {"dim": int(queries.shape[1]), "dtype": self.config.dtype, "normalised": True,
                           "rows": "one per distinct text (query_texts / response_texts); attribute rows point by text_id"},
            "clustering": {"method": "faiss spherical k-means over the distinct query texts weighted by their "
                                     "counts, trained on a sample, all assigned",
                           "device": clustering.device,
                           "assignment": _assignment_note(int(k), int(queries.shape[1]), clustering.device),
                           "k": int(k), "k_rule": "default_k: max(n/400, 2*sqrt(n)), at most n/4 and the distinct texts"
                           if self.config.k is None else "given",
                           "objective_mean_cosine": float(np.average(clustering.similarity,
                                                                     weights=texts["query"].counts))},
            "responses_faiss": store.RESPONSES_FAISS if faiss_written else None,
        })
        _write_json(self.out / store.MANIFEST, manifest)
        shutil.rmtree(self.work)  # the shards are now in the final files; a complete index is never resumed
        return manifest


def _directory_spend(session: Any) -> dict[str, Any]:
    """The session's spent(), re-read from its ledger file when it has one: other processes (Ray
    workers) append to it while this one runs."""
    if getattr(session, "ledger", None) is None:
        return session.spent()
    ledger = SpendLedger(session.ledger.path)
    try:
        return ledger.totals()
    finally:
        ledger.close()


def _assignment_note(k: int, dim: int, device: str) -> dict[str, Any]:
    """How a text's cluster was found: exactly, or (many centroids on a CPU) approximately from the centroids."""
    if not assignment_is_approximate(k, dim, device):
        return {"approximate": False, "rule": "the exact nearest centroid of each distinct text"}
    return {"approximate": True, "rule": f"nearest of {SCAN_CANDIDATES} candidate centroids from a 4-bit PQ "
                                         "fast scan of the k-means centroids (an exact search for the 1% of "
                                         "texts that fit worst); a row's cluster is its text's"}


def _write_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.stem + ".tmp.npy")
    np.save(tmp, array, allow_pickle=False)
    os.replace(tmp, path)


def _write_parquet(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _write_pool(path: Path, summaries: list[str], sizes: np.ndarray) -> None:
    """pool.jsonl: one line per non-empty cluster, its summary weighted by its size."""
    write_jsonl_atomic(path, ({"attribute": summary, "weight": int(size), "cluster": cluster}
                              for cluster, (summary, size) in enumerate(zip(summaries, sizes)) if size > 0 and summary),
                       ensure_ascii=True)
