"""Robustness of SURF findings: is a failure systematic, or one unlucky sample?

For each top finding, P perturbations that keep its substance (perturber role), S samples of
the target for the original and each perturbation (sample_index 0..S-1), each judged against
the run's rubric. Rates carry 95% Wilson intervals. Defaults are small (5 x 10); the paper
used 20 perturbations x 100 samples.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from surfturf.models.types import Message
from surfturf.stats import rate
from surfturf.steer.measure import JudgeFn
from surfturf.steer.perturb import perturb, rephrase_instruction
from surfturf.surf.context import with_context

if TYPE_CHECKING:
    from surfturf.models import Model
    from surfturf.rubrics import Rubric

PAPER_PERTURBATIONS = 20
PAPER_SAMPLES = 100


@dataclass(frozen=True)
class RobustConfig:
    """How many findings, perturbations and samples (the target model carries its own settings)."""

    top: int = 5
    perturbations: int = 5
    samples: int = 10


async def _sample_prompt(
    query: str,
    target: Model,
    judge: JudgeFn,
    rubric: Rubric,
    prefix: list[Message],
    config: RobustConfig,
    progress: Callable[[int], None] | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """S samples of the target for one prompt, judged; the Wilson rate and the sample records."""
    async def one(sample_index: int) -> dict[str, Any]:
        result = await target.generate(with_context(prefix, query), sample_index=sample_index)
        record: dict[str, Any] = {"sample_index": sample_index, "response": None, "score": None,
                                  "reason": None, "violation": None, "error": None}
        if result.error:
            record["error"] = f"target: {result.error}"
        else:
            record["response"] = result.text
            score, reason, error = await judge(rubric, query, result.text)
            record.update(score=score, reason=reason, error=error)
            if error is None and score is not None:
                record["violation"] = score > rubric.threshold
        if progress is not None:
            progress(1)
        return record

    records = list(await asyncio.gather(*(one(s) for s in range(config.samples))))
    judged = [r for r in records if r["violation"] is not None]
    violations = sum(1 for r in judged if r["violation"])
    measured = rate(violations, len(judged))
    summary = {"query": query, "rate": measured.rate, "low": measured.low, "high": measured.high,
               "n": measured.n, "violations": violations, "errors": len(records) - len(judged)}
    return summary, records


async def robust_finding(
    finding: dict[str, Any],
    rubric: Rubric,
    target: Model,
    perturber: Model,
    judge: JudgeFn,
    prefix: list[Message],
    config: RobustConfig,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The robust.jsonl record for one finding and its sample records."""
    original = finding["query"]
    rewrites = await asyncio.gather(*(
        perturb(perturber, original, rephrase_instruction(i + 1, config.perturbations), sample_index=i)
        for i in range(config.perturbations)
    ))
    queries = [original] + [text for text, _ in rewrites if text is not None]
    perturb_errors = [error for text, error in rewrites if text is None]
    if progress is not None and perturb_errors:
        progress(len(perturb_errors) * config.samples)  # planned samples that will not run
    measured = await asyncio.gather(*(
        _sample_prompt(query, target, judge, rubric, prefix, config, progress) for query in queries
    ))
    original_summary = measured[0][0]
    perturbation_summaries = [summary for summary, _ in measured[1:]]
    pooled_k = sum(s["violations"] for s in perturbation_summaries)
    pooled_n = sum(s["n"] for s in perturbation_summaries)
    pooled = rate(pooled_k, pooled_n)
    record = {
        "finding": finding.get("id"),
        "rubric": rubric.name,
        "score": finding.get("score"),
        "original": original_summary,
        "perturbations": perturbation_summaries,
        "perturbation_errors": perturb_errors,
        "mean_rate": pooled.rate,
        "low": pooled.low,
        "high": pooled.high,
        "n": pooled.n,
    }
    samples = [
        {"finding": finding.get("id"), "prompt": index, "query": query, **sample}
        for index, (query, (_, sample_records)) in enumerate(zip(queries, measured))
        for sample in sample_records
    ]
    return record, samples


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per rubric: pooled original and perturbed failure rates (Wilson), and how many findings hold up.

    A finding "holds up" when its perturbed rate's lower 95% bound is above zero: the failure
    recurs under rephrasing more often than chance alone would allow for a zero rate.
    """
    by_rubric: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_rubric[record["rubric"]].append(record)
    summary: dict[str, Any] = {}
    for name, group in sorted(by_rubric.items()):
        original = rate(sum(r["original"]["violations"] for r in group), sum(r["original"]["n"] for r in group))
        perturbed = rate(
            sum(p["violations"] for r in group for p in r["perturbations"]),
            sum(p["n"] for r in group for p in r["perturbations"]),
        )
        rates = [r["mean_rate"] for r in group if r["mean_rate"] is not None]
        summary[name] = {
            "findings": len(group),
            "original": original.as_dict(),
            "perturbed": perturbed.as_dict(),
            "mean_finding_rate": sum(rates) / len(rates) if rates else None,
            "findings_holding_up": sum(1 for r in group if r["n"] and r["low"] > 0),
        }
    return summary


async def run_robust(
    findings: list[dict[str, Any]],
    rubric: Rubric,
    target: Model,
    perturber: Model,
    judge: JudgeFn,
    prefix: list[Message],
    config: RobustConfig,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Robustness of the top `config.top` findings: (robust.jsonl records, sample records, summary)."""
    chosen = findings[: config.top]
    results = await asyncio.gather(*(
        robust_finding(finding, rubric, target, perturber, judge, prefix, config, progress) for finding in chosen
    ))
    records = [record for record, _ in results]
    samples = [sample for _, finding_samples in results for sample in finding_samples]
    return records, samples, summarise(records)
