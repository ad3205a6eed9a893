"""`surfturf demo`: the whole method, offline, on the built-in chunky world (what `make demo` runs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from surfturf.io.ownership import claim_dir
from surfturf.world.demo import POOLS


@click.command()
@click.option("--world", "world_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="World spec YAML or a shipped world's name (`surfturf world list`; default: default).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"), show_default=True,
              help="Directory for every output: world, runs, index, traces, report.")
@click.option("--seed", type=int, default=None, help="Seed for the corpus, training and SURF (default: the spec's `seed:`).")
@click.option("--pool", type=click.Choice(POOLS), default="index", show_default=True,
              help="What SURF samples: the TURF index's cluster summaries of the corpus (as the paper does) "
                   "or the world spec's hand-written attributes.")
def demo(world_path: Path | None, out: Path, seed: int | None, pool: str) -> None:
    """Build the world, train its target, index its corpus with TURF, serve the target, run SURF per planted
    rubric, trace the findings with TURF, write the report, and score every stage against the planted truth."""
    from rich.console import Console
    from rich.table import Table

    from surfturf.world import load_world
    from surfturf.world.demo import run_demo

    console = Console(stderr=True)
    world = load_world(world_path)
    seed = world.seed if seed is None else seed
    console.print(f"[bold]surfturf demo[/bold]: world {world.name!r}, {len(world.planted)} planted behaviours -> {out}")
    with claim_dir(out, "demo", resume=False):
        result = run_demo(world, out, seed, pool=pool)
    table = Table(title="Planted behaviours: found by SURF, traced by TURF (✓ = matches the planted truth)")
    for column in ("behaviour", "found", "best", "calls", "trigger named (TURF)", "chunk named"):
        table.add_column(column, overflow="fold")
    for row in result.score["behaviours"]:
        trigger = "-"
        chunk = "-"
        if "traces" in row:
            text = re.sub(r"^The query (is )?|\.$", "", row["trigger"] or "")
            trigger = f"{'✓' if row['trigger_correct'] else '✗'} {text} ({row['trigger_right']}/{row['traces']})"
            chunk = f"{'✓' if row['chunk_correct'] else '✗'} {row['top_chunk']}"
        table.add_row(row["name"], "yes" if row["found"] else "no",
                      "-" if row["best_score"] is None else f"{row['best_score']:.0f}",
                      "-" if row["calls_to_first"] is None else str(row["calls_to_first"]), trigger, chunk)
    Console(width=max(Console().width, 110)).print(table)
    click.echo("calls: target calls until the first finding scoring >= 70 (all runs of that rubric, in order).")
    timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.timings.items())
    click.echo(f"stages: {timings}")
    if result.report:
        click.echo(f"report: {result.report}")
    summary = {k: v for k, v in result.score.items() if k != "behaviours"}
    summary["out"] = str(out)
    click.echo(json.dumps(summary))
