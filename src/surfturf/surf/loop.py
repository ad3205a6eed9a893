"""The SURF loop: R runs x T iterations x N candidates, each candidate one generator -> target ->
judge task, all runs sharing the model layer's concurrency bound, resumable after a kill."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from surfturf import __version__
from surfturf.attributes.pools import AttributePool
from surfturf.errors import UserError
from surfturf.io.files import JsonlAppender, read_jsonl, sha256_file, write_json_atomic, write_jsonl_atomic
from surfturf.io.ownership import BOOKKEEPING
from surfturf.models import GenerateConfig, Model, ModelSession, is_transient
from surfturf.models.redact import redact_url
from surfturf.rubrics import Rubric, load_rubric, rubric_text
from surfturf.surf.buffer import select_top
from surfturf.surf import differential
from surfturf.surf.config import RESUMABLE_CHANGES, SurfConfig
from surfturf.surf.context import with_context
from surfturf.surf.failures import model_error
from surfturf.surf.findings import compute_findings
from surfturf.surf.judge import judge_one
from surfturf.surf.progress import RunProgress
from surfturf.surf.prompts import ParseError, generator_messages, parse_generated_query
from surfturf.surf.sampler import attribute_probabilities, sample_attributes, top_weights
from surfturf.surf.usage import merge_usage, usage_since


@dataclass
class SurfSummary:
    """What a finished (or stopped) sweep produced."""

    out_dir: Path
    status: str
    candidates: int
    errors: int
    findings: list[dict[str, Any]]
    violations: int
    best_score: float | None
    cost_usd: float
    stopped: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The CLI's last line."""
        return {
            "out": str(self.out_dir), "status": self.status, "candidates": self.candidates, "errors": self.errors,
            "findings": len(self.findings), "violations": self.violations, "best_score": self.best_score,
            "cost_usd": round(self.cost_usd, 6), **({"stopped": self.stopped} if self.stopped else {}),
        }


LEDGER = "spend.jsonl"  # the run directory's spend ledger (see ModelSession's `ledger`)
ADMISSION_SLACK = 1.5
# While a sweep runs, manifest.json (and so its usage) is rewritten at every iteration's end and at
# most this often after a candidate, so a killed process leaves its spend on disk for the resume.
CHECKPOINT_EVERY_S = 2.0


# A candidate whose call failed transiently is tried again by a resume, up to this many attempts in
# all; after that its error is final (the endpoint keeps failing on that one request).
MAX_ATTEMPTS = 3


class _BudgetStop(Exception):
    """A candidate was refused by the budget: it is dropped (not written) and its run stops."""


class _EndpointStop(Exception):
    """An endpoint was declared down: the candidate is dropped (a resume redoes it) and the sweep stops."""


def retryable(record: dict[str, Any]) -> bool:
    """A recorded candidate a resume should redo: its error was transient and attempts are left."""
    error = record.get("error")
    return error is not None and is_transient(model_error(error)) and int(record.get("attempts", 1)) < MAX_ATTEMPTS


def _check_call(error: str | None) -> None:
    """Budget refusals and calls to a downed endpoint drop the candidate instead of recording it."""
    if error is None:
        return
    if error.startswith("budget:"):
        raise _BudgetStop
    if error.startswith("endpoint_down"):
        raise _EndpointStop


def candidate_id(run: int, iteration: int, index: int) -> str:
    return f"r{run}-i{iteration}-c{index}"


def sample_index_for(seed: int, cid: str) -> int:
    """A stable per-candidate sample index (also sent as the request seed to the generator and
    target): distinct candidates are distinct samples, and a rerun of a candidate hits the cache."""
    return zlib.crc32(f"{seed}:{cid}".encode()) & 0x7FFFFFFF


