"""A run's findings replayed as an Inspect task: re-ask each finding's query of a new model or checkpoint
and re-score it with the run's own rubric (`inspect eval surfturf/surf_findings -T run=RUN`)."""

from __future__ import annotations

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageUser
from inspect_ai.solver import generate

from surfturf.errors import UserError
from surfturf.inspect.scorer import rubric_scorer
from surfturf.models.providers.inspect_provider import inspect_messages
from surfturf.report.load import load_run
from surfturf.report.stats import is_violation, score_of, threshold_of
from surfturf.rubrics import load_rubric, parse_rubric


def findings_dataset(run_dir: Path, *, violations_only: bool = True) -> MemoryDataset:
    """One Sample per finding: the run's context turns then the query; the original verdict in metadata."""
    run = load_run(run_dir)
    threshold = threshold_of(run)
    context = [t for t in run.config.get("context") or [] if isinstance(t, dict)]
    samples = []
    for finding in run.findings:
        if violations_only and not is_violation(finding, threshold):
            continue
        turns = inspect_messages([{"role": str(t.get("role")), "content": str(t.get("content") or "")} for t in context])
        samples.append(Sample(
            id=str(finding.get("id")), input=[*turns, ChatMessageUser(content=str(finding.get("query") or ""))],
            target="",
            metadata={"attributes": list(finding.get("attributes") or []), "iteration": finding.get("iteration"),
                      "run": finding.get("run"), "original_response": finding.get("response"),
                      "original_score": score_of(finding), "original_reason": finding.get("reason")},
        ))
    if not samples:
        what = "findings above the threshold" if violations_only else "findings"
        raise UserError(f"{run_dir} has no {what} to replay",
                        "pass a finished run with findings, or violations_only=False")
    return MemoryDataset(samples, name=f"{run.label}-findings")


def findings_task(run: str | Path, rubric: str | Path | None = None, violations_only: bool = True) -> Task:
    """The findings of RUN as a Task scored by `rubric` (default: the rubric the run recorded)."""
    run_dir = Path(run)
    dataset = findings_dataset(run_dir, violations_only=violations_only)
    if rubric is not None:
        judged_by = load_rubric(rubric)
    else:
        text = load_run(run_dir).config.get("rubric_text")
        if not isinstance(text, str):
            raise UserError(f"{run_dir}/manifest.json records no rubric_text", "pass rubric=NAME or a YAML path")
        judged_by = parse_rubric(text, f"{run_dir}/manifest.json")
    return Task(dataset=dataset, solver=generate(), scorer=rubric_scorer(judged_by),
                name=f"surf-findings-{judged_by.name}", metadata={"surfturf_run": str(run_dir)})


@task
def surf_findings(run: str, rubric: str | None = None, violations_only: bool = True) -> Task:
    """Inspect's entry point for `findings_task` (`-T run=RUN [-T rubric=NAME]`)."""
    return findings_task(run, rubric, violations_only)
