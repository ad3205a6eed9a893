"""Steered score: run targets on original and cue-injected prompts and compare a behaviour's rate.

The design is paired (each prompt is its own control), so the difference carries a paired
bootstrap interval and a paired test: exact McNemar for a binary measure with one sample per
prompt, else Wilcoxon signed-rank over per-prompt means. Prompts the transform leaves unchanged
carry no cue and are left out (counted in `n_unchanged`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from surfturf.data.readers import iter_jsonl_objects
from surfturf.data.rows import tulu_pair
from surfturf.errors import UserError
from surfturf.models.types import Message
from surfturf.stats import mcnemar_exact, paired_bootstrap, rate, wilcoxon_signed_rank
from surfturf.steer.measure import JudgeFn, Measure, Outcome
from surfturf.steer.perturb import perturb
from surfturf.steer.transforms import Transform
from surfturf.surf.context import with_context

if TYPE_CHECKING:
    from surfturf.models import Model

Progress = Callable[[int], None]
# (label, total) -> a context whose value is an `advance(n)`: how the caller shows each target's progress.
ProgressBar = Callable[[str, int], AbstractContextManager[Progress]]


@dataclass
class PromptPair:
    """One prompt and its transformed version (or the error that stopped the transform)."""

    index: int
    original: str
    transformed: str | None
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.transformed is not None and self.transformed.strip() != self.original.strip()


def read_prompts(path: Path, limit: int | None) -> list[str]:
    """Prompts from a text file (one per line) or JSONL (`query`/`prompt` field or Tulu `messages`)."""
    prompts: list[str] = []
    if path.suffix == ".jsonl":
        for number, row in iter_jsonl_objects(path, "one JSON object with a query, prompt or Tulu messages"):
            text = row.get("query") or row.get("prompt") or tulu_pair(row)[0]
            if not isinstance(text, str) or not text.strip():
                raise UserError(f"{path}:{number} has no query", "give each row a query, prompt or Tulu messages")
            prompts.append(text.strip())
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"cannot read prompts {path}: {error}", "pass a UTF-8 text file, one prompt per line") from None
        prompts.extend(line.strip() for line in text.splitlines() if line.strip())
    if not prompts:
        raise UserError(f"{path} holds no prompts", "one prompt per line, or JSONL with a query field")
    return prompts[:limit] if limit else prompts


async def transform_prompts(prompts: list[str], transform: Transform, perturber: Model | None) -> list[PromptPair]:
    """Apply the transform to every prompt; model-based transforms go through the perturber role."""
    if not transform.needs_model:
        assert transform.local is not None
        return [PromptPair(i, prompt, transform.local(prompt)) for i, prompt in enumerate(prompts)]
    assert perturber is not None and transform.instruction is not None
    results = await asyncio.gather(*(perturb(perturber, prompt, transform.instruction) for prompt in prompts))
    return [PromptPair(i, prompt, text, error) for i, (prompt, (text, error)) in enumerate(zip(prompts, results))]


async def _respond_and_measure(
    target: Model,
    prefix: list[Message],
    query: str,
    sample_index: int,
    measure: Measure,
    judge: JudgeFn | None,
) -> tuple[str | None, Outcome]:
    """One target reply (the target model carries its settings) and its measured outcome."""
    result = await target.generate(with_context(prefix, query), sample_index=sample_index)
    if result.error:
        return None, Outcome(value=None, error=f"target: {result.error}")
    return result.text, await measure.outcome(query, result.text, judge)


def compare(
    before: list[list[float]], after: list[list[float]], binary: bool, seed: int = 0
) -> dict[str, Any]:
    """Rates, difference, paired interval and p-value from per-prompt lists of sample values."""
    flat_before = [v for values in before for v in values]
    flat_after = [v for values in after for v in values]
    one_sample = all(len(values) == 1 for values in before)
    if not flat_before:
        return {"n": 0, "rate_original": None, "rate_transformed": None, "difference": None,
                "low": None, "high": None, "method": "no measured pairs", "p_value": None}
    mean_before = [float(np.mean(values)) for values in before]
    mean_after = [float(np.mean(values)) for values in after]
    _, low, high = paired_bootstrap(mean_before, mean_after, seed=seed)
    row: dict[str, Any] = {
        "n": len(flat_before),
        "prompts": len(before),
        "rate_original": float(np.mean(flat_before)),
        "rate_transformed": float(np.mean(flat_after)),
        "difference": float(np.mean(flat_after) - np.mean(flat_before)),
        "low": low,
        "high": high,
    }
    if binary and one_sample:
        p_value, b, c = mcnemar_exact([v > 0.5 for v in flat_before], [v > 0.5 for v in flat_after])
        row.update(method="paired bootstrap 95% CI over prompts; exact McNemar p", p_value=p_value,
                   discordant={"original_only": b, "transformed_only": c})
    else:
        row.update(method="paired bootstrap 95% CI over prompts; Wilcoxon signed-rank p",
                   p_value=wilcoxon_signed_rank(mean_before, mean_after))
    if binary:
        k_before, k_after = int(round(sum(flat_before))), int(round(sum(flat_after)))
        row["original"] = rate(k_before, len(flat_before)).as_dict()
        row["transformed"] = rate(k_after, len(flat_after)).as_dict()
    return row


def _measured(response: str | None, outcome: Outcome) -> dict[str, Any]:
    """One response and its measurement, as pairs.jsonl records it."""
    return {"response": response, "value": outcome.value, "score": outcome.score, "reason": outcome.reason,
            "error": outcome.error}


async def steer_target(
    label: str,
    target: Model,
    pairs: list[PromptPair],
    measure: Measure,
    judge: JudgeFn | None,
    prefix: list[Message],
    samples: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The steer.json row for one target and its per-prompt records."""
    usable = [pair for pair in pairs if pair.changed]

    async def one(pair: PromptPair, variant: str, sample_index: int) -> tuple[str | None, Outcome]:
        query = pair.original if variant == "original" else pair.transformed
        assert query is not None
        outcome = await _respond_and_measure(target, prefix, query, sample_index, measure, judge)
        if progress is not None:
            progress(1)
        return outcome

    jobs = [(pair, variant, s) for pair in usable for variant in ("original", "transformed") for s in range(samples)]
    results = await asyncio.gather(*(one(*job) for job in jobs))
    by_key = {(job[0].index, job[1], job[2]): result for job, result in zip(jobs, results)}

    before: list[list[float]] = []
    after: list[list[float]] = []
    records: list[dict[str, Any]] = []
    errors = 0
    for pair in usable:
        measured = [(by_key[(pair.index, "original", s)], by_key[(pair.index, "transformed", s)])
                    for s in range(samples)]
        kept = [(o.value, t.value) for (_, o), (_, t) in measured if o.value is not None and t.value is not None]
        errors += samples - len(kept)
        if kept:
            before.append([value for value, _ in kept])
            after.append([value for _, value in kept])
        records.append({"target": label, "prompt": pair.index, "original": pair.original,
                        "transformed": pair.transformed,
                        "samples": [{"sample_index": s, "original": _measured(*o), "transformed": _measured(*t)}
                                    for s, (o, t) in enumerate(measured)]})
    records += [{"target": label, "prompt": pair.index, "original": pair.original, "transformed": pair.transformed,
                 "skipped": pair.error or "the transform left the prompt unchanged"} for pair in pairs if not pair.changed]
    row = {"target": label, **compare(before, after, measure.binary, seed=seed)}
    row["n_errors"] = errors
    row["n_unchanged"] = sum(1 for pair in pairs if pair.transformed is not None and not pair.changed)
    row["n_transform_errors"] = sum(1 for pair in pairs if pair.transformed is None)
    return row, records


async def steer_targets(
    prompts: list[str],
    transform: Transform,
    perturber: Model | None,
    targets: list[tuple[str, Model]],
    measure: Measure,
    judge: JudgeFn | None,
    prefix: list[Message],
    samples: int = 1,
    seed: int = 0,
    progress: ProgressBar | None = None,
) -> tuple[list[PromptPair], list[dict[str, Any]], list[dict[str, Any]]]:
    """Transform the prompts once, then measure every (label, target) on both versions: (the prompt
    pairs, one steer.json row per target, the per-prompt records of all targets)."""
    pairs = await transform_prompts(prompts, transform, perturber)
    rows, records = [], []
    for label, model in targets:
        with (progress or _silent)(f"steer {label}", 2 * sum(p.changed for p in pairs) * samples) as advance:
            row, target_records = await steer_target(label, model, pairs, measure, judge, prefix, samples=samples,
                                                     seed=seed, progress=advance)
        rows.append(row)
        records.extend(target_records)
    return pairs, rows, records


@contextmanager
def _silent(label: str, total: int) -> Iterator[Progress]:
    yield lambda n: None
