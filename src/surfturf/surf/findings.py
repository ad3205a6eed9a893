"""Findings: the best candidates across runs, deduplicated, and the readers other stages use."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from surfturf.errors import UserError
from surfturf.io.files import read_jsonl
from surfturf.surf.buffer import is_near_duplicate, select_top


def support(records: Iterable[dict[str, Any]]) -> Counter[str]:
    """Per attribute, how many violating candidates carried it."""
    counts: Counter[str] = Counter()
    for record in records:
        if record.get("violation"):
            counts.update(set(record.get("attributes") or ()))
    return counts


def compute_findings(records: Iterable[dict[str, Any]], buffer: int, near_duplicate: float) -> list[dict[str, Any]]:
    """Each run's final buffer (its top `buffer` distinct queries), merged across runs best first
    with cross-run duplicates dropped, each with a 1-based `rank`.

    Equal scores rank by support: the most violations any of the finding's attributes took part
    in. A failure the search reproduced many times is systematic; a one-off at the same score
    (a stray answer found while exploring) ranks after it."""
    records = list(records)
    by_run: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        by_run.setdefault(int(record["run"]), []).append(record)
    counts = support(records)
    merged = [entry for run in sorted(by_run) for entry in select_top(by_run[run], buffer, near_duplicate)]
    merged.sort(key=lambda r: (-float(r["score"]), -max((counts[a] for a in r.get("attributes") or ()), default=0),
                               str(r["id"])))
    findings: list[dict[str, Any]] = []
    for entry in merged:
        if not is_near_duplicate(entry["query"], (f["query"] for f in findings), near_duplicate):
            findings.append({**entry, "rank": len(findings) + 1})
    return findings


def _run_file(run_dir: Path, name: str) -> Path:
    run_dir = Path(run_dir)
    if not (run_dir / "manifest.json").is_file():
        raise UserError(f"{run_dir} is not a SURF run directory (no manifest.json)", "pass the --out folder of `surfturf surf run`")
    return run_dir / name


def load_findings(run_dir: Path | str) -> list[dict[str, Any]]:
    """RUN/findings.jsonl rows, best first (candidate records plus `rank`)."""
    path = _run_file(Path(run_dir), "findings.jsonl")
    if not path.is_file():
        raise UserError(f"{run_dir} has no findings.jsonl yet", "let `surfturf surf run` finish (or rerun it to resume)")
    return list(read_jsonl(path))


def load_candidates(run_dir: Path | str) -> list[dict[str, Any]]:
    """Every scored or failed candidate of a run, in the order they first finished; a candidate a
    resume redid (a transient failure) appears once, as its latest row."""
    return list({row["id"]: row for row in read_jsonl(_run_file(Path(run_dir), "candidates.jsonl"))}.values())


def load_manifest(run_dir: Path | str) -> dict[str, Any]:
    """RUN/manifest.json as a dict; an unreadable one is a `UserError` (it is written atomically, so
    only a hand edit or a foreign file gets here)."""
    path = _run_file(Path(run_dir), "manifest.json")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is unreadable: {error}", "pass the --out folder of `surfturf surf run`") from error
    if not isinstance(manifest, dict):
        raise UserError(f"{path} is not a run manifest (not a JSON object)", "pass the --out folder of `surfturf surf run`")
    return manifest
