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
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from rich.console import Console

from surfturf.attributes.heuristic import LEXICON_FILE, OfflineExtractor
from surfturf.data import CorpusInput, CorpusRow, CorpusStats, read_corpus
from surfturf.errors import UserError
from surfturf.io.files import write_text_atomic
from surfturf.io.manifest import manifest as common_manifest
from surfturf.models.ledger import SpendLedger
from surfturf.turf import store
from surfturf.turf.cluster import Clustering, central_members, default_k, spherical_kmeans
from surfturf.turf.engine import Engine, InProcessEngine, ShardJob
from surfturf.turf.nearest import SCAN_CANDIDATES, assignment_is_approximate
from surfturf.turf.plan import count_rows
from surfturf.turf.progress import stage_progress
from surfturf.turf.shards import KINDS, BuildStopped, Extractor, read_done
from surfturf.turf.summaries import summarise_clusters
from surfturf.turf.tables import (collect_errors, write_faiss, write_npy, write_parquet, write_pool,
                                  write_row_tables)
from surfturf.turf.texts import DistinctTexts

CENTRAL_TEXTS = 5


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

    async def run(self) -> dict[str, Any]:
        """Every stage; returns the final manifest. Raises BuildStopped (manifest says why) on a budget stop."""
        self._prepare()
        counted = count_rows(self.inputs, self.config.limit)
        if counted.rows == 0:
            raise UserError(f"the corpus has no usable rows (skipped: {dict(counted.skipped) or 'none'})",
                            "check the files hold conversations with a user and an assistant turn")
        self._fit_lexicon(counted.rows)
        _write_json(self.out / store.MANIFEST, self._manifest("running", counted.as_dict()))
        folders = await self._map_or_stop(counted.rows)
        texts, queries, responses = self._merge(folders)
        clusters = await self._cluster(texts, queries)
        started = time.perf_counter()
        write_row_tables(self.out, folders, texts, clusters.clustering.assignment)
        write_parquet(self.out / store.texts_table("query"),
                      texts["query"].table(cluster=pa.array(clusters.clustering.assignment, pa.int32())))
        write_parquet(self.out / store.texts_table("response"), texts["response"].table())
        write_parquet(self.out / store.CLUSTERS, clusters.table())
        write_pool(self.out / store.POOL, clusters.summaries, clusters.sizes)
        faiss_written = write_faiss(self.out, responses)
        errors = collect_errors(self.out, folders)
        self.timings["write"] = time.perf_counter() - started
        manifest = self._complete(folders, texts, clusters, int(queries.shape[1]), faiss_written, errors)
        _write_json(self.out / store.MANIFEST, manifest)
        shutil.rmtree(self.work)  # the shards are now in the final files; a complete index is never resumed
        return manifest

    async def _map_or_stop(self, total_rows: int) -> list[Path]:
        """The shard map; a budget stop or a given-up endpoint is written into the manifest before it propagates."""
        try:
            return await self._map_shards(total_rows)
        except BuildStopped as stop:
            failure = self.session.endpoint_failure
            status, extra = ("failed", {"stopped": failure.line()}) if failure else (f"stopped: {stop}", None)
            _write_json(self.out / store.MANIFEST, self._manifest(status, self.stats.as_dict(), extra))
            raise

    def _merge(self, folders: list[Path]) -> tuple[dict[str, DistinctTexts], np.ndarray, np.ndarray]:
        """The shards' distinct texts of each kind, and their vectors merged into one matrix per kind."""
        started = time.perf_counter()
        texts = {kind: DistinctTexts.collect(folders, kind) for kind in KINDS}
        queries = texts["query"].merge_vectors(folders, self.out / store.QUERY_EMBEDDINGS, self.config.dtype)
        responses = texts["response"].merge_vectors(folders, self.out / store.RESPONSE_EMBEDDINGS, self.config.dtype)
        if int(texts["query"].counts.sum()) == 0:
            raise UserError("no query attributes were extracted (see INDEX/work/*/errors.jsonl)",
                            "check the extractor model and its output format, then rerun")
        self.timings["merge"] = time.perf_counter() - started
        return texts, queries, responses

    async def _cluster(self, texts: dict[str, DistinctTexts], queries: np.ndarray) -> Clusters:
        """k-means over the distinct query texts (weighted by their counts), then each cluster's summary."""
        started = time.perf_counter()
        n_queries = int(texts["query"].counts.sum())
        k = min(self.config.k or default_k(n_queries), len(texts["query"]))
        self.console.print(f"clustering {n_queries:,} query attributes ({len(texts['query']):,} distinct) "
                           f"into {k:,} clusters")
        clustering = spherical_kmeans(queries, k, seed=self.config.seed, weights=texts["query"].counts)
        self.timings["cluster"] = time.perf_counter() - started
        write_npy(self.out / store.CENTROIDS, clustering.centroids.astype(np.float32))

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
        return Clusters(clustering, k, sizes, central, summaries, summary_errors)

    def _complete(self, folders: list[Path], texts: dict[str, DistinctTexts], clusters: Clusters, dim: int,
                  faiss_written: bool, errors: tuple[int, int]) -> dict[str, Any]:
        """The manifest of a finished index: its counts, how it was clustered and what it spent."""
        dones = [read_done(folder) for folder in folders]
        k, clustering, weights = clusters.k, clusters.clustering, texts["query"].counts
        counts = self.stats.as_dict()
        counts.update({
            "examples": int(sum(d["rows"] for d in dones)), "shards": len(folders),
            "query_attributes": int(weights.sum()), "response_attributes": int(texts["response"].counts.sum()),
            "query_texts": len(texts["query"]), "response_texts": len(texts["response"]),
            "clusters": int(k), "empty_clusters": int((clusters.sizes == 0).sum()),
            "extraction_errors": errors[0], "transient_extraction_errors": errors[1],
            "summary_errors": int(sum(e is not None for e in clusters.summary_errors)),
            "extraction_cost_usd_all_runs": round(sum(d["cost_usd"] for d in dones), 6),
        })
        return self._manifest("complete", counts, {
            "embeddings": {"dim": dim, "dtype": self.config.dtype, "normalised": True,
                           "rows": "one per distinct text (query_texts / response_texts); attribute rows point by text_id"},
            "clustering": {"method": "faiss spherical k-means over the distinct query texts weighted by their "
                                     "counts, trained on a sample, all assigned",
                           "device": clustering.device,
                           "assignment": _assignment_note(int(k), dim, clustering.device),
                           "k": int(k), "k_rule": "default_k: max(n/400, 2*sqrt(n)), at most n/4 and the distinct texts"
                           if self.config.k is None else "given",
                           "objective_mean_cosine": float(np.average(clustering.similarity, weights=weights))},
            "responses_faiss": store.RESPONSES_FAISS if faiss_written else None,
        })


@dataclass(frozen=True)
class Clusters:
    """The clustered query texts: the k-means result, each cluster's weighted size, central texts and summary."""

    clustering: Clustering
    k: int
    sizes: np.ndarray
    central: list[list[str]]
    summaries: list[str]
    summary_errors: list[str | None]

    def table(self) -> pa.Table:
        return pa.table({
            "cluster": pa.array(np.arange(self.k), pa.int32()), "size": pa.array(self.sizes, pa.int64()),
            "summary": pa.array(self.summaries, pa.string()), "central": pa.array(self.central, pa.list_(pa.string())),
            "summary_error": pa.array(self.summary_errors, pa.string()),
        })


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
