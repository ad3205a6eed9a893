"""Read a SURF run directory and whatever later stages wrote into it (traces, robust, steer).

Tolerant by design: a run may still be running (a half-written last line, no findings yet),
and later stages are optional. What cannot be read is reported as a warning, not a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surfturf.errors import UserError
from surfturf.surf.buffer import normalise

# PAPER.md: above 50 counts as a violation, above 70 is an unambiguous failure.
DEFAULT_THRESHOLD = 50.0
# How many top candidates stand in for findings while a run has not written findings.jsonl.
PROVISIONAL_FINDINGS = 25


@dataclass
class RunData:
    """Everything the report shows about one RUN directory."""

    path: Path
    label: str
    manifest: dict[str, Any]
    candidates: list[dict[str, Any]]
    iterations: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    findings_provisional: bool = False
    traces: list[dict[str, Any]] = field(default_factory=list)
    robust: list[dict[str, Any]] = field(default_factory=list)
    robust_summary: Any = None
    steer: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cluster_names: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest.get("config") or {}

    @property
    def rubric(self) -> str:
        return str(self.config.get("rubric") or "unknown")


def read_jsonl(path: Path, warnings: list[str]) -> list[dict[str, Any]]:
    """Records of a JSONL file; a torn last line (a run still writing) is skipped quietly, any other
    bad line is a UserError naming the file and line (a silently shorter report would mislead)."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number < len(lines) - 1:
                raise UserError(f"{path} line {number + 1} is not valid JSON",
                                "repair or delete that line (it is not the torn last line of a running run)") from None
            continue
        if not isinstance(record, dict):
            raise UserError(f"{path} line {number + 1} is not a JSON object", "repair or delete that line")
        records.append(record)
    return records


def _read_json(path: Path, warnings: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        warnings.append(f"{path.name}: unreadable ({error.__class__.__name__})")
        return None


def normalise_query(query: str) -> str:
    """The key that matches the same finding across runs: case (casefolded), spacing and punctuation
    removed, with the tokenisation SURF's own deduplication uses."""
    return normalise(query.casefold())


def _provisional_findings(candidates: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    """Best candidates above the rubric's threshold, one per normalised query, while findings.jsonl
    does not exist yet (a candidate below it is not a finding, however high it ranks)."""
    scored = sorted((c for c in candidates if isinstance(c.get("score"), (int, float)) and c["score"] > threshold),
                    key=lambda c: -float(c["score"]))
    seen: set[str] = set()
    findings: list[dict[str, Any]] = []
    for candidate in scored:
        key = normalise_query(str(candidate.get("query") or ""))
        if key in seen:
            continue
        seen.add(key)
        findings.append({**candidate, "rank": len(findings) + 1})
        if len(findings) == PROVISIONAL_FINDINGS:
            break
    return findings


def _load_traces(traces_dir: Path, warnings: list[str]) -> list[dict[str, Any]]:
    """Per-finding trace files, or the summary lines where a per-finding file is missing."""
    traces: dict[str, dict[str, Any]] = {}
    for record in read_jsonl(traces_dir / "summary.jsonl", warnings):
        traces[str(record.get("finding"))] = record
    for file in sorted(traces_dir.glob("*.json")):
        if file.name == "manifest.json":
            continue
        record = _read_json(file, warnings)
        if isinstance(record, dict):
            traces[str(record.get("finding", file.stem))] = record
    return list(traces.values())


def _cluster_names(traces_dir: Path, traces: list[dict[str, Any]], warnings: list[str]) -> dict[str, str]:
    """Summaries of the clusters the traces' hit counts name, from the index the traces used.

    A trace names only its own query's clusters; the index (if still on disk) names the rest.
    """
    manifest = _read_json(traces_dir / "manifest.json", warnings) if (traces_dir / "manifest.json").is_file() else None
    index = ((manifest or {}).get("config") or {}).get("index") if isinstance(manifest, dict) else None
    table = Path(index) / "clusters.parquet" if isinstance(index, str) else None
    if table is None or not table.is_file():
        return {}
    wanted = {str(c) for t in traces for c in (t.get("hits") or {})}
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(table, columns=["cluster", "summary"]).to_pylist()
    except (OSError, ValueError, KeyError) as error:
        warnings.append(f"{table}: cluster summaries unreadable ({error.__class__.__name__})")
        return {}
    return {str(r["cluster"]): str(r["summary"]) for r in rows if str(r["cluster"]) in wanted and r["summary"]}


def _load_steer(run_dir: Path, warnings: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """steer.json files in the run directory or up to two folders below it."""
    found: list[tuple[str, dict[str, Any]]] = []
    for pattern in ("steer.json", "*/steer.json", "*/*/steer.json"):
        for file in sorted(run_dir.glob(pattern)):
            record = _read_json(file, warnings)
            if isinstance(record, dict):
                found.append((file.relative_to(run_dir).as_posix(), record))
    return found


def load_run(path: Path, label: str | None = None) -> RunData:
    """Read RUN; a directory with neither manifest.json nor candidates.jsonl is a user mistake."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(f"run directory {path} does not exist", "pass a directory written by `surfturf surf run`")
    has_manifest = (path / "manifest.json").is_file()
    if (path / "examples.parquet").is_file() or (path / "query_attributes.parquet").is_file():
        raise UserError(f"{path} is a TURF index, not a SURF run", "pass a directory written by `surfturf surf run`")
    if not has_manifest and not (path / "candidates.jsonl").is_file():
        raise UserError(f"{path} is not a SURF run directory (no manifest.json or candidates.jsonl)",
                        "pass a directory written by `surfturf surf run`")
    warnings: list[str] = []
    manifest = _read_json(path / "manifest.json", warnings) if has_manifest else None
    if not isinstance(manifest, dict):
        manifest = {}
        warnings.append("manifest.json missing or unreadable: run details are incomplete")
    candidates = read_jsonl(path / "candidates.jsonl", warnings)
    iterations = read_jsonl(path / "iterations.jsonl", warnings)
    provisional = not (path / "findings.jsonl").is_file()
    threshold = (manifest.get("config") or {}).get("threshold")
    threshold = float(threshold) if isinstance(threshold, (int, float)) else DEFAULT_THRESHOLD
    findings = _provisional_findings(candidates, threshold) if provisional else read_jsonl(path / "findings.jsonl", warnings)
    run = RunData(path=path, label=label or path.resolve().name, manifest=manifest, candidates=candidates,
                  iterations=iterations, findings=findings, findings_provisional=provisional, warnings=warnings)
    if (path / "traces").is_dir():
        run.traces = _load_traces(path / "traces", warnings)
        run.cluster_names = _cluster_names(path / "traces", run.traces, warnings)
    robust_dir = path / "robust"
    if robust_dir.is_dir():
        run.robust = read_jsonl(robust_dir / "robust.jsonl", warnings)
        if (robust_dir / "summary.json").is_file():
            run.robust_summary = _read_json(robust_dir / "summary.json", warnings)
    run.steer = _load_steer(path, warnings)
    return run


def load_runs(paths: list[Path]) -> list[RunData]:
    """Load several runs with labels that stay distinct even when folder names repeat."""
    if not paths:
        raise UserError("no run directory given", "pass at least one RUN directory")
    names = [Path(p).resolve().name for p in paths]
    labels = []
    for i, p in enumerate(paths):
        name = names[i]
        if names.count(name) > 1:
            name = f"{Path(p).resolve().parent.name}/{name}"
        if name in labels:
            name = f"{name} ({i + 1})"
        labels.append(name)
    return [load_run(Path(p), label) for p, label in zip(paths, labels)]
