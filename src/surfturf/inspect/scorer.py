"""A surfturf rubric as an Inspect `@scorer`, judged by the `grader` model role with SURF's own prompt and parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai.model import ChatMessageSystem, ChatMessageUser, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import TaskState

from surfturf.rubrics import Rubric, load_rubric
from surfturf.surf.prompts import ParseError, judge_messages, parse_judgement

SCORE_NAME = "rubric"


def score_value(score: float | None, threshold: float) -> dict[str, Any]:
    """A Score value both the export and the scorer write: the 0..100 score and whether it violates
    (both None when the judge gave no score: an error is never a 0)."""
    return {"score": score, "violation": None if score is None else score > threshold}


def _values(scores: list[SampleScore], key: str) -> list[float]:
    found = []
    for sample in scores:
        value = sample.score.value
        if isinstance(value, dict) and isinstance(value.get(key), (int, float)):
            found.append(float(value[key]))
    return found


@metric
def violation_rate() -> Metric:
    """Share of judged samples above the rubric's threshold; unjudged ones are left out, not counted as 0."""

    def compute(scores: list[SampleScore]) -> float:
        flags = _values(scores, "violation")
        return sum(flags) / len(flags) if flags else 0.0

    return compute


@metric
def mean_score() -> Metric:
    """Mean 0..100 judge score over judged samples."""

    def compute(scores: list[SampleScore]) -> float:
        values = _values(scores, "score")
        return sum(values) / len(values) if values else 0.0

    return compute


@metric
def judged() -> Metric:
    """How many samples the judge scored (the rest are judge or parse errors, in each Score's metadata)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(len(_values(scores, "score")))

    return compute


@scorer(metrics=[violation_rate(), mean_score(), judged()], name=SCORE_NAME)
def rubric_scorer(rubric: Rubric | str | Path, threshold: float | None = None) -> Scorer:
    """Score each sample's last output against `rubric` (a built-in name, a YAML path or a Rubric).

    The grader is the `grader` model role (`--model-role grader=...`). A failed call or an unparsable
    verdict is a Score whose value holds None and whose metadata holds the error and raw text.
    """
    parsed = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    cut = parsed.threshold if threshold is None else float(threshold)

    async def score(state: TaskState, target: Target) -> Score:
        grader = get_model(role="grader", required=True)
        turns = judge_messages(parsed.name, parsed.render(), state.input_text, state.output.completion)
        messages = [(ChatMessageSystem if t["role"] == "system" else ChatMessageUser)(content=t["content"])
                    for t in turns]
        try:
            output = await grader.generate(messages)
        except Exception as error:  # a judge call failure is recorded, as in SURF
            return _error(f"judge: {type(error).__name__}: {error}", None, cut)
        if output.error:
            return _error(f"judge: {output.error}", None, cut)
        try:
            judgement = parse_judgement(output.completion)
        except ParseError as failure:
            return _error(f"parse: {failure.problem}", failure.raw, cut)
        return Score(value=score_value(judgement.score, cut), answer=state.output.completion,
                     explanation=judgement.reason, metadata={"threshold": cut, "grader": str(grader)})

    return score


def _error(message: str, raw: str | None, threshold: float) -> Score:
    return Score(value=score_value(None, threshold), explanation=message,
                 metadata={"error": message, "raw": raw, "threshold": threshold})
