"""A SURF run directory: its manifest (built through io/manifest, with the first process's `created`
and this one's `updated`), what a resume reads back from it, and the summary of a finished sweep."""

from __future__ import annotations

import json
import sys
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from surfturf.attributes.pools import AttributePool
from surfturf.errors import UserError
from surfturf.io.manifest import file_input, manifest
from surfturf.io.ownership import BOOKKEEPING
from surfturf.io.files import read_jsonl
from surfturf.models import ModelSession, is_transient
from surfturf.models.redact import redact_url
from surfturf.surf import differential
from surfturf.surf.config import RESUMABLE_CHANGES, SurfConfig
from surfturf.surf.failures import model_error

LEDGER = "spend.jsonl"  # the run directory's spend ledger (see ModelSession's `ledger`)

# A candidate whose call failed transiently is tried again by a resume, up to this many attempts in
# all; after that its error is final (the endpoint keeps failing on that one request).
MAX_ATTEMPTS = 3


def candidate_id(run: int, iteration: int, index: int) -> str:
    """A candidate's id in candidates.jsonl: its run, iteration and index in the iteration's plan."""
    return f"r{run}-i{iteration}-c{index}"


def sample_index_for(seed: int, cid: str) -> int:
    """A stable per-candidate sample index (also sent as the request seed to the generator and
    target): distinct candidates are distinct samples, and a rerun of a candidate hits the cache."""
    return zlib.crc32(f"{seed}:{cid}".encode()) & 0x7FFFFFFF


def retryable(record: dict[str, Any]) -> bool:
    """A recorded candidate a resume should redo: its error was transient and attempts are left."""
    error = record.get("error")
    return error is not None and is_transient(model_error(error)) and int(record.get("attempts", 1)) < MAX_ATTEMPTS


@dataclass
class SurfSummary:
    """What a finished (or stopped) sweep produced."""

    out_dir: Path
    status: str
    candidates: int
    errors: int
    findings: list[dict[str, Any]]
    violations: int
    best_score: float | None
    cost_usd: float
    stopped: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, out_dir: Path, status: str, stopped: str | None, records: list[dict[str, Any]],
           findings: list[dict[str, Any]], cost_usd: float, runs: list[dict[str, Any]]) -> SurfSummary:
        scores = [float(r["score"]) for r in records if r["score"] is not None]
        return cls(out_dir=out_dir, status=status, stopped=stopped, candidates=len(records),
                   errors=sum(1 for r in records if r["error"] is not None), findings=findings,
                   violations=sum(1 for f in findings if f["violation"]), best_score=max(scores) if scores else None,
                   cost_usd=cost_usd, runs=runs)

    def as_json(self) -> dict[str, Any]:
        """The CLI's last line."""
        return {
            "out": str(self.out_dir), "status": self.status, "candidates": self.candidates, "errors": self.errors,
            "findings": len(self.findings), "violations": self.violations, "best_score": self.best_score,
            "cost_usd": round(self.cost_usd, 6), **({"stopped": self.stopped} if self.stopped else {}),
        }


def final_status(records: list[dict[str, Any]], session: ModelSession, budget_hit: bool) -> tuple[str, str | None]:
    """How a sweep ended, and its one `stopped` line: failed (an endpoint went down, or every candidate
    failed), stopped by the budget, or complete. Says on stderr what a rerun of the same command would do."""
    failure = session.endpoint_failure
    stopped = None
    if failure is not None:
        status, stopped = "failed", failure.line()
    elif records and all(r["score"] is None for r in records):
        status = "failed"
        last = records[-1]["error"] or ""
        fix = ("check the models and endpoints, then rerun the same command to retry"
               if is_transient(model_error(last)) else "the models' output could not be read (see raw outputs in the report): use a stronger model for "
               "that role or raise its --<role>-max-tokens, in a new --out")
        stopped = f"every one of {len(records)} candidates failed (last: {last}); fix: {fix}"
    elif budget_hit:
        status = f"stopped: budget ({session.budget_reason or 'cap reached'})"
        print(f"surf: {status}; rerun the same command with a larger budget to continue", file=sys.stderr)
    else:
        status = "complete"
    left = sum(1 for r in records if retryable(r))
    if left and status != "failed":
        print(f"surf: {left} candidates failed transiently; rerun the same command to retry them", file=sys.stderr)
    return status, stopped


