"""`surfturf steer` as a library call: the prompts, transform, measure and targets resolved, the
--dry-run plan, and the steered score with the files it leaves in OUT/ (see steer/steer.py for the
measurement)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surfturf.io.files import write_json_atomic, write_jsonl_atomic
from surfturf.io.manifest import file_input, manifest, run_status, run_usage
from surfturf.models import ModelSession
from surfturf.steer.failure import steer_failure
from surfturf.steer.measure import panel_judge, resolve_measure
from surfturf.steer.steer import ProgressBar, PromptPair, read_prompts, steer_targets
from surfturf.steer.transforms import resolve_transform
from surfturf.surf.context import build_prefix
from surfturf.surf.generation import RoleConfig

TOKENS_IN, TOKENS_OUT = 200, 300  # rough per-call sizes for --dry-run estimates


@dataclass(frozen=True)
class SteerRequest:
    """One `surfturf steer` invocation as given: where the prompts are, the transform and measure
    specs, the (label, role) targets, the perturber and judge roles, and the target's context."""

    prompts: Path
    transform: str
    measure: str
    targets: list[tuple[str, RoleConfig]]
    perturber: RoleConfig
    judge: RoleConfig
    samples: int = 1
    limit: int | None = None
    seed: int = 0
    system_prompt: Path | None = None
    icl_examples: int = 0
    icl_file: Path | None = None


@dataclass
class SteerOutcome:
    """What `surfturf steer` prints: the --dry-run plan, or steer.json's content with how the run ended."""

    plan: list[str]
    result: dict[str, Any] | None
    status: str
    stopped: str | None


def steer_run(request: SteerRequest, open_session: Callable[[Path | None], ModelSession], out: Path, *,
              runtime: dict[str, Any], dry_run: bool, progress: ProgressBar) -> SteerOutcome:
    """Transform the prompts, run every target on both versions, measure, and write OUT/steer.json,
    pairs.jsonl and manifest.json (spend ledger OUT/spend.jsonl); a dry run makes every model (a bad
    spec fails) and only plans."""
    prompts = read_prompts(request.prompts, request.limit)
    transform = resolve_transform(request.transform)
    measure = resolve_measure(request.measure)
    prefix, context = build_prefix(request.system_prompt, request.icl_examples, request.icl_file)
    session = open_session(None if dry_run else out / "spend.jsonl")
    models = [(label, role.model(session)) for label, role in request.targets]
    perturber = request.perturber.model(session) if transform.needs_model else None
    judge = panel_judge([request.judge.model(session)]) if measure.needs_judge else None
    if dry_run:
        _estimate(request, session, len(prompts), transform.needs_model, measure.needs_judge)
        asyncio.run(session.aclose())
        return SteerOutcome(session.plan_lines(), None, "planned", None)

    async def go() -> tuple[list[PromptPair], list[dict[str, Any]], list[dict[str, Any]]]:
        try:
            return await steer_targets(prompts, transform, perturber, models, measure, judge, prefix,
                                       samples=request.samples, seed=request.seed, progress=progress)
        finally:
            await session.aclose()

    pairs, rows, records = asyncio.run(go())
    status, stopped = run_status(session)
    failure = steer_failure(pairs, records, transform.needs_model)
    if failure and stopped is None:
        status, stopped = "failed", failure
    result = {"transform": transform.name, "measure": measure.spec, "targets": rows}
    write_json_atomic(out / "steer.json", result)
    write_jsonl_atomic(out / "pairs.jsonl", records)
    inputs = [file_input(path, kind) for path, kind in ((request.prompts, "prompts"), (request.icl_file, "icl examples"),
                                                        (request.system_prompt, "system prompt")) if path]
    write_json_atomic(out / "manifest.json", manifest(
        config={"transform": transform.name, "measure": measure.spec, "samples": request.samples,
                "settings": {"targets": {label: role.record() for label, role in request.targets},
                             "perturber": request.perturber.record(), "judge": request.judge.record()},
                "limit": request.limit, "context": context, "runtime": runtime},
        models={"targets": {label: role.spec for label, role in request.targets},
                "perturber": request.perturber.spec if transform.needs_model else None,
                "judge": request.judge.spec if measure.needs_judge else None},
        inputs=inputs,
        counts={"prompts": len(prompts), "changed": sum(p.changed for p in pairs),
                "transform_errors": sum(p.transformed is None for p in pairs), "targets": len(rows)},
        usage=run_usage(session), seeds={"bootstrap": request.seed, "sample_index": f"0..{request.samples - 1}"},
        status=status,
    ) | ({"stopped": stopped} if stopped else {}))
    return SteerOutcome([], result, status, stopped)


def _estimate(request: SteerRequest, session: ModelSession, n_prompts: int, perturbed: bool, judged: bool) -> None:
    """The planned calls per role: a rewrite per prompt, both versions per target and sample, a judgement each."""
    calls = 2 * n_prompts * request.samples
    if perturbed:
        session.estimate("perturber", request.perturber.require(), n_prompts, TOKENS_IN, TOKENS_IN)
    for _, role in request.targets:
        session.estimate("target", role.require(), calls, TOKENS_IN, TOKENS_OUT)
        if judged:
            session.estimate("judge", request.judge.require(), calls, TOKENS_IN * 4, 100)
