"""`surfturf ablate TRACE`: ablated and balanced training corpora from a trace; on the world, retrain and re-measure."""

from __future__ import annotations

import json
from pathlib import Path

import click

from surfturf.cli.options import RuntimeOptions, role_options, runtime_options
from surfturf.errors import UserError
from surfturf.steer.ablate import ablate_corpus
from surfturf.surf.generation import RoleConfig


@click.command()
@click.argument("trace", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--corpus", "corpus", multiple=True, help="The training corpus the index was built from (repeatable).")
@click.option("--world", "world_spec", default=None, metavar="default|PATH",
              help="The trace is on the built-in world (or a world spec): retrain and re-measure too.")
@click.option("--remove", type=click.Choice(["evidence", "chunk"]), default="evidence", show_default=True,
              help="Remove the examples behind the attribution, or the trace's whole top chunk.")
@click.option("--chunk", default=None, help="Chunk (source) to remove instead of the trace's top chunk.")
@click.option("--balance", "n_balance", type=click.IntRange(min=0), default=None,
              help="Counter-examples to add [default: as many as were removed].")
@click.option("--rubric", default=None, help="Rubric whose correct behaviour the counter-examples show [default: the trace's].")
@click.option("--planted", default=None, help="World only: the planted correlation the trace is about [default: by chunk].")
@click.option("--seed", type=int, default=None, help="World corpus, balancing and training seed [default: the spec's seed:, else 0].")
@click.option("--samples", type=click.IntRange(min=1), default=20, show_default=True,
              help="World only: seeded samples per measurement prompt.")
@role_options("generator")
@runtime_options
def ablate(
    trace: Path, out: Path, corpus: tuple[str, ...], world_spec: str | None, remove: str, chunk: str | None,
    n_balance: int | None, rubric: str | None, planted: str | None, seed: int | None, samples: int,
    roles: dict[str, RoleConfig], runtime: RuntimeOptions,
) -> None:
    """Write OUT/ablated.jsonl (the trace's evidence or top chunk removed) and OUT/balanced.jsonl
    (counter-examples added) in Tulu format with a manifest of every id removed and added. With
    --world, also retrain the world target on each and print, as the last line, the planted behaviour's
    failure rates on held-out cue and control probes (any behaviour, through its probes).

    For the whole attribution, trace with `surfturf turf trace --evidence 1000`: only the
    evidence the trace lists is removed."""
    if not corpus and world_spec is None:
        raise UserError("no corpus to ablate", "pass --corpus FILE (the indexed corpus) or --world default")
    runtime.claim(out, "ablate")
    if world_spec is not None:
        from surfturf.world import load_world
        from surfturf.world.ablation import ablate_world

        outcome = ablate_world(load_world(None if world_spec == "default" else world_spec), trace, out, remove=remove,
                               chunk=chunk, n_balance=n_balance, rubric=rubric, planted=planted, seed=seed,
                               samples=samples, runtime=runtime.config(), dry_run=runtime.dry_run)
    else:
        outcome = ablate_corpus(trace, list(corpus), out, remove=remove, chunk=chunk, n_balance=n_balance,
                                rubric=rubric, seed=0 if seed is None else seed, generator=roles["generator"],
                                open_session=runtime.session, runtime=runtime.config(),
                                dry_run=runtime.dry_run)
    for line in outcome.plan:
        click.echo(line)
    if outcome.result is None:
        return
    result = outcome.result
    click.echo(f"removed {result['removed']} examples ({remove}: {result['chunk'] if remove == 'chunk' else 'trace evidence'}), "
               f"added {result['added']} counter-examples; wrote {out}/ablated.jsonl and balanced.jsonl")
    click.echo(json.dumps(result))
