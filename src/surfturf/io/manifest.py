"""The manifest.json every output directory carries: what ran, on which inputs, with which models, and how it ended."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from surfturf import __version__
from surfturf.io.files import sha256_file
from surfturf.models import ModelSession


def file_input(path: Path | str, kind: str) -> dict[str, Any]:
    """A manifest `inputs` entry: path, kind and the content's sha256."""
    return {"path": str(path), "kind": kind, "sha256": sha256_file(Path(path))}


def command_line() -> str:
    """The command as typed (argv), for the manifest; keys never appear on a command line we build."""
    return " ".join(["surfturf", *sys.argv[1:]]) if sys.argv else "surfturf"


def manifest(
    *,
    config: dict[str, Any],
    models: dict[str, Any],
    inputs: list[dict[str, Any]] | dict[str, dict[str, Any]],
    counts: dict[str, Any],
    usage: dict[str, Any] | None,
    seeds: dict[str, Any],
    status: str = "complete",
    command: str | None = None,
    created: str | None = None,
) -> dict[str, Any]:
    """The manifest every output directory carries (CONTRACTS.md, File formats); `command`
    defaults to the command line as typed, `created` (a resumed run's first start) to now."""
    return {
        "command": command or command_line(),
        "version": __version__,
        "created": created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config,
        "seeds": seeds,
        "models": models,
        "inputs": inputs,
        "counts": counts,
        "usage": usage or {},
        "status": status,
    }


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