def manifest_config(config: SurfConfig, rubric_name: str, rubric_yaml: str, pool: AttributePool,
                    threshold: float) -> dict[str, Any]:
    """The config as recorded (and compared on resume): base URLs without their credentials."""
    data = config.model_dump(mode="json")
    for role in (data["target"], data["generator"], *data["judges"], *([data["baseline"]] if data["baseline"] else [])):
        role["base_url"] = redact_url(role["base_url"])
    data.update({"rubric": rubric_name, "rubric_source": config.rubric, "rubric_text": rubric_yaml,
                 "pool": pool.describe(), "threshold": threshold})
    return data


def run_manifest(*, command: str, created: str, config: SurfConfig, recorded: dict[str, Any], pool: AttributePool,
                 records: list[dict[str, Any]], usage: dict[str, Any], status: str,
                 stopped: str | None) -> dict[str, Any]:
    """manifest.json of a run: `recorded` is `manifest_config`'s; counts come from the candidate records."""
    inputs = [{"path": str(pool.source), "sha256": pool.sha256, "kind": "pool"}]
    if Path(config.rubric).is_file():
        inputs.append(file_input(config.rubric, "rubric"))
    return manifest(
        command=command, created=created, config=recorded,
        seeds={"seed": config.seed, "per_run": [[config.seed, run] for run in range(config.runs)]},
        models={"target": config.target.spec, "generator": config.generator.spec,
                "judge": [role.spec for role in config.judges],
                **({"baseline": config.baseline.spec} if config.baseline else {})},
        inputs=inputs,
        counts={
            "candidates": len(records),
            "errors": sum(1 for r in records if r["error"] is not None),
            "scored": sum(1 for r in records if r["score"] is not None),
            "violations": sum(1 for r in records if r["violation"]),
            "retryable": sum(1 for r in records if retryable(r)),
            "cost_usd": usage["total"]["cost_usd"],
            **({"kinds": differential.kind_counts(records)} if config.baseline else {}),
        },
        usage=usage, status=status,
    ) | {"updated": datetime.now(timezone.utc).isoformat(timespec="seconds")} | ({"stopped": stopped} if stopped else {})


@dataclass
class Resumed:
    """What an earlier (killed or stopped) process of the same sweep left in the run directory."""

    created: str | None
    usage: dict[str, Any] | None
    records: dict[str, dict[str, Any]]  # by candidate id; a redone candidate's later row replaces its earlier one
    redone: bool  # some candidate has more than one row in candidates.jsonl
    logged_iterations: set[tuple[int, int]]
    logged_buffers: dict[tuple[int, int], list[str]]  # the replay buffer each logged iteration ended with


def read_resume(out_dir: Path, command: str, recorded: dict[str, Any]) -> Resumed | None:
    """The run directory's earlier state, after checking it is this sweep (same command and, but for
    RESUMABLE_CHANGES, the same `recorded` config); None for a new or empty directory."""
    path = out_dir / "manifest.json"
    if not path.exists():
        if any(entry.name not in BOOKKEEPING for entry in out_dir.iterdir()):
            raise UserError(f"{out_dir} is not empty and holds no SURF run", "pass a new or empty --out folder")
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is unreadable: {error}", "pass a new --out folder") from error
    if old.get("command", "").split(" ")[:2] != command.split(" ")[:2] or "config" not in old:
        raise UserError(f"{out_dir} holds the output of another command", "pass a new --out folder")
    old["config"].setdefault("context", [])  # runs from before --system-prompt had none
    changed = sorted(k for k in set(recorded) | set(old["config"])
                     if k not in RESUMABLE_CHANGES and recorded.get(k) != old["config"].get(k))
    if changed:
        raise UserError(
            f"{out_dir} holds a SURF run with a different {', '.join(changed)}",
            "rerun with the same settings to resume, or pass a new --out folder",
        )
    resumed = Resumed(old.get("created"), old.get("usage"), {}, False, set(), {})
    for record in read_jsonl(out_dir / "candidates.jsonl"):
        resumed.redone = resumed.redone or record["id"] in resumed.records
        resumed.records[record["id"]] = record
    for row in read_jsonl(out_dir / "iterations.jsonl"):
        key = (int(row["run"]), int(row["iteration"]))
        resumed.logged_iterations.add(key)
        if isinstance(row.get("buffer"), list):
            resumed.logged_buffers[key] = row["buffer"]
    return resumed