class Sweep:
    """One SURF sweep bound to a run directory; `run()` does or resumes it."""

    def __init__(self, config: SurfConfig, session: ModelSession, out_dir: Path, *, command: str, progress: bool) -> None:
        self.config = config
        self.session = session
        self.out_dir = Path(out_dir)
        self.command = command
        self.show_progress = progress
        self.rubric: Rubric = load_rubric(config.rubric)
        self.rubric_yaml = rubric_text(config.rubric)
        self.pool = AttributePool.load(config.pool)
        if config.max_k > len(self.pool):
            raise UserError(
                f"max k {config.max_k} is larger than the attribute pool ({len(self.pool)} attributes)",
                f"pass --max-k {len(self.pool)} or less, or use a bigger pool",
            )
        self.threshold = config.threshold if config.threshold is not None else self.rubric.threshold
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

    # -- manifest ----------------------------------------------------------------------------------

    def manifest_config(self) -> dict[str, Any]:
        """The config as recorded (and compared on resume): base URLs without their credentials."""
        data = self.config.model_dump(mode="json")
        for role in (data["target"], data["generator"], *data["judges"], *([data["baseline"]] if data["baseline"] else [])):
            role["base_url"] = redact_url(role["base_url"])
        data.update({
            "rubric": self.rubric.name, "rubric_source": self.config.rubric, "rubric_text": self.rubric_yaml,
            "pool": self.pool.describe(), "threshold": self.threshold,
        })
        return data

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
        records = list(self.records.values())
        usage = self.usage()
        rubric_path = Path(self.config.rubric)
        inputs = [{"path": str(self.pool.source), "sha256": self.pool.sha256, "kind": "pool"}]
        if rubric_path.is_file():
            inputs.append({"path": str(rubric_path), "sha256": sha256_file(rubric_path), "kind": "rubric"})
        return {
            "command": self.command,
            "version": __version__,
            "created": self.created,
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": self.manifest_config(),
            "seeds": {"seed": self.config.seed, "per_run": [[self.config.seed, run] for run in range(self.config.runs)]},
            "models": {
                "target": self.config.target.spec, "generator": self.config.generator.spec,
                "judge": [role.spec for role in self.config.judges],
                **({"baseline": self.config.baseline.spec} if self.config.baseline else {}),
            },
            "inputs": inputs,
            "counts": {
                "candidates": len(records),
                "errors": sum(1 for r in records if r["error"] is not None),
                "scored": sum(1 for r in records if r["score"] is not None),
                "violations": sum(1 for r in records if r["violation"]),
                "retryable": sum(1 for r in records if retryable(r)),
                "cost_usd": usage["total"]["cost_usd"],
                **({"kinds": differential.kind_counts(records)} if self.baseline else {}),
            },
            "usage": usage,
            "status": status,
            **({"stopped": self.stopped} if self.stopped else {}),
        }

    def _check_resume(self) -> None:
        """Load what an earlier (killed or stopped) process wrote, after checking it is this sweep."""
        path = self.out_dir / "manifest.json"
        if not path.exists():
            if any(entry.name not in BOOKKEEPING for entry in self.out_dir.iterdir()):
                raise UserError(f"{self.out_dir} is not empty and holds no SURF run", "pass a new or empty --out folder")
            return
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UserError(f"{path} is unreadable: {error}", "pass a new --out folder") from error
        if old.get("command", "").split(" ")[:2] != self.command.split(" ")[:2] or "config" not in old:
            raise UserError(f"{self.out_dir} holds the output of another command", "pass a new --out folder")
        new = self.manifest_config()
        old["config"].setdefault("context", [])  # runs from before --system-prompt had none
        changed = sorted(k for k in set(new) | set(old["config"]) if k not in RESUMABLE_CHANGES and new.get(k) != old["config"].get(k))
        if changed:
            raise UserError(
                f"{self.out_dir} holds a SURF run with a different {', '.join(changed)}",
                "rerun with the same settings to resume, or pass a new --out folder",
            )
        self.created = old.get("created", self.created)
        self.usage_before = old.get("usage")
        for record in read_jsonl(self.out_dir / "candidates.jsonl"):
            self.redone = self.redone or record["id"] in self.records
            self.records[record["id"]] = record  # a redone candidate's later row replaces its earlier one
        for row in read_jsonl(self.out_dir / "iterations.jsonl"):
            self.logged_iterations.add((int(row["run"]), int(row["iteration"])))
            if isinstance(row.get("buffer"), list):
                self.logged_buffers[(int(row["run"]), int(row["iteration"]))] = row["buffer"]

    # -- one candidate -----------------------------------------------------------------------------

    async def _candidate(self, run: int, iteration: int, index: int, attributes: list[str]) -> dict[str, Any]:
        """generator -> target -> judge for one candidate; raises _BudgetStop or _EndpointStop to drop it."""
        async with self.admission:
            previous = self.records.get(candidate_id(run, iteration, index))
            record = await self._pipeline(run, iteration, index, attributes)
            record["attempts"] = int(previous.get("attempts", 1)) + 1 if previous else 1
            return record

    async def _pipeline(self, run: int, iteration: int, index: int, attributes: list[str]) -> dict[str, Any]:
        cid = candidate_id(run, iteration, index)
        sample = sample_index_for(self.config.seed, cid)
        started = time.perf_counter()
        record: dict[str, Any] = {
            "id": cid, "run": run, "iteration": iteration, "index": index, "attributes": attributes,
            "query": None, "response": None, "score": None, "reason": None, "violation": False,
            "judges": [], "disagreement": None, "error": None, "raw": None,
            "models": {"generator": self.generator.spec, **{role: model.spec for role, model in self.answerers}},
            "tokens": {"input": 0, "output": 0}, "cost_usd": 0.0, "calls": 0, "time_s": 0.0,
        }

        def spend(result: Any) -> None:
            record["tokens"]["input"] += result.input_tokens
            record["tokens"]["output"] += result.output_tokens
            record["cost_usd"] += result.cost_usd
            record["calls"] += 0 if result.cached or result.attempts == 0 else 1

        def finish() -> dict[str, Any]:
            record["cost_usd"] = round(record["cost_usd"], 8)
            record["time_s"] = round(time.perf_counter() - started, 4)
            return record

        if self.session.budget_exhausted:
            raise _BudgetStop
        if self.session.endpoint_failure is not None:
            raise _EndpointStop
        seeded = GenerateConfig(seed=sample)  # providers that take a seed replay the same sample
        generated = await self.generator.generate(generator_messages(attributes), config=seeded, sample_index=sample)
        spend(generated)
        if generated.error is not None:
            _check_call(generated.error)
            record["error"] = f"generator: {generated.error}"
            return finish()
        try:
            record["query"] = parse_generated_query(generated.text, attributes)
        except ParseError as failure:
            record["error"] = f"parse: {failure.problem}"
            record["raw"] = failure.raw
            return finish()
        messages = with_context(self.prefix, record["query"])

        async def ask(role: str) -> differential.Judged | str:
            """`role`'s answer (target or baseline), judged; an error line when it failed. The target's
            answer and panel fill the record's `response` and `judges`."""
            model = dict(self.answerers)[role]
            answered = await model.generate(messages, config=seeded, sample_index=sample)
            spend(answered)
            if answered.error is not None:
                _check_call(answered.error)
                return f"{role}: {answered.error}"
            if role == "target":
                record["response"] = answered.text
            if not answered.text.strip():
                return f"{role}: empty response"
            outcome = await judge_one(self.judges, self.rubric, record["query"], answered.text,
                                      combine=self.config.panel_combine)
            record["tokens"]["input"] += outcome.input_tokens
            record["tokens"]["output"] += outcome.output_tokens
            record["cost_usd"] += outcome.cost_usd
            record["calls"] += outcome.calls
            if outcome.budget and outcome.score is None:
                raise _BudgetStop
            if role == "target":
                record["judges"] = outcome.judges
                record["disagreement"] = outcome.disagreement
            if outcome.score is None:
                _check_call(model_error(outcome.error or ""))
                record["raw"] = outcome.raw
                return outcome.error or f"{role}: no score"
            return differential.Judged(answered.text, float(outcome.score), outcome.reason, outcome.judges)

        if self.baseline is None:
            judged = await ask("target")
            if isinstance(judged, str):
                record["error"] = judged
            else:
                record.update(score=judged.score, reason=judged.reason, violation=judged.score > self.threshold)
            return finish()
        record.update(await differential.evaluate(str(self.config.direction), self.threshold, self.weight_floor, ask))
        return finish()

    # -- one run -----------------------------------------------------------------------------------

    async def _run(self, run: int, writer: JsonlAppender, log: JsonlAppender, view: RunProgress) -> dict[str, Any]:
        """Iterate one run: sample from its buffer, score candidates, update the buffer, stop early
        when the best score stalls. Completed candidates found on disk are reused, not redone."""
        config = self.config
        buffer: list[dict[str, Any]] = []
        best: float | None = None
        stale = 0
        spent = 0.0
        done_before = sum(1 for r in self.records.values() if r["run"] == run)
        view.update(run, done=done_before)
        for iteration in range(config.iterations):
            if config.strategy == "random" or not buffer:
                p = np.full(len(self.attributes), 1.0 / len(self.attributes))
            else:
                p = attribute_probabilities(
                    self.attributes, ((r["attributes"], float(r["score"])) for r in buffer), config.exploration,
                    floor=self.weight_floor,
                )
            rng = np.random.default_rng([config.seed, run, iteration])
            plan = [sample_attributes(rng, self.attributes, p, config.max_k) for _ in range(config.candidates)]
            view.update(run, iteration=iteration + 1, state="")
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
            pending = [asyncio.ensure_future(self._candidate(run, iteration, i, plan[i])) for i in missing]
            for finished in asyncio.as_completed(pending):
                try:
                    record = await finished
                except _BudgetStop:
                    self.budget_hit = True
                    continue
                except _EndpointStop:
                    continue
                await writer.write(record)
                self.redone = self.redone or record["id"] in self.records
                self.records[record["id"]] = record
                results.append(record)
                view.update(run, advance=1)
                self._checkpoint()
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
            scored = [float(r["score"]) for r in results if r["score"] is not None]
            cost = sum(r["cost_usd"] for r in results)
            spent += cost
            if (run, iteration) not in self.logged_iterations:
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
                    "cost_usd": round(cost, 8),
                })
                self.logged_iterations.add((run, iteration))
                self._checkpoint(force=True)
            view.update(run, best=best, spend=spent)
            if config.stop_at is not None and best is not None and best >= config.stop_at:
                view.update(run, state=f"found at {iteration + 1}", done=config.iterations * config.candidates)
                return {"run": run, "status": "found", "iterations": iteration + 1}
            if config.patience and stale >= config.patience:
                view.update(run, state=f"early stop after {iteration + 1}", done=config.iterations * config.candidates)
                return {"run": run, "status": "early stop", "iterations": iteration + 1}
        view.update(run, state="done")
        return {"run": run, "status": "complete", "iterations": config.iterations}

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
        failure = self.session.endpoint_failure
        if failure is not None:
            status, self.stopped = "failed", failure.line()
        elif records and all(r["score"] is None for r in records):
            status = "failed"
            last = records[-1]["error"] or ""
            fix = ("check the models and endpoints, then rerun the same command to retry"
                   if is_transient(model_error(last)) else "the models' output could not be read (see raw outputs in the report): use a stronger model for "
                   "that role or raise its --<role>-max-tokens, in a new --out")
            self.stopped = f"every one of {len(records)} candidates failed (last: {last}); fix: {fix}"
        elif self.budget_hit:
            status = f"stopped: budget ({self.session.budget_reason or 'cap reached'})"
            print(f"surf: {status}; rerun the same command with a larger budget to continue", file=sys.stderr)
        else:
            status = "complete"
        left = sum(1 for r in records if retryable(r))
        if left and status != "failed":
            print(f"surf: {left} candidates failed transiently; rerun the same command to retry them", file=sys.stderr)
        findings = compute_findings(
            (r for r in records if r["score"] is not None), self.config.buffer, self.config.near_duplicate
        )
        write_jsonl_atomic(self.out_dir / "findings.jsonl", findings)
        write_json_atomic(self.out_dir / "manifest.json", self.manifest(status))
        scores = [float(r["score"]) for r in records if r["score"] is not None]
        return SurfSummary(
            out_dir=self.out_dir, status=status, stopped=self.stopped, candidates=len(records),
            errors=sum(1 for r in records if r["error"] is not None), findings=findings,
            violations=sum(1 for f in findings if f["violation"]), best_score=max(scores) if scores else None,
            cost_usd=self.usage()["total"]["cost_usd"], runs=list(outcomes),
        )


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
