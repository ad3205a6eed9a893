"""How a command that called models ended: its manifest status, the one `stopped` line, its usage
(the directory's spend ledger total) and exit code 1 when an endpoint failed for good."""

from __future__ import annotations

import sys
from typing import Any

import click

from surfturf.models import ModelSession


def run_status(session: ModelSession, *, all_failed: bool = False) -> tuple[str, str | None]:
    """("failed", line) when an endpoint went down or every call failed; else the budget or complete."""
    failure = session.endpoint_failure
    if failure is not None:
        return "failed", failure.line()
    if all_failed:
        return "failed", "every model call failed; fix: check the models and endpoints, then rerun"
    if session.budget_exhausted:
        return f"stopped: {session.budget_reason}", None
    return "complete", None


def run_usage(session: ModelSession) -> dict[str, Any]:
    """This process's usage per model, with the total spent in the output directory over all processes."""
    usage = session.usage.summary()
    usage["total"].update(session.spent())
    return usage


def exit_if_failed(command: str, stopped: str | None) -> None:
    """Print the stop line and exit 1, after the command wrote what it had."""
    if stopped is not None:
        click.echo(f"{command}: failed: {stopped}", err=True)
        sys.exit(1)
