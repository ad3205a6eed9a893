"""`surfturf export inspect RUN -o FILE.eval`: a run in another tool's format."""

from __future__ import annotations

from pathlib import Path

import click

from surfturf.errors import UserError


@click.group()
def export() -> None:
    """Write a run in another tool's format."""


@export.command("inspect")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .eval file to write (opens in `inspect view`).")
def inspect_log(run: Path, out: Path) -> None:
    """Every candidate of RUN as an Inspect sample (query, response, attributes, judge Score, errors)."""
    if out.suffix != ".eval":
        raise UserError(f"output {out} does not end in .eval", "pass -o NAME.eval (Inspect's log format)")
    if out.exists():
        raise UserError(f"{out} already exists", "pass a new file name or remove the old log first")
    try:
        from surfturf.inspect import write_run_eval
    except ImportError:
        raise UserError("Inspect AI is not installed", "pip install 'surfturf[inspect]'") from None
    click.echo(str(write_run_eval(run, out)))
