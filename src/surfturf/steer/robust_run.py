"""`surfturf robust RUN` as a library call: the run's violating findings, its rubric and roles, the
--dry-run plan, and the check itself with the files it leaves in RUN/robust/ (see steer/robust.py
for the measurement)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from surfturf.errors import UserError
from surfturf.io.files import write_json_atomic, write_jsonl_atomic
from surfturf.io.manifest import file_input, manifest, run_status, run_usage
from surfturf.models import GenerateConfig, Message, ModelSession
from surfturf.rubrics import Rubric, load_rubric
from surfturf.steer.failure import robust_failure
from surfturf.steer.measure import panel_judge
from surfturf.steer.robust import RobustConfig, run_robust
from surfturf.steer.steer import ProgressBar
from surfturf.surf.context import build_prefix
from surfturf.surf.differential import is_differential
from surfturf.surf.findings import load_findings, load_manifest
from surfturf.surf.generation import RoleConfig
from surfturf.turf.trace_files import run_rubric

TOKENS_IN, TOKENS_OUT = 400, 300  # rough per-call sizes for --dry-run estimates
# Robustness counts how often a failure recurs across samples: the target must sample (above 0).
SAMPLING = GenerateConfig(temperature=1.0)


def role_from_run(given: RoleConfig, recorded: dict[str, Any] | None) -> RoleConfig:
    """A role the user did not name falls back to what the run used (spec and base URL)."""
    if given.spec or not recorded:
        return given
    return replace(given, spec=recorded.get("spec"), base_url=given.base_url or recorded.get("base_url"),
                   key_env=given.key_env or recorded.get("api_key_env"))


@dataclass(frozen=True)
class RobustRoles:
    """Who answers, rephrases and judges: what the user named, else what the run used."""

    target: RoleConfig
    perturber: RoleConfig
    judges: list[RoleConfig]
    baseline: RoleConfig | None  # a differential run's baseline, sampled on the same prompts

    @classmethod
    def of(cls, run: Path, run_manifest: dict[str, Any], given: dict[str, RoleConfig]) -> RobustRoles:
        recorded = run_manifest.get("config", {})
        target = role_from_run(given["target"], recorded.get("target"))
        differential = is_differential(run_manifest)
        baseline = role_from_run(given["baseline"], recorded.get("baseline")) \
            if differential or given["baseline"].spec else None
        if baseline is not None and not differential:
            raise UserError(f"{run} is not a differential run, so --baseline has no findings to compare",
                            "run `surfturf surf run --target B --baseline A` first, or drop --baseline")
        judges = [given["judge"]] if given["judge"].spec else [
            role_from_run(given["judge"], judge) for judge in recorded.get("judges", [])
        ] or [given["judge"]]
        perturber = given["perturber"]
        if not perturber.spec and (target.spec or "").startswith("world/"):
            perturber = replace(perturber, spec="world/perturber", base_url=target.base_url, key_env=None)
        return cls(target, perturber, judges, baseline)

    def record(self, perturbations: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The manifest's `config.settings` and `models`."""
        settings = {"target": self.target.record(SAMPLING), "perturber": self.perturber.record(),
                    "judge": [role.record() for role in self.judges],
                    **({"baseline": self.baseline.record(SAMPLING)} if self.baseline else {})}
        models = {"target": self.target.spec, "perturber": self.perturber.spec if perturbations else None,
                  "judge": [role.spec for role in self.judges],
                  **({"baseline": self.baseline.spec} if self.baseline else {})}
        return settings, models


@dataclass
class RobustCheck:
    """One `surfturf robust` invocation, resolved: the run's violating findings, the rubric, the roles
    and the target's context."""

    run: Path
    findings: list[dict[str, Any]]
    rubric: Rubric
    roles: RobustRoles
    config: RobustConfig
    prefix: list[Message]
    context: dict[str, Any]
    inputs: list[dict[str, Any]]

    @property
    def prompts(self) -> int:
        """Prompts sampled: each chosen finding and its rephrasings."""
        return min(len(self.findings), self.config.top) * (self.config.perturbations + 1)


