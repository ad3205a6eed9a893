"""Findings as CSV (for spreadsheets) and JSONL (for code), joined with their trace and robustness.

RUN/findings.csv: one row per finding; cells that a spreadsheet would run as a formula
(starting with = + - @ tab or carriage return) get a leading apostrophe, as OWASP advises.
RUN/findings.export.jsonl: the same rows with exact text and lists kept as lists.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from surfturf.io.files import write_text_atomic
from surfturf.report import stats
from surfturf.report.load import RunData

COLUMNS = ("rank", "id", "run", "iteration", "score", "violation", "query", "response", "reason",
           "attributes", "error", "trigger", "trigger_hits", "crux", "top_chunk", "trace_sentence",
           "robust_rate", "robust_low", "robust_high")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_rows(run: RunData) -> list[dict[str, Any]]:
    """One flat record per finding, with its trace's trigger and chunk and its robustness rate."""
    traces = {str(t.get("finding")): t for t in run.traces}
    robust = {str(r.get("finding")): r for r in run.robust}
    threshold = stats.threshold_of(run)
    rows = []
    for n, finding in enumerate(run.findings):
        fid = str(finding.get("id"))
        trace = traces.get(fid) or {}
        trigger = trace.get("trigger") if isinstance(trace.get("trigger"), dict) else {}
        chunks = [c for c in trace.get("chunks") or [] if isinstance(c, dict)]
        top_chunk = max(chunks, key=lambda c: float(c.get("lift") or 0), default={})
        check = robust.get(fid) or {}
        rows.append({
            "rank": finding.get("rank", n + 1), "id": finding.get("id"), "run": finding.get("run"),
            "iteration": finding.get("iteration"), "score": stats.score_of(finding),
            "violation": stats.is_violation(finding, threshold), "query": finding.get("query"),
            "response": finding.get("response"), "reason": finding.get("reason"),
            "attributes": list(finding.get("attributes") or []), "error": finding.get("error"),
            "trigger": trigger.get("text"), "trigger_hits": trigger.get("hits"),
            "crux": list(trace.get("crux") or []), "top_chunk": top_chunk.get("source"),
            "trace_sentence": trace.get("sentence"), "robust_rate": check.get("mean_rate"),
            "robust_low": check.get("low"), "robust_high": check.get("high"),
        })
    return rows


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " | ".join(str(v) for v in value)
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_exports(run: RunData) -> list[Path]:
    """RUN/findings.csv and RUN/findings.export.jsonl; returns both paths."""
    rows = export_rows(run)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in COLUMNS])
    csv_path = run.path / "findings.csv"
    jsonl_path = run.path / "findings.export.jsonl"
    write_text_atomic(csv_path, buffer.getvalue())
    write_text_atomic(jsonl_path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return [csv_path, jsonl_path]
