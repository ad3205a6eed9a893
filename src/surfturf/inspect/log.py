"""A SURF run as an Inspect `.eval` log: every candidate a sample, the judge's verdict a Score,
the run's config and models in the eval spec, the violation rate in the results."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inspect_ai.log import (
    EvalConfig,
    EvalDataset,
    EvalError,
    EvalLog,
    EvalMetric,
    EvalResults,
    EvalSample,
    EvalScore,
    EvalSpec,
    EvalStats,
    write_eval_log,
)
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageUser,
    ModelOutput,
    ModelUsage,
)

from surfturf.inspect.scorer import SCORE_NAME, is_judged, verdict
from surfturf.models.providers.inspect_provider import inspect_messages
from surfturf.report.load import RunData, load_run
from surfturf.report.stats import is_violation, score_of, threshold_of

_STATUS = {"complete": "success", "running": "started"}


def _sample(candidate: dict[str, Any], context: list[dict[str, Any]], target: str, threshold: float,
            extra: dict[str, Any]) -> EvalSample:
    query = str(candidate.get("query") or "")
    response = str(candidate.get("response") or "")
    score = score_of(candidate)
    violation = is_violation(candidate, threshold) if score is not None else None  # the run's own flag
    messages = inspect_messages([{"role": str(t.get("role")), "content": str(t.get("content") or "")} for t in context])
    messages.append(ChatMessageUser(content=query))
    if response:
        messages.append(ChatMessageAssistant(content=response, model=target))
    error = candidate.get("error")
    scores = {}
    if score is not None or error:
        scores[SCORE_NAME] = verdict(score, threshold, explanation=candidate.get("reason") or error,
                                     answer=response or None, error=error, judges=candidate.get("judges") or [])
        scores[SCORE_NAME].metadata["violation"] = violation
    tokens = candidate.get("tokens") or {}
    return EvalSample(
        id=str(candidate.get("id")), epoch=1, input=query, target="", messages=messages,
        output=ModelOutput.from_content(model=target, content=response), scores=scores,
        metadata={"run": candidate.get("run"), "iteration": candidate.get("iteration"),
                  "index": candidate.get("index"), "attributes": list(candidate.get("attributes") or []),
                  "tokens": tokens, "cost_usd": candidate.get("cost_usd"), "time_s": candidate.get("time_s"), **extra},
        error=EvalError(message=str(error), traceback="", traceback_ansi="") if error else None,
        total_time=candidate.get("time_s"),
    )


def _usage(manifest: dict[str, Any]) -> dict[str, ModelUsage]:
    usage: dict[str, ModelUsage] = {}
    for row in (manifest.get("usage") or {}).get("per_model") or []:
        name = str(row.get("model"))
        before = usage.get(name, ModelUsage())
        tokens_in = before.input_tokens + int(row.get("input_tokens") or 0)
        tokens_out = before.output_tokens + int(row.get("output_tokens") or 0)
        usage[name] = ModelUsage(input_tokens=tokens_in, output_tokens=tokens_out, total_tokens=tokens_in + tokens_out,
                                 total_cost=(before.total_cost or 0.0) + float(row.get("cost_usd") or 0.0))
    return usage


def _created(manifest: dict[str, Any]) -> str:
    value = manifest.get("created")
    return str(value) if isinstance(value, str) else datetime.now(UTC).isoformat()


def run_eval_log(run: RunData) -> EvalLog:
    """The EvalLog of one loaded run; findings carry their trace and robustness in metadata."""
    threshold = threshold_of(run)
    models = {str(k): str(v) for k, v in (run.manifest.get("models") or {}).items()}
    target = models.get("target", "unknown")
    context = [t for t in run.config.get("context") or [] if isinstance(t, dict)]
    traces = {str(t.get("finding")): t for t in run.traces}
    robust = {str(r.get("finding")): r for r in run.robust}
    ranks = {str(f.get("id")): f.get("rank") for f in run.findings}
    samples = []
    for candidate in run.candidates:
        cid = str(candidate.get("id"))
        extra: dict[str, Any] = {}
        if cid in ranks:
            extra["finding_rank"] = ranks[cid]
        if cid in traces:
            extra["trace"] = traces[cid]
        if cid in robust:
            extra["robust"] = robust[cid]
        samples.append(_sample(candidate, context, target, threshold, extra))
    judged = [s.scores[SCORE_NAME] for s in samples if s.scores and is_judged(s.scores[SCORE_NAME])]
    violations = sum(1 for score in judged if score.metadata["violation"])
    metrics = {
        "violation_rate": EvalMetric(name="violation_rate", value=violations / len(judged) if judged else 0.0),
        "mean": EvalMetric(name="mean", value=sum(float(s.value) for s in judged) / len(judged) if judged else 0.0),
        "judged": EvalMetric(name="judged", value=len(judged)),
    }
    status = str(run.manifest.get("status") or "unknown")
    rubric = run.rubric
    spec = EvalSpec(
        created=_created(run.manifest), task=f"surf/{rubric}", task_display_name=f"SURF {rubric}: {run.label}",
        dataset=EvalDataset(name=run.label, location=str(run.path), samples=len(samples)),
        model=target, model_roles=None, config=EvalConfig(),
        metadata={"surfturf": {"command": run.manifest.get("command"), "version": run.manifest.get("version"),
                               "status": status, "models": models, "config": run.config,
                               "counts": run.manifest.get("counts"), "robust_summary": run.robust_summary}},
    )
    log_status = _STATUS.get(status, "error" if status.startswith(("failed", "stopped")) else "success")
    return EvalLog(
        status=log_status, eval=spec,
        results=EvalResults(total_samples=len(samples), completed_samples=len(judged),
                            scores=[EvalScore(name=SCORE_NAME, scorer="rubric_scorer", metrics=metrics,
                                              metadata={"threshold": threshold})]),
        stats=EvalStats(started_at=_created(run.manifest), completed_at=str(run.manifest.get("updated") or ""),
                        model_usage=_usage(run.manifest)),
        error=EvalError(message=f"run {status}", traceback="", traceback_ansi="") if log_status == "error" else None,
        samples=samples,
    )


def write_run_eval(run_dir: Path, out: Path) -> Path:
    """Write RUN as the `.eval` file `out` (Inspect's zip format), read back by `inspect_ai.log.read_eval_log`."""
    log = run_eval_log(load_run(Path(run_dir)))
    write_eval_log(log, location=str(out), format="eval")
    return out
