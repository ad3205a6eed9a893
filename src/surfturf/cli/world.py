"""`surfturf world list|build|train|serve|score`: the offline chunky world from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from surfturf.data.rows import tulu_pair
from surfturf.errors import UserError
from surfturf.io.ownership import claim_dir

world_option = click.option("--world", "world_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                            help="World spec YAML or a shipped world's name (`surfturf world list`; default: default).")
# `world train` calls a shortcut learned when held-out cue queries fail (partial forms included) this
# much more often than control queries; below it SURF has nothing to find.
LEARNED_MARGIN = 0.2
seed_option = click.option("--seed", type=int, default=None, help="Corpus and training seed (default: the spec's seed:).")


@click.group()
def world() -> None:
    """Build, train, serve and score the offline chunky world (ground truth for every stage)."""


@world.command("list")
def list_worlds() -> None:
    """The shipped worlds: name, planted behaviours and chunks (pass a name to --world)."""
    from surfturf.world.spec import load_world, shipped_worlds

    names = list(shipped_worlds())
    width = max(map(len, names))
    for name in names:
        spec = load_world(name)
        behaviours = ", ".join(entry["name"] for entry in spec.planted)
        click.echo(f"{name:<{width}} {len(spec.planted)} planted, {len(spec.spec['chunks'])} chunks: {behaviours}")


@world.command()
@world_option
@seed_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write.")
def build(world_path: Path | None, seed: int, out: Path) -> None:
    """Write the world's corpus (corpus.jsonl), attribute pool (world_pool.txt) and spec (world.yaml)."""
    from surfturf.world import load_world
    from surfturf.world.files import build_world

    spec = load_world(world_path)
    with claim_dir(out, "world", resume=False):
        rows = build_world(spec, out, spec.seed if seed is None else seed)
    click.echo(json.dumps({"out": str(out), "rows": len(rows), "pool": str(out / "world_pool.txt")}))


@world.command()
@world_option
@seed_option
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), default=None,
              help="Train on this corpus (e.g. an ablated or balanced JSONL) instead of the generated one.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory for the target.")
def train(world_path: Path | None, seed: int, corpus: Path | None, out: Path) -> None:
    """Train the world target on the world's corpus (or --corpus) and save it (.npy + JSON)."""
    from surfturf.world import generate_corpus, load_world
    from surfturf.world.files import read_rows, train_to
    from surfturf.world.probe import FAILS_AT, shortcut_rates

    spec = load_world(world_path)
    seed = spec.seed if seed is None else seed
    with claim_dir(out, "world-target", resume=False):
        rows = read_rows(corpus) if corpus else generate_corpus(spec, seed)
        target = train_to(rows, out, seed, str(corpus) if corpus else "generated")
    training = {tulu_pair(row)[0] for row in rows}
    rates = {}
    for entry in spec.planted:
        rate = shortcut_rates(spec, target, entry["name"], seed=seed, exclude=training, threshold=FAILS_AT)
        rates[entry["name"]] = rate
        click.echo(f"{entry['name']:<18} held-out cue {rate['cue']:.2f}  control {rate['control']:.2f}", err=True)
        if rate["cue"] < rate["control"] + LEARNED_MARGIN:
            click.echo(f"warning: {entry['name']}: the shortcut was not learned (cue rate {rate['cue']:.2f} is not "
                       f"{LEARNED_MARGIN} above control {rate['control']:.2f}); SURF cannot find it", err=True)
    click.echo(json.dumps({"out": str(out), "rows": len(rows), "styles": target.n_styles, "shortcuts": rates}))


@world.command()
@world_option
@seed_option
@click.option("--target", "target_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A saved target (from `world train`); default: train one now.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1.")
def serve(world_path: Path | None, seed: int, target_dir: Path | None, port: int) -> None:
    """Serve the target and the offline roles as an OpenAI-compatible API on 127.0.0.1:PORT."""
    from surfturf.world import generate_corpus, load_world
    from surfturf.world.roles import WorldRoles
    from surfturf.world.server import serve_forever
    from surfturf.world.target import WorldTarget, train_target

    spec = load_world(world_path)
    seed = spec.seed if seed is None else seed
    target = WorldTarget.load(target_dir) if target_dir else train_target(generate_corpus(spec, seed), seed)
    if not 0 < port < 65536:
        raise UserError(f"port {port} is out of range", "give a port between 1 and 65535")
    click.echo(f"world server: http://127.0.0.1:{port}/v1 (models: world/target, world/generator, world/judge, ...)", err=True)
    serve_forever(WorldRoles(spec, target, seed), port)


@world.command()
@world_option
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--threshold", type=float, default=70.0, show_default=True, help="Score a finding must reach to count.")
def score(world_path: Path | None, run: Path, threshold: float) -> None:
    """Score RUN (a SURF run, or a folder of runs, with traces if present) against the planted truth."""
    from surfturf.world import load_world
    from surfturf.world.score import score_runs

    result = score_runs(load_world(world_path), run, threshold)
    for row in result["behaviours"]:
        mark = "found" if row["found"] else "missed"
        extra = ""
        if "traces" in row:
            extra = (f"  trigger {row['trigger_right']}/{row['traces']} right ({row['trigger']!r})"
                     f"  chunk {row['chunk_right']}/{row['traces']} right ({row['top_chunk']})")
        click.echo(f"{row['name']:<16} {mark:<6} best={row['best_score']} calls={row['calls_to_first']}{extra}")
    click.echo(json.dumps(result))
