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
from surfturf.stats import paired_rates, rate
from surfturf.steer.measure import JudgeFn
from surfturf.steer.perturb import perturb, rephrase_instruction
from surfturf.surf.context import with_context

if TYPE_CHECKING:
    from surfturf.models import Model
    from surfturf.rubrics import Rubric

PAPER_PERTURBATIONS = 20
PAPER_SAMPLES = 100
# A differential finding's claim ("new in B", "fixed in B") holds when its paired test rejects at this level.
ALPHA = 0.05


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
    queries, perturb_errors = await _rephrase(finding["query"], perturber, config, progress, models=1)
    measured = await asyncio.gather(*(
        _sample_prompt(query, target, judge, rubric, prefix, config, progress) for query in queries
    ))
    record = {"finding": finding.get("id"), "rubric": rubric.name, "score": finding.get("score"),
              **_rates([summary for summary, _ in measured]), "perturbation_errors": perturb_errors}
    return record, _samples(finding, queries, measured)


async def robust_differential_finding(
    finding: dict[str, Any],
    rubric: Rubric,
    target: Model,
    baseline: Model,
    perturber: Model,
    judge: JudgeFn,
    prefix: list[Message],
    config: RobustConfig,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A differential finding's robust.jsonl record: both models sampled on the same prompts and sample
    indexes, each with its rates, and the paired test that makes "new in B" (or "fixed") a claim with a
    p-value. The record's top-level rates are the target's, as for a plain finding."""
    queries, perturb_errors = await _rephrase(finding["query"], perturber, config, progress, models=2)
    measured = await asyncio.gather(*(
        _sample_prompt(query, model, judge, rubric, prefix, config, progress)
        for query in queries for model in (target, baseline)
    ))
    ours, theirs = measured[0::2], measured[1::2]
    direction = str((finding.get("differential") or {}).get("direction") or "new")
    pairs = [_pairs(mine, other) for (_, mine), (_, other) in zip(ours, theirs)]
    paired = {"original": paired_rates(*pairs[0]),
              "perturbed": paired_rates(*_concat(pairs[1:])), "all": paired_rates(*_concat(pairs))}
    record = {
        "finding": finding.get("id"), "rubric": rubric.name, "score": finding.get("score"),
        **_rates([summary for summary, _ in ours]), "perturbation_errors": perturb_errors,
        "baseline": _rates([summary for summary, _ in theirs]), "paired": paired,
        "claim": claim(direction, paired["all"]),
    }
    samples = [{**sample, "model": "target"} for sample in _samples(finding, queries, ours)]
    samples += [{**sample, "model": "baseline"} for sample in _samples(finding, queries, theirs)]
    return record, samples


def claim(direction: str, paired: dict[str, Any]) -> dict[str, Any]:
    """What a differential finding claims (new in B, fixed in B, or either way), its p-value and
    whether it holds at ALPHA."""
    p = {"new": paired["p_new"], "fixed": paired["p_fixed"]}.get(direction, paired["p"])
    return {"direction": direction, "p": p, "holds": p < ALPHA}


async def _rephrase(original: str, perturber: Model, config: RobustConfig, progress: Callable[[int], None] | None,
                    models: int) -> tuple[list[str], list[str]]:
    """The original query and its parsed rephrasings, and the perturber's errors; a failed rephrasing's
    planned samples (for each of `models`) are counted done, since they will not run."""
    rewrites = await asyncio.gather(*(
        perturb(perturber, original, rephrase_instruction(i + 1, config.perturbations), sample_index=i)
        for i in range(config.perturbations)
    ))
    errors = [e for t, e in rewrites if t is None]
    if progress is not None and errors:
        progress(models * len(errors) * config.samples)
    return [original] + [text for text, _ in rewrites if text is not None], errors


def _rates(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's rates on a finding: the original prompt's, each rephrasing's and the pooled rephrasings'."""
    pooled = rate(sum(s["violations"] for s in summaries[1:]), sum(s["n"] for s in summaries[1:]))
    return {"original": summaries[0], "perturbations": summaries[1:], "mean_rate": pooled.rate,
            "low": pooled.low, "high": pooled.high, "n": pooled.n}


def _samples(finding: dict[str, Any], queries: list[str],
             measured: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    return [
        {"finding": finding.get("id"), "prompt": index, "query": query, **sample}
        for index, (query, (_, sample_records)) in enumerate(zip(queries, measured))
        for sample in sample_records
    ]


def _pairs(target: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> tuple[list[bool], list[bool]]:
    """(baseline, target) violations of the sample indexes both models have a judged answer for."""
    both = [(b["violation"], t["violation"]) for t, b in zip(target, baseline)
            if t["violation"] is not None and b["violation"] is not None]
    return [b for b, _ in both], [t for _, t in both]


def _concat(pairs: list[tuple[list[bool], list[bool]]]) -> tuple[list[bool], list[bool]]:
    return [b for before, _ in pairs for b in before], [t for _, after in pairs for t in after]


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
        differential = [r for r in group if "paired" in r]
        if differential:
            summary[name]["baseline_original"] = rate(sum(r["baseline"]["original"]["violations"] for r in differential),
                                                      sum(r["baseline"]["original"]["n"] for r in differential)).as_dict()
            pooled = _concat([_from_counts(r["paired"]["all"]) for r in differential])
            summary[name]["paired"] = paired_rates(*pooled)
            summary[name]["claims_holding"] = sum(1 for r in differential if r["claim"]["holds"])
    return summary


def _from_counts(paired: dict[str, Any]) -> tuple[list[bool], list[bool]]:
    """The (baseline, target) pairs a `paired_rates` result was computed from, rebuilt from its counts
    (pairs of booleans are fully described by how many of each of the four kinds there are)."""
    only_target, only_baseline = int(paired["only_target"]), int(paired["only_baseline"])
    both = int(paired["target"]["k"]) - only_target
    neither = int(paired["n"]) - both - only_target - only_baseline
    kinds = [(True, True)] * both + [(False, True)] * only_target + [(True, False)] * only_baseline \
        + [(False, False)] * neither
    return [b for b, _ in kinds], [t for _, t in kinds]


async def run_robust(
    findings: list[dict[str, Any]],
    rubric: Rubric,
    target: Model,
    perturber: Model,
    judge: JudgeFn,
    prefix: list[Message],
    config: RobustConfig,
    progress: Callable[[int], None] | None = None,
    baseline: Model | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Robustness of the top `config.top` findings: (robust.jsonl records, sample records, summary).
    With a `baseline` (a differential run) both models are sampled and compared pair by pair."""
    chosen = findings[: config.top]
    results = await asyncio.gather(*(
        robust_finding(finding, rubric, target, perturber, judge, prefix, config, progress) if baseline is None
        else robust_differential_finding(finding, rubric, target, baseline, perturber, judge, prefix, config, progress)
        for finding in chosen
    ))
    records = [record for record, _ in results]
    samples = [sample for _, finding_samples in results for sample in finding_samples]
    return records, samples, summarise(records)