def prepare(run: Path, *, rubric: str | None, roles: dict[str, RoleConfig], config: RobustConfig,
            system_prompt: Path | None, icl_examples: int, icl_file: Path | None) -> RobustCheck:
    """The check for RUN's top violating findings: against `rubric` (else the run's, at its threshold)."""
    run_manifest = load_manifest(run)
    findings = [finding for finding in load_findings(run) if finding.get("violation")]
    if not findings:
        raise UserError(f"{run} has no finding that violates its rubric", "run SURF longer, or on another rubric")
    chosen_rubric = load_rubric(rubric) if rubric else run_rubric(run_manifest)
    threshold = run_manifest.get("config", {}).get("threshold")
    if rubric is None and threshold is not None:
        chosen_rubric = chosen_rubric.model_copy(update={"threshold": float(threshold)})
    resolved = RobustRoles.of(run, run_manifest, roles)
    prefix, context = build_prefix(system_prompt, icl_examples, icl_file, run / "candidates.jsonl",
                                   exclude={f["query"] for f in findings[:config.top]})
    inputs = [file_input(run / "findings.jsonl", "findings"), file_input(run / "manifest.json", "run manifest")]
    inputs += [file_input(path, kind) for path, kind in ((icl_file, "icl examples"), (system_prompt, "system prompt"))
               if path is not None]
    return RobustCheck(run, findings, chosen_rubric, resolved, config, prefix, context, inputs)


@dataclass
class RobustOutcome:
    """What `surfturf robust` prints: the --dry-run plan, or the records with how the check ended."""

    plan: list[str]
    records: list[dict[str, Any]]
    summary: dict[str, Any]
    status: str
    stopped: str | None


def robust_run(check: RobustCheck, open_session: Callable[[Path | None], ModelSession], out_dir: Path, *,
               runtime: dict[str, Any], dry_run: bool, progress: ProgressBar) -> RobustOutcome:
    """Sample, judge and write OUT/robust.jsonl, samples.jsonl, summary.json and manifest.json (spend
    ledger OUT/spend.jsonl); a dry run makes every role's model (a bad spec fails) and only plans."""
    session = open_session(None if dry_run else out_dir / "spend.jsonl")
    roles, config = check.roles, check.config
    target = roles.target.model(session, SAMPLING)
    baseline = roles.baseline.model(session, SAMPLING) if roles.baseline is not None else None
    perturber = roles.perturber.model(session) if config.perturbations else target
    judges = [role.model(session) for role in roles.judges]
    if dry_run:
        _estimate(check, session)
        asyncio.run(session.aclose())
        return RobustOutcome(session.plan_lines(), [], {}, "planned", None)
    answerers = 2 if baseline is not None else 1

    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        with progress("robust samples", answerers * check.prompts * config.samples) as advance:
            try:
                return await run_robust(check.findings, check.rubric, target, perturber, panel_judge(judges),
                                        check.prefix, config, progress=advance, baseline=baseline)
            finally:
                await session.aclose()

    records, samples, summary = asyncio.run(go())
    status, stopped = run_status(session, all_failed=bool(samples) and all(s["violation"] is None for s in samples))
    failure = robust_failure(records, samples, config.perturbations)
    if failure and stopped is None:
        status, stopped = "failed", failure
    write_jsonl_atomic(out_dir / "robust.jsonl", records)
    write_jsonl_atomic(out_dir / "samples.jsonl", samples)
    write_json_atomic(out_dir / "summary.json", summary)
    settings, models = roles.record(config.perturbations)
    write_json_atomic(out_dir / "manifest.json", manifest(
        config={"run": str(check.run), "rubric": check.rubric.name, "threshold": check.rubric.threshold,
                "top": config.top, "perturbations": config.perturbations, "samples": config.samples,
                "settings": settings, "context": check.context, "runtime": runtime},
        models=models,
        inputs=check.inputs,
        counts={"findings": len(records), "prompts": sum(1 + len(r["perturbations"]) for r in records),
                "samples": len(samples), "errors": sum(1 for s in samples if s["violation"] is None)},
        usage=run_usage(session), seeds={"sample_index": f"0..{config.samples - 1}"}, status=status,
    ) | ({"stopped": stopped} if stopped else {}))
    return RobustOutcome([], records, summary, status, stopped)


def _estimate(check: RobustCheck, session: ModelSession) -> None:
    """The planned calls per role: rephrasings, samples of each answering model, a judgement of each answer."""
    roles, config = check.roles, check.config
    samples = check.prompts * config.samples
    if config.perturbations:
        session.estimate("perturber", roles.perturber.require(), min(len(check.findings), config.top)
                         * config.perturbations, TOKENS_IN, TOKENS_OUT)
    session.estimate("target", roles.target.require(), samples, TOKENS_IN, TOKENS_OUT)
    if roles.baseline is not None:
        session.estimate("baseline", roles.baseline.require(), samples, TOKENS_IN, TOKENS_OUT)
    for role in roles.judges:
        session.estimate("judge", role.require(), (2 if roles.baseline else 1) * samples, TOKENS_IN * 3, TOKENS_OUT)
