"""`surfturf report RUN [RUN...]`: the one-file HTML report, its figures and the findings exports."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the HTML [default: RUN/report.html; with several runs "
                   "RUN1/compare-report.html].")
def report(runs: tuple[Path, ...], out: Path | None) -> None:
    """Write RUN/report.html (one self-contained file), RUN/figures/ (PNG and SVG) and the findings
    as RUN/findings.csv and RUN/findings.export.jsonl. Several RUNs make a comparison report."""
    from surfturf.report import write_report

    path = write_report(list(runs), out)
    for run in runs:
        click.echo(f"exports: {run / 'findings.csv'}, {run / 'findings.export.jsonl'}; figures: {run / 'figures'}",
                   err=True)
    click.echo(str(path))
