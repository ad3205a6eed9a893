"""`surfturf index build|info|export`: build a TURF index of an SFT corpus, describe it, export its pool."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from surfturf.cli.options import RoleConfig, RuntimeOptions, role_options, runtime_options
from surfturf.cli.outcome import exit_if_failed
from surfturf.errors import UserError
from surfturf.io.ownership import claim_dir
from surfturf.models import GenerateConfig

if TYPE_CHECKING:
    from surfturf.turf.build import BuildConfig

ROLE_DEFAULTS = {"extractor": "heuristic", "embedder": "hash/384"}


@click.group()
def index() -> None:
    """TURF index: attributes, embeddings and clusters of a post-training corpus."""


def _dry_run(inputs: list[Any], config: BuildConfig, runtime: RuntimeOptions) -> None:
    """Print what a build would read and spend, without calling a model."""
    from surfturf.turf.plan import count_rows, estimate_cost, mean_text_chars

    session = runtime.session()
    stats = count_rows(inputs, config.limit)
    total = estimate_cost(session, config, stats, mean_text_chars(inputs, config.limit))
    click.echo(f"{stats.rows:,} rows ({stats.multi_turn:,} multi-turn) from {len(inputs)} input(s); "
               f"{20 * stats.rows:,} attributes planned")
    for line in session.plan_lines():
        click.echo(line)
    click.echo(json.dumps({"rows": stats.rows, "estimated_cost_usd": round(total, 6)}))


@index.command("build")
@click.argument("corpus", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="INDEX directory to write.")
@click.option("--k", "k", type=click.IntRange(min=1), default=None,
              help="Query-attribute clusters [default: max(n/400, 2*sqrt(n)) for n attributes, at most n/4].")
@click.option("--shard-rows", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Rows per shard: the unit of resume (a killed build redoes at most one shard).")
@click.option("--dtype", type=click.Choice(["float16", "float32"]), default="float16", show_default=True,
              help="Stored embedding precision.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Rows taken from each input (trial builds).")
@click.option("--seed", type=int, default=0, show_default=True, help="k-means seed.")
@click.option("--engine", type=click.Choice(["in-process", "ray"]), default="in-process", show_default=True,
              help="Where extraction and embedding run: this process, or Ray workers (pip install 'surfturf[ray]').")
@click.option("--ray-address", default=None, help="Ray cluster to join [default: RAY_ADDRESS, else a local Ray].")
@role_options("extractor", "summariser", "embedder", defaults=ROLE_DEFAULTS)
@runtime_options
def build(corpus: tuple[str, ...], output: Path, k: int | None, shard_rows: int, dtype: str, limit: int | None,
          seed: int, engine: str, ray_address: str | None, roles: dict[str, RoleConfig],
          runtime: RuntimeOptions) -> None:
    """Build INDEX from CORPUS files (.jsonl, .jsonl.gz, .parquet), directories or HF datasets.

    `--extractor heuristic` (default) extracts attributes offline; any chat model spec uses the
    model layer. Without `--summariser` each cluster is summarised by its most central attribute.
    """
    from surfturf.data import resolve_inputs
    from surfturf.turf.build import BuildConfig, IndexBuilder
    from surfturf.turf.shards import BuildStopped

    inputs = resolve_inputs(list(corpus))
    config = BuildConfig(extractor=roles["extractor"].require(), embedder=roles["embedder"].require(),
                         shard_rows=shard_rows, dtype=dtype, limit=limit, summariser=roles["summariser"].spec,
                         k=k, seed=seed)
    console = Console(stderr=True)
    if runtime.dry_run:
        _dry_run(inputs, config, runtime)
        return

    async def run() -> dict[str, Any]:
        nonlocal failure
        session = runtime.session(ledger=output / "spend.jsonl")
        try:
            extractor = None if config.extractor == "heuristic" else roles["extractor"].model(
                session, GenerateConfig(temperature=0.0, max_tokens=600))
            summariser = roles["summariser"].model(session, GenerateConfig(temperature=0.0, max_tokens=120)) \
                if config.summariser else None
            builder = IndexBuilder(inputs, output, config, session, extractor, roles["embedder"].model(session),
                                   summariser, runtime_config=runtime.config(), console=console,
                                   engine=_ray_engine(roles, runtime, dtype, ray_address, session, output)
                                   if engine == "ray" else None)
            return await builder.run()
        finally:
            failure = session.endpoint_failure
            await session.aclose()

    failure = None
    with claim_dir(output, "index", resume=True):
        try:
            manifest = asyncio.run(run())
        except (BuildStopped, UserError) as stop:
            exit_if_failed("index", failure.line() if failure else None)
            if isinstance(stop, UserError):
                raise
            raise UserError(f"build stopped: {stop}",
                            "raise the budget or fix the model, then rerun the same command to resume") from None
    exit_if_failed("index", failure.line() if failure else None)
    counts = manifest["counts"]
    click.echo(f"index {output}: {counts['examples']:,} examples, {counts['query_attributes']:,} query and "
               f"{counts['response_attributes']:,} response attributes, {counts['clusters']:,} clusters")
    click.echo(json.dumps({"index": str(output), "examples": counts["examples"], "clusters": counts["clusters"],
                           "timings_s": manifest["timings_s"], "cost_usd": manifest["usage"]["total"].get("cost_usd")}))


@dataclass
class WorkerModels:
    """What a Ray worker needs to open the extractor and embedder itself (same cache, same caps, and the
    index's spend ledger, so every worker's calls count in `spent()` and budgets)."""

    extractor: RoleConfig
    embedder: RoleConfig
    runtime: RuntimeOptions
    ledger: Path

    def __call__(self) -> tuple[Any, Any | None, Any]:
        session = self.runtime.session(ledger=self.ledger)
        extractor = None if self.extractor.spec == "heuristic" else self.extractor.model(
            session, GenerateConfig(temperature=0.0, max_tokens=600))
        return session, extractor, self.embedder.model(session)


def _ray_engine(roles: dict[str, RoleConfig], runtime: RuntimeOptions, dtype: str, address: str | None,
                session: Any, output: Path) -> Any:
    from surfturf.turf.engine_ray import RayEngine, uses_local_models

    ledger = session.ledger.path if session.ledger is not None else output / "spend.jsonl"
    return RayEngine(WorkerModels(roles["extractor"], roles["embedder"], runtime, ledger.resolve()), dtype,
                     address=address, max_usd=runtime.budget.max_usd,
                     local_models=uses_local_models(roles["extractor"].spec, roles["embedder"].spec),
                     spent_before=float(session.spent()["cost_usd"]))


@index.command("info")
@click.argument("index_dir", metavar="INDEX", type=click.Path(path_type=Path))
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True, help="Largest clusters to list.")
def info(index_dir: Path, top: int) -> None:
    """Summarise INDEX: corpus, models, counts, and its largest clusters."""
    from surfturf.turf.store import CLUSTERS, Index

    opened = Index.open(index_dir)
    manifest = opened.manifest
    counts = manifest["counts"]
    click.echo(f"index      {index_dir}  (built {manifest['created']}, surfturf {manifest['version']})")
    click.echo(f"models     extractor {manifest['models']['extractor']}, embedder {manifest['models']['embedder']}"
               f" ({manifest['embeddings']['dim']}-d {manifest['embeddings']['dtype']}), "
               f"summariser {manifest['models']['summariser']}")
    click.echo(f"examples   {counts['examples']:,} ({counts['multi_turn']:,} multi-turn, "
               f"{counts['extraction_errors']:,} extraction errors)")
    sources = ", ".join(f"{name} {n:,}" for name, n in counts["sources"].items())
    click.echo(f"sources    {sources}")
    click.echo(f"attributes {counts['query_attributes']:,} query, {counts['response_attributes']:,} response "
               f"({counts['query_texts']:,} and {counts['response_texts']:,} distinct texts, one embedding each)")
    click.echo(f"clusters   {counts['clusters']:,} ({counts['empty_clusters']:,} empty)")
    table = opened.table(CLUSTERS, ["cluster", "size", "summary"]).sort_by([("size", "descending")])
    for row in table.slice(0, top).to_pylist():
        click.echo(f"  {row['cluster']:>6} {row['size']:>8,}  {row['summary']}")


@index.command("export")
@click.argument("index_dir", metavar="INDEX", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["pool", "sae"]), required=True,
              help="pool: SURF attribute pool JSONL; sae: the official SURF pseudo-SAE JSONL.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="File to write.")
def export(index_dir: Path, fmt: str, output: Path) -> None:
    """Export INDEX as a SURF attribute pool or as pseudo-SAE rows (`sae_attributes`)."""
    from surfturf.turf.export import export_pool, export_sae
    from surfturf.turf.store import Index

    opened = Index.open(index_dir)
    if output.exists() and output.is_dir():
        raise UserError(f"{output} is a directory", "give a file path to -o")
    written = export_pool(opened, output) if fmt == "pool" else export_sae(opened, output)
    click.echo(json.dumps({"format": fmt, "output": str(output), "rows": written}))
