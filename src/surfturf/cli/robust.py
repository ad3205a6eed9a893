"""`surfturf robust RUN`: are a SURF run's top findings systematic failures? Writes RUN/robust/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from surfturf.cli.options import RuntimeOptions, role_options, runtime_options
from surfturf.cli.outcome import exit_if_failed
from surfturf.steer.robust import PAPER_PERTURBATIONS, PAPER_SAMPLES, RobustConfig
from surfturf.steer.robust_run import prepare, robust_run
from surfturf.surf.context import context_options
from surfturf.surf.generation import RoleConfig
from surfturf.surf.progress import counter


@click.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True, help="Findings to check, best first.")
@click.option("--perturbations", type=click.IntRange(min=0), default=5, show_default=True,
              help=f"Rephrasings per finding (paper: {PAPER_PERTURBATIONS}).")
@click.option("--samples", type=click.IntRange(min=1), default=10, show_default=True,
              help=f"Target samples per prompt (paper: {PAPER_SAMPLES}).")
@click.option("--rubric", default=None, help="Judge against this rubric instead of the run's.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: RUN/robust].")
@context_options
@role_options("target", "perturber", "judge", "baseline")
@runtime_options
def robust(
    run: Path, top: int, perturbations: int, samples: int, rubric: str | None,
    out: Path | None, system_prompt: Path | None, icl_examples: int, icl_file: Path | None,
    roles: dict[str, RoleConfig], runtime: RuntimeOptions,
) -> None:
    """Perturb each top violating finding of RUN, sample the target on every version, judge, and report
    failure rates with 95% Wilson intervals (per finding and per rubric). Target and judge default to the run's.
    On a differential run (`surf run --baseline`) the baseline is sampled on the same prompts too, and each
    finding gets paired rates, a paired interval of the difference and an exact McNemar p-value."""
    check = prepare(run, rubric=rubric, roles=roles, config=RobustConfig(top=top, perturbations=perturbations, samples=samples),
                    system_prompt=system_prompt, icl_examples=icl_examples, icl_file=icl_file)
    out_dir = out or run / "robust"
    runtime.claim(out_dir, "robust")
    outcome = robust_run(check, runtime.session, out_dir, runtime=runtime.config(), dry_run=runtime.dry_run,
                         progress=counter)
    for line in outcome.plan:
        click.echo(line)
    if runtime.dry_run:
        return
    _print_records(outcome.records)
    click.echo(f"wrote {out_dir}/robust.jsonl, summary.json ({outcome.status})")
    click.echo(json.dumps({"status": outcome.status, "out": str(out_dir), "rubrics": outcome.summary}))
    exit_if_failed("robust", outcome.stopped)


def _print_records(records: list[dict[str, Any]]) -> None:
    """One line per finding: original and perturbed rates; a differential finding's paired claim below it."""
    for record in records:
        original = record["original"]
        click.echo(
            f"{record['finding']}: original {_pct(original['rate'])} [{_pct(original['low'])}, {_pct(original['high'])}] "
            f"n={original['n']}; perturbed {_pct(record['mean_rate'])} [{_pct(record['low'])}, {_pct(record['high'])}] "
            f"n={record['n']} over {len(record['perturbations'])} rephrasings"
        )
        if "paired" in record:
            paired, verdict = record["paired"]["all"], record["claim"]
            click.echo(
                f"  vs baseline {_pct(paired['baseline']['rate'])} [{_pct(paired['baseline']['low'])}, "
                f"{_pct(paired['baseline']['high'])}]; difference {100 * paired['difference']:+.0f} points "
                f"[{100 * paired['low']:+.0f}, {100 * paired['high']:+.0f}] over {paired['n']} pairs; "
                f"{verdict['direction']}: McNemar p={verdict['p']:.3g} ({'holds' if verdict['holds'] else 'not shown'})"
            )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"
