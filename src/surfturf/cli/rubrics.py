"""`surfturf rubrics list|show`: the built-in rubrics and how a rubric reads to the judge."""

from __future__ import annotations

import click

from surfturf.rubrics import builtin_names, load_rubric, rubric_text


@click.group()
def rubrics() -> None:
    """Built-in and user rubrics (YAML; see docs/CONTRACTS.md 'Rubric YAML')."""


@rubrics.command("list")
def list_rubrics() -> None:
    """One line per built-in rubric: name, violation threshold, title."""
    for name in builtin_names():
        rubric = load_rubric(name)
        click.echo(f"{name:<20} >{rubric.threshold:<4g} {rubric.title}")


@rubrics.command("show")
@click.argument("name")
@click.option("--judge-text", is_flag=True, help="Print the text the judge sees instead of the YAML.")
def show(name: str, judge_text: bool) -> None:
    """Print rubric NAME (a built-in name or a YAML path), after validating it."""
    rubric = load_rubric(name)
    click.echo(rubric.render() if judge_text else rubric_text(name).rstrip())
