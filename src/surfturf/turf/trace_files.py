"""RUN/traces/ on disk: which findings of a SURF run to trace, and the files a trace run writes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from surfturf.errors import UserError
from surfturf.io.files import sha256_file, write_json_atomic, write_jsonl_atomic
from surfturf.io.manifest import manifest as build_manifest
from surfturf.rubrics.loader import load_rubric, parse_rubric
from surfturf.rubrics.schema import Rubric
from surfturf.surf.findings import load_findings, load_manifest
from surfturf.turf.case import Case

SUMMARY = "summary.jsonl"


def run_rubric(manifest: dict[str, Any]) -> Rubric:
    """The rubric a SURF run was judged with: its recorded YAML, else the built-in of that name."""
    config = manifest.get("config", {})
    text, name = config.get("rubric_text"), config.get("rubric")
    if text:
        return parse_rubric(text, f"{name or 'run'} (from the run manifest)")
    if name:
        return load_rubric(name)
    raise UserError("the run manifest names no rubric (config.rubric)", "trace with --query/--response/--rubric")


def case_for(finding_id: str, query: str, response: str, rubric: Rubric, score: float | None = None) -> Case:
    return Case(finding=finding_id, query=query, response=response, rubric=rubric.name,
                rubric_text=rubric.render(), rubric_title=rubric.title, score=score)


def run_cases(run_dir: Path, finding_ids: list[str] | None = None, top: int | None = None) -> tuple[list[Case], Rubric]:
    """The findings to trace: the named ones, else the violations (best first, at most `top`)."""
    rubric = run_rubric(load_manifest(run_dir))
    findings = load_findings(run_dir)
    if finding_ids:
        by_id = {finding["id"]: finding for finding in findings}
        missing = [fid for fid in finding_ids if fid not in by_id]
        if missing:
            raise UserError(f"no finding {missing[0]} in {run_dir}/findings.jsonl", "use an id from `surfturf surf top`")
        chosen = [by_id[fid] for fid in finding_ids]
    else:
        chosen = [finding for finding in findings if finding.get("violation") and finding.get("response")]
        chosen = chosen[:top] if top is not None else chosen
    return [case_for(f["id"], f["query"], f["response"], rubric, f.get("score")) for f in chosen], rubric


def trace_filename(finding_id: str) -> str:
    """A safe file name for a finding id (ids are like r0-i3-c17; anything odd becomes '_')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", finding_id) + ".json"


def write_traces(out_dir: Path, records: list[dict], manifest: dict[str, Any]) -> None:
    """One JSON per finding, the JSONL summary, and the manifest, each written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for record in records:
        write_json_atomic(out_dir / trace_filename(record["finding"]), record)
    write_jsonl_atomic(out_dir / SUMMARY, records)
    write_json_atomic(out_dir / "manifest.json", manifest)


def save_traces(out_dir: Path, records: list[dict], *, run_dir: Path | None, index_dir: Path | None,
                config: dict[str, Any], models: dict[str, str | None], usage: dict[str, Any]) -> None:
    """Write the traces with their manifest (docs/CONTRACTS.md, File formats)."""
    inputs: dict[str, Path] = {}
    if run_dir is not None:
        inputs["findings"] = run_dir / "findings.jsonl"
    if index_dir is not None:
        inputs["index_manifest"] = index_dir / "manifest.json"
    config = {"run": str(run_dir) if run_dir else None, "index": str(index_dir) if index_dir else None, **config}
    write_traces(out_dir, records, trace_manifest(config=config, models=models, inputs=inputs, records=records,
                                                  usage=usage))


def trace_manifest(*, config: dict[str, Any], models: dict[str, str | None], inputs: dict[str, Path],
                   records: list[dict], usage: dict[str, Any]) -> dict[str, Any]:
    """The traces directory's manifest.json."""
    errors = sum(1 for record in records if record.get("error"))
    return build_manifest(
        command="turf trace", config=config, seeds={"vocabulary_sample": 0}, models=models,
        inputs={name: {"path": str(path), "sha256": sha256_file(path)} for name, path in inputs.items()},
        counts={"traced": len(records) - errors, "errors": errors}, usage=usage,
    )
