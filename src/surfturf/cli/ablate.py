"""`surfturf ablate TRACE`: ablated and balanced training corpora from a trace; on the world, retrain and re-measure."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from surfturf.cli.options import RoleConfig, RuntimeOptions, role_options, runtime_options
from surfturf.errors import UserError
from surfturf.io.ownership import claim_dir
from surfturf.steer.ablate import (
    ablate as ablate_rows,
    attribution_ids,
    changes,
    check_ids_known,
    load_trace,
    read_rows,
    top_chunk,
    trigger_text,
    write_corpus,
)
from surfturf.io.files import write_json_atomic
from surfturf.io.manifest import file_input, manifest


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
    record = load_trace(trace)
    if not corpus and world_spec is None:
        raise UserError("no corpus to ablate", "pass --corpus FILE (the indexed corpus) or --world default")
    if not runtime.dry_run:
        click.get_current_context().with_resource(claim_dir(out, "ablate", resume=False))
    world = None
    if world_spec is not None:
        from surfturf.world import generate_corpus, load_world

        world = load_world(None if world_spec == "default" else world_spec)
    seed = (world.seed if world is not None else 0) if seed is None else seed
    if corpus:
        rows, inputs, read_stats = read_rows(list(corpus))
    else:
        assert world is not None
        rows, inputs, read_stats = generate_corpus(world, seed=seed), [], {"generated": f"world {world.name}, seed {seed}"}
    inputs.append(file_input(trace, "trace"))

    chosen_chunk = chunk or top_chunk(record)
    ids = attribution_ids(record)
    if remove == "evidence":
        if not ids:
            raise UserError("the trace lists no evidence", "trace again with --evidence N, or use --remove chunk")
        missing = check_ids_known(rows, ids)
        kept, removed = ablate_rows(rows, remove_ids=ids)
    else:
        if chosen_chunk not in {row["source"] for row in rows}:
            raise UserError(f"chunk {chosen_chunk!r} is not a source of the corpus", "pass --chunk NAME")
        missing = []
        kept, removed = ablate_rows(rows, remove_sources=[chosen_chunk])
    n_added = len(removed) if n_balance is None else n_balance

    generator_spec = None
    errors: list[str] = []
    usage: dict[str, Any] = {}
    if world is not None:
        from surfturf.world.ablation import trace_planted
        from surfturf.world import balancing_rows

        entry = trace_planted(world, record, chosen_chunk, planted)
        added = balancing_rows(world, entry["name"], n_added, seed=seed)
        generator_spec = f"world offline generator ({entry['name']} balance)"
    else:
        added, errors, usage = _model_counterexamples(record, rubric, roles["generator"], runtime, n_added, removed,
                                                       out / "spend.jsonl")
        generator_spec = roles["generator"].spec
        if runtime.dry_run:
            return

    out.mkdir(parents=True, exist_ok=True)
    write_corpus(out / "ablated.jsonl", kept)
    write_corpus(out / "balanced.jsonl", rows + added)
    corpora = {"ablated": out / "ablated.jsonl", "balanced": out / "balanced.jsonl"}
    result: dict[str, Any] = {"removed": len(removed), "added": len(added), "ablated_rows": len(kept),
                              "balanced_rows": len(rows) + len(added), "chunk": chosen_chunk, "errors": len(errors)}
    if world is not None:
        from surfturf.world.ablation import experiment

        write_corpus(out / "baseline.jsonl", rows)
        corpora = {"baseline": out / "baseline.jsonl", **corpora}
        if remove == "evidence":
            write_corpus(out / "chunk_removed.jsonl", ablate_rows(rows, remove_sources=[chosen_chunk])[0])
            corpora["chunk_removed"] = out / "chunk_removed.jsonl"
        click.echo(f"training {len(corpora)} world targets ({', '.join(corpora)}) ...", err=True)
        result = {**experiment(world, corpora, out, seed, samples, entry["name"]), **result}
        write_json_atomic(out / "result.json", result)

    write_json_atomic(out / "manifest.json", {
        **manifest(
            config={"trace": str(trace), "remove": remove, "chunk": chosen_chunk, "balance": n_added,
                    "rubric": rubric or record.get("rubric"), "trigger": record.get("trigger"),
                    "world": world.name if world is not None else None, "samples": samples if world else None,
                    "read": read_stats, "runtime": runtime.config()},
            models={"generator": generator_spec},
            inputs=inputs,
            counts={"rows": len(rows), "ablated_rows": len(kept), "balanced_rows": len(rows) + len(added),
                    "removed": len(removed), "added": len(added), "generator_errors": len(errors)},
            usage=usage, seeds={"seed": seed},
        ),
        "changes": changes(removed, added, missing),
        "generator_errors": errors[:50],
    })
    click.echo(f"removed {len(removed)} examples ({remove}: {chosen_chunk if remove == 'chunk' else 'trace evidence'}), "
               f"added {len(added)} counter-examples; wrote {out}/ablated.jsonl and balanced.jsonl")
    click.echo(json.dumps(result))


def _model_counterexamples(
    record: dict[str, Any], rubric_name: str | None, role: RoleConfig, runtime: RuntimeOptions, n: int,
    removed: list[dict[str, Any]], ledger: Path,
) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """Counter-examples from the generator role, each seeded by a removed (cue-carrying) query;
    `ledger` is OUT/spend.jsonl, so a rerun's budget counts what the last one spent."""
    from surfturf.rubrics import load_rubric
    from surfturf.steer.balance import correct_behaviour, write_counterexamples

    name = rubric_name or record.get("rubric")
    if not name:
        raise UserError("the trace names no rubric", "pass --rubric NAME|PATH")
    if n == 0:
        return [], [], {}
    behaviour = correct_behaviour(load_rubric(name))
    examples = [row["messages"][0]["content"] for row in removed] or [str(record.get("query", ""))]
    session = runtime.session(ledger=None if runtime.dry_run else ledger)
    generator = role.model(session)
    if runtime.dry_run:
        session.estimate("generator", role.require(), n, 500, 400)
        for line in session.plan_lines():
            click.echo(line)
        asyncio.run(session.aclose())
        return [], [], {}

    async def go() -> tuple[list[dict[str, Any]], list[str]]:
        try:
            return await write_counterexamples(generator, trigger_text(record), behaviour, examples, n)
        finally:
            await session.aclose()

    added, errors = asyncio.run(go())
    return added, errors, session.usage.summary()
