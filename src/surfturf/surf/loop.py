"""The SURF loop: R runs x T iterations x N candidates, each candidate one generator -> target ->
judge task, all runs sharing the model layer's concurrency bound, resumable after a kill."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from surfturf.attributes.pools import AttributePool
from surfturf.errors import UserError
from surfturf.io.files import JsonlAppender, write_json_atomic, write_jsonl_atomic
from surfturf.models import GenerateConfig, Model, ModelSession
from surfturf.models.types import Message
from surfturf.rubrics import Rubric, load_rubric, rubric_text
from surfturf.surf import differential
from surfturf.surf.buffer import select_top
from surfturf.surf.candidate import BudgetStop, Candidate, EndpointStop, check_call
from surfturf.surf.config import SurfConfig
from surfturf.surf.context import with_context
from surfturf.surf.failures import model_error
from surfturf.surf.findings import compute_findings
from surfturf.surf.judge import judge_one
from surfturf.surf.progress import RunProgress
from surfturf.surf.prompts import ParseError, generator_messages, parse_generated_query
from surfturf.surf.rundir import (
    LEDGER,
    SurfSummary,
    candidate_id,
    final_status,
    manifest_config,
    read_resume,
    retryable,
    run_manifest,
    sample_index_for,
)
from surfturf.surf.sampler import attribute_probabilities, sample_attributes, top_weights
from surfturf.surf.usage import merge_usage, usage_since


ADMISSION_SLACK = 1.5
# While a sweep runs, manifest.json (and so its usage) is rewritten at every iteration's end and at
# most this often after a candidate, so a killed process leaves its spend on disk for the resume.
CHECKPOINT_EVERY_S = 2.0


class Sweep:
    """One SURF sweep bound to a run directory; `run()` does or resumes it."""

    def __init__(self, config: SurfConfig, session: ModelSession, out_dir: Path, *, command: str, progress: bool) -> None:
        self.config = config
        self.session = session
        self.out_dir = Path(out_dir)
        self.command = command
        self.show_progress = progress
        self.rubric: Rubric = load_rubric(config.rubric)
        self.pool = AttributePool.load(config.pool)
        if config.max_k > len(self.pool):
            raise UserError(
                f"max k {config.max_k} is larger than the attribute pool ({len(self.pool)} attributes)",
                f"pass --max-k {len(self.pool)} or less, or use a bigger pool",
            )
        self.threshold = config.threshold if config.threshold is not None else self.rubric.threshold
        # The config as manifest.json records it, and as a resume must find it.
        self.recorded = manifest_config(config, self.rubric.name, rubric_text(config.rubric), self.pool, self.threshold)
        self.weight_floor = float(self.rubric.bands[0].max)  # scores in the lowest band carry no weight
        self.attributes = list(self.pool.attributes)
        self.generator = config.generator.model(session, "generator")
        self.target = config.target.model(session, "target")
        # Differential SURF: the baseline answers every candidate too (same session: cache, budgets, ledger).
        self.baseline = config.baseline.model(session, "baseline") if config.baseline is not None else None
        self.answerers = [("target", self.target)] + ([("baseline", self.baseline)] if self.baseline else [])
        self.judges: list[Model] = [role.model(session, "judge", config.judge_thinking) for role in config.judges]
        endpoints = {model.endpoint.slot_key for model in (self.generator, *(m for _, m in self.answerers), *self.judges)}
        # Admit about as many candidates as there are request slots (plus slack), so a started
        # candidate reaches its target and judge calls quickly instead of queueing behind every
        # other candidate's generator call, and each run's iteration ends without a long tail.
        self.admission = asyncio.Semaphore(max(1, int(ADMISSION_SLACK * session.max_concurrency * len(endpoints))))
        self.prefix = [turn.model_dump() for turn in config.context]
        self.records: dict[str, dict[str, Any]] = {}
        self.usage_before: dict[str, Any] | None = None
        self.usage_at_start = session.usage.summary()
        self.checkpointed = time.monotonic()
        self.logged_iterations: set[tuple[int, int]] = set()
        self.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.budget_hit = False
        self.stopped: str | None = None
        self.redone = False
        self.logged_buffers: dict[tuple[int, int], list[str]] = {}

    # -- the run directory ---------------------------------------------------------------------------

    def usage(self) -> dict[str, Any]:
        """The run's usage over all its processes. Per model: the previous manifest's plus this
        session's share. When the directory has a spend ledger (the CLI opens its session on
        OUT/spend.jsonl), the total spend is `session.spent()`: written as each call finishes, it is
        exact where the manifest chain misses calls made after a killed process's last checkpoint."""
        usage = merge_usage(self.usage_before, usage_since(self.usage_at_start, self.session.usage.summary()))
        if (self.out_dir / LEDGER).exists():
            usage["total"].update(self.session.spent())
        return usage

    def manifest(self, status: str) -> dict[str, Any]:
        return run_manifest(command=self.command, created=self.created, config=self.config,
                            recorded=self.recorded, pool=self.pool, records=list(self.records.values()),
                            usage=self.usage(), status=status, stopped=self.stopped)

    def _check_resume(self) -> None:
        """Load what an earlier (killed or stopped) process wrote, after checking it is this sweep."""
        resumed = read_resume(self.out_dir, self.command, self.recorded)
        if resumed is None:
            return
        self.created = resumed.created or self.created
        self.usage_before = resumed.usage
        self.records, self.redone = resumed.records, resumed.redone
        self.logged_iterations, self.logged_buffers = resumed.logged_iterations, resumed.logged_buffers

    # -- one candidate -----------------------------------------------------------------------------

    async def _candidate(self, run: int, iteration: int, index: int, attributes: list[str]) -> dict[str, Any]:
        """generator -> target -> judge for one candidate; raises BudgetStop or EndpointStop to drop it."""
        async with self.admission:
            previous = self.records.get(candidate_id(run, iteration, index))
            record = await self._pipeline(run, iteration, index, attributes)
            record["attempts"] = int(previous.get("attempts", 1)) + 1 if previous else 1
            return record

    async def _pipeline(self, run: int, iteration: int, index: int, attributes: list[str]) -> dict[str, Any]:
        """One candidate: generate a query from `attributes`, answer it, judge it; the record either way."""
        cid = candidate_id(run, iteration, index)
        sample = sample_index_for(self.config.seed, cid)
        models = {"generator": self.generator.spec, **{role: model.spec for role, model in self.answerers}}
        candidate = Candidate(cid, run, iteration, index, attributes, models)
        record = candidate.record
        if self.session.budget_exhausted:
            raise BudgetStop
        if self.session.endpoint_failure is not None:
            raise EndpointStop
        seeded = GenerateConfig(seed=sample)  # providers that take a seed replay the same sample
        generated = await self.generator.generate(generator_messages(attributes), config=seeded, sample_index=sample)
        candidate.charge(generated)
        if generated.error is not None:
            check_call(generated.error)
            record["error"] = f"generator: {generated.error}"
            return candidate.finish()
        try:
            record["query"] = parse_generated_query(generated.text, attributes)
        except ParseError as failure:
            record["error"] = f"parse: {failure.problem}"
            record["raw"] = failure.raw
            return candidate.finish()

        messages = with_context(self.prefix, record["query"])

        async def ask(role: str) -> differential.Judged | str:
            return await self._ask(role, candidate, messages, seeded, sample)

        if self.baseline is None:
            judged = await ask("target")
            if isinstance(judged, str):
                record["error"] = judged
            else:
                record.update(score=judged.score, reason=judged.reason, violation=judged.score > self.threshold)
            return candidate.finish()
        record.update(await differential.evaluate(str(self.config.direction), self.threshold, self.weight_floor, ask))
        return candidate.finish()

    async def _ask(self, role: str, candidate: Candidate, messages: list[Message], seeded: GenerateConfig,
                   sample: int) -> differential.Judged | str:
        """`role`'s answer (target or baseline) to the candidate's query (`messages`, in the target's
        context), judged; an error line when it failed. The target's answer and panel fill the record's
        `response` and `judges`."""
        record = candidate.record
        model = dict(self.answerers)[role]
        answered = await model.generate(messages, config=seeded, sample_index=sample)
        candidate.charge(answered)
        if answered.error is not None:
            check_call(answered.error)
            return f"{role}: {answered.error}"
        if role == "target":
            record["response"] = answered.text
        if not answered.text.strip():
            return f"{role}: empty response"
        outcome = await judge_one(self.judges, self.rubric, record["query"], answered.text,
                                  combine=self.config.panel_combine)
        candidate.spend(outcome.input_tokens, outcome.output_tokens, outcome.cost_usd, outcome.calls)
        if outcome.budget and outcome.score is None:
            raise BudgetStop
        if role == "target":
            record["judges"] = outcome.judges
            record["disagreement"] = outcome.disagreement
        if outcome.score is None:
            check_call(model_error(outcome.error or ""))
            record["raw"] = outcome.raw
            return outcome.error or f"{role}: no score"
        return differential.Judged(answered.text, float(outcome.score), outcome.reason, outcome.judges)

    # -- one run -----------------------------------------------------------------------------------

    async def _run(self, run: int, writer: JsonlAppender, log: JsonlAppender, view: RunProgress) -> dict[str, Any]:
        """Iterate one run: sample from its buffer, score candidates, update the buffer, stop early
        when the best score stalls. Completed candidates found on disk are reused, not redone."""
        config = self.config
        buffer: list[dict[str, Any]] = []
        best: float | None = None
        stale = 0
        spent = 0.0
        view.update(run, done=sum(1 for r in self.records.values() if r["run"] == run))
        for iteration in range(config.iterations):
            p = self._weights(buffer)
            rng = np.random.default_rng([config.seed, run, iteration])
            plan = [sample_attributes(rng, self.attributes, p, config.max_k) for _ in range(config.candidates)]
            view.update(run, iteration=iteration + 1, state="")
            results, missing = self._reuse(run, iteration, plan)
            results += await self._score(run, iteration, plan, missing, writer, view)
            if len(results) < config.candidates:
                failed = self.session.endpoint_failure is not None
                view.update(run, state="failed: endpoint down" if failed else "stopped: budget")
                return {"run": run, "status": "failed" if failed else "stopped", "iterations": iteration}
            logged = self.logged_buffers.get((run, iteration))
            # An iteration logged before a kill keeps the buffer it had then, so a resume that redoes
            # its transient failures samples the next iterations exactly as they were sampled.
            buffer = [self.records[cid] for cid in logged if cid in self.records] if logged is not None \
                else select_top(buffer + results, config.buffer, config.near_duplicate)
            iteration_best = buffer[0]["score"] if buffer else None
            improved = iteration_best is not None and (best is None or iteration_best > best)
            best = iteration_best if improved else best
            stale = 0 if improved else stale + 1
            spent += sum(r["cost_usd"] for r in results)
            if (run, iteration) not in self.logged_iterations:
                await self._log(log, run, iteration, results, buffer, best, p)
            view.update(run, best=best, spend=spent)
            if config.stop_at is not None and best is not None and best >= config.stop_at:
                view.update(run, state=f"found at {iteration + 1}", done=config.iterations * config.candidates)
                return {"run": run, "status": "found", "iterations": iteration + 1}
            if config.patience and stale >= config.patience:
                view.update(run, state=f"early stop after {iteration + 1}", done=config.iterations * config.candidates)
                return {"run": run, "status": "early stop", "iterations": iteration + 1}
        view.update(run, state="done")
        return {"run": run, "status": "complete", "iterations": config.iterations}

    def _weights(self, buffer: list[dict[str, Any]]) -> np.ndarray:
        """The attribute weights an iteration samples from: its run's buffer scores, or uniform (random
        search, or a run with nothing scored yet)."""
        if self.config.strategy == "random" or not buffer:
            return np.full(len(self.attributes), 1.0 / len(self.attributes))
        return attribute_probabilities(self.attributes, ((r["attributes"], float(r["score"])) for r in buffer),
                                       self.config.exploration, floor=self.weight_floor)

    def _reuse(self, run: int, iteration: int, plan: list[list[str]]) -> tuple[list[dict[str, Any]], list[int]]:
        """The iteration's candidates already on disk, and the indexes still to do (new, or a transient
        failure with attempts left); a candidate on disk sampled differently is a UserError."""
        results: list[dict[str, Any]] = []
        missing: list[int] = []
        for index, attributes in enumerate(plan):
            existing = self.records.get(candidate_id(run, iteration, index))
            if existing is None or (existing["attributes"] == attributes and retryable(existing)):
                missing.append(index)
            elif existing["attributes"] != attributes:
                raise UserError(
                    f"{self.out_dir} candidate {existing['id']} was sampled differently",
                    "the pool or sampler changed since that run; pass a new --out folder",
                )
            else:
                results.append(existing)
        return results, missing

    async def _score(self, run: int, iteration: int, plan: list[list[str]], missing: list[int], writer: JsonlAppender,
                     view: RunProgress) -> list[dict[str, Any]]:
        """Run the missing candidates; each finished one is written as it comes. A candidate the budget
        refused or a downed endpoint dropped is not written (a resume redoes it)."""
        results: list[dict[str, Any]] = []
        pending = [asyncio.ensure_future(self._candidate(run, iteration, i, plan[i])) for i in missing]
        for finished in asyncio.as_completed(pending):
            try:
                record = await finished
            except BudgetStop:
                self.budget_hit = True
                continue
            except EndpointStop:
                continue
            await writer.write(record)
            self.redone = self.redone or record["id"] in self.records
            self.records[record["id"]] = record
            results.append(record)
            view.update(run, advance=1)
            self._checkpoint()
        return results

    async def _log(self, log: JsonlAppender, run: int, iteration: int, results: list[dict[str, Any]],
                   buffer: list[dict[str, Any]], best: float | None, p: np.ndarray) -> None:
        """One iterations.jsonl row (scores, errors, weights, the buffer it ended with), then a checkpoint."""
        scored = [float(r["score"]) for r in results if r["score"] is not None]
        await log.write({
            "run": run, "iteration": iteration,
            "best_score": max(scored) if scored else None,
            "buffer_best": best,
            "mean_score": round(statistics.fmean(scored), 4) if scored else None,
            "n_scored": len(scored),
            "n_errors": sum(1 for r in results if r["error"] is not None),
            "violations": sum(1 for r in results if r["violation"]),
            "top_weights": top_weights(self.attributes, p),
            "buffer": [r["id"] for r in buffer],
            "calls": sum(r.get("calls", 0) for r in results),
            "cost_usd": round(sum(r["cost_usd"] for r in results), 8),
        })
        self.logged_iterations.add((run, iteration))
        self._checkpoint(force=True)

    # -- the sweep ---------------------------------------------------------------------------------

    def _checkpoint(self, force: bool = False) -> None:
        """Rewrite the running manifest (counts and usage so far), at most every CHECKPOINT_EVERY_S."""
        if force or time.monotonic() - self.checkpointed >= CHECKPOINT_EVERY_S:
            write_json_atomic(self.out_dir / "manifest.json", self.manifest("running"))
            self.checkpointed = time.monotonic()

    async def run(self) -> SurfSummary:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._check_resume()
        write_json_atomic(self.out_dir / "manifest.json", self.manifest("running"))
        writer = JsonlAppender(self.out_dir / "candidates.jsonl")
        log = JsonlAppender(self.out_dir / "iterations.jsonl")
        try:
            with RunProgress(self.config.runs, self.config.iterations * self.config.candidates, self.show_progress) as view:
                outcomes = await asyncio.gather(*(self._run(run, writer, log, view) for run in range(self.config.runs)))
        finally:
            writer.close()
            log.close()
        if self.redone:  # one row per candidate again, in first-written order
            write_jsonl_atomic(self.out_dir / "candidates.jsonl", self.records.values())
        records = [r for r in self.records.values() if r["run"] < self.config.runs]
        status, self.stopped = final_status(records, self.session, self.budget_hit)
        findings = compute_findings(
            (r for r in records if r["score"] is not None), self.config.buffer, self.config.near_duplicate
        )
        write_jsonl_atomic(self.out_dir / "findings.jsonl", findings)
        write_json_atomic(self.out_dir / "manifest.json", self.manifest(status))
        return SurfSummary.of(self.out_dir, status, self.stopped, records, findings, self.usage()["total"]["cost_usd"],
                              list(outcomes))


async def run_surf(
    config: SurfConfig,
    session: ModelSession,
    out_dir: Path | str,
    *,
    command: str = "surf run",
    progress: bool = False,
) -> SurfSummary:
    """Run (or resume) a SURF sweep into `out_dir`; see docs/CONTRACTS.md for the files written."""
    return await Sweep(config, session, Path(out_dir), command=command, progress=progress).run()


def run_surf_sync(config: SurfConfig, out_dir: Path | str, *, session_kwargs: dict[str, Any] | None = None,
                  command: str = "surf run", progress: bool = False) -> SurfSummary:
    """Blocking wrapper for notebooks and scripts: makes its own ModelSession and closes it."""

    async def main() -> SurfSummary:
        async with ModelSession(**(session_kwargs or {})) as session:
            return await run_surf(config, session, out_dir, command=command, progress=progress)

    return asyncio.run(main())
