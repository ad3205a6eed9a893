"""`surfturf robust RUN`: are a SURF run's top findings systematic failures? Writes RUN/robust/."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from surfturf.cli.options import RoleConfig, RuntimeOptions, role_options, runtime_options
from surfturf.cli.outcome import exit_if_failed
from surfturf.errors import UserError
from surfturf.io.files import write_json_atomic, write_jsonl_atomic
from surfturf.io.manifest import file_input, manifest, run_status, run_usage
from surfturf.io.ownership import claim_dir
from surfturf.models import GenerateConfig
from surfturf.rubrics import load_rubric
from surfturf.steer.failure import robust_failure
from surfturf.steer.measure import panel_judge
from surfturf.steer.robust import PAPER_PERTURBATIONS, PAPER_SAMPLES, RobustConfig, run_robust
from surfturf.surf.context import build_prefix, context_options
from surfturf.surf.differential import is_differential
from surfturf.surf.findings import load_findings, load_manifest
from surfturf.surf.progress import counter
from surfturf.turf.trace_files import run_rubric

TOKENS_IN, TOKENS_OUT = 400, 300  # rough per-call sizes for --dry-run estimates


def _role_from_run(given: RoleConfig, recorded: dict[str, Any] | None) -> RoleConfig:
    """A role the user did not name falls back to what the run used (spec and base URL)."""
    if given.spec or not recorded:
        return given
    return replace(given, spec=recorded.get("spec"), base_url=given.base_url or recorded.get("base_url"),
                   key_env=given.key_env or recorded.get("api_key_env"))


# Robustness counts how often a failure recurs across samples: the target must sample (above 0).
SAMPLING = GenerateConfig(temperature=1.0)


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
    run_manifest = load_manifest(run)
    findings = [finding for finding in load_findings(run) if finding.get("violation")]
    if not findings:
        raise UserError(f"{run} has no finding that violates its rubric", "run SURF longer, or on another rubric")
    chosen_rubric = load_rubric(rubric) if rubric else run_rubric(run_manifest)
    threshold = run_manifest.get("config", {}).get("threshold")
    if rubric is None and threshold is not None:
        chosen_rubric = chosen_rubric.model_copy(update={"threshold": float(threshold)})
    recorded = run_manifest.get("config", {})
    target_role = _role_from_run(roles["target"], recorded.get("target"))
    baseline_role = _role_from_run(roles["baseline"], recorded.get("baseline")) if is_differential(run_manifest) \
        or roles["baseline"].spec else None
    if baseline_role is not None and not is_differential(run_manifest):
        raise UserError(f"{run} is not a differential run, so --baseline has no findings to compare",
                        "run `surfturf surf run --target B --baseline A` first, or drop --baseline")
    judge_roles = [roles["judge"]] if roles["judge"].spec else [
        _role_from_run(roles["judge"], judge) for judge in recorded.get("judges", [])
    ] or [roles["judge"]]
    perturber_role = roles["perturber"]
    if not perturber_role.spec and (target_role.spec or "").startswith("world/"):
        perturber_role = replace(perturber_role, spec="world/perturber", base_url=target_role.base_url, key_env=None)
    config = RobustConfig(top=top, perturbations=perturbations, samples=samples)
    chosen = findings[:top]
    prefix, context = build_prefix(system_prompt, icl_examples, icl_file, run / "candidates.jsonl",
                                   exclude={f["query"] for f in chosen})
    out_dir = out or run / "robust"

    if not runtime.dry_run:
        click.get_current_context().with_resource(claim_dir(out_dir, "robust", resume=False))
    session = runtime.session(ledger=None if runtime.dry_run else out_dir / "spend.jsonl")
    target = target_role.model(session, SAMPLING)
    baseline = baseline_role.model(session, SAMPLING) if baseline_role is not None else None
    answerers = 2 if baseline is not None else 1
    perturber = perturber_role.model(session) if perturbations else target
    judges = [role.model(session) for role in judge_roles]
    prompts = len(chosen) * (perturbations + 1)
    if runtime.dry_run:
        if perturbations:
            session.estimate("perturber", perturber_role.require(), len(chosen) * perturbations, TOKENS_IN, TOKENS_OUT)
        session.estimate("target", target_role.require(), prompts * samples, TOKENS_IN, TOKENS_OUT)
        if baseline_role is not None:
            session.estimate("baseline", baseline_role.require(), prompts * samples, TOKENS_IN, TOKENS_OUT)
        for role in judge_roles:
            session.estimate("judge", role.require(), answerers * prompts * samples, TOKENS_IN * 3, TOKENS_OUT)
        for line in session.plan_lines():
            click.echo(line)
        asyncio.run(session.aclose())
        return

    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        with counter("robust samples", answerers * prompts * samples) as advance:
            try:
                return await run_robust(findings, chosen_rubric, target, perturber, panel_judge(judges), prefix, config,
                                        progress=advance, baseline=baseline)
            finally:
                await session.aclose()

    records, sample_records, summary = asyncio.run(go())
    status, stopped = run_status(
        session, all_failed=bool(sample_records) and all(s["violation"] is None for s in sample_records))
    failure = robust_failure(records, sample_records, perturbations)
    if failure and stopped is None:
        status, stopped = "failed", failure
    write_jsonl_atomic(out_dir / "robust.jsonl", records)
    write_jsonl_atomic(out_dir / "samples.jsonl", sample_records)
    write_json_atomic(out_dir / "summary.json", summary)
    inputs = [file_input(run / "findings.jsonl", "findings"), file_input(run / "manifest.json", "run manifest")]
    if icl_file is not None:
        inputs.append(file_input(icl_file, "icl examples"))
    if system_prompt is not None:
        inputs.append(file_input(system_prompt, "system prompt"))
    write_json_atomic(out_dir / "manifest.json", manifest(
        config={"run": str(run), "rubric": chosen_rubric.name, "threshold": chosen_rubric.threshold, "top": top,
                "perturbations": perturbations, "samples": samples,
                "settings": {"target": target_role.record(SAMPLING), "perturber": perturber_role.record(),
                             "judge": [role.record() for role in judge_roles],
                             **({"baseline": baseline_role.record(SAMPLING)} if baseline_role else {})},
                "context": context, "runtime": runtime.config()},
        models={"target": target_role.spec, "perturber": perturber_role.spec if perturbations else None,
                "judge": [role.spec for role in judge_roles],
                **({"baseline": baseline_role.spec} if baseline_role else {})},
        inputs=inputs,
        counts={"findings": len(records), "prompts": sum(1 + len(r["perturbations"]) for r in records),
                "samples": len(sample_records), "errors": sum(1 for s in sample_records if s["violation"] is None)},
        usage=run_usage(session), seeds={"sample_index": f"0..{samples - 1}"}, status=status,
    ) | ({"stopped": stopped} if stopped else {}))
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
    click.echo(f"wrote {out_dir}/robust.jsonl, summary.json ({status})")
    click.echo(json.dumps({"status": status, "out": str(out_dir), "rubrics": summary}))
    exit_if_failed("robust", stopped)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"
