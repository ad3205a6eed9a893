"""How a command that called models exits: exit code 1, after its stop line, when an endpoint failed
for good (the manifest's status and usage come from `surfturf.io.manifest`)."""

from __future__ import annotations

import sys

import click


def exit_if_failed(command: str, stopped: str | None) -> None:
    """Print the stop line and exit 1, after the command wrote what it had."""
    if stopped is not None:
        click.echo(f"{command}: failed: {stopped}", err=True)
        sys.exit(1)
