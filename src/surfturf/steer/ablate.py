"""Ablation and balancing: turn a trace into training data that tests the cause of a failure.

Ablated corpus: the corpus without the examples behind the trace's attribution (its evidence,
every id `turf trace --evidence N` listed) or without a whole chunk. Balanced corpus: the corpus
plus counter-examples with the same surface cue and the correct behaviour. Both are Tulu JSONL,
with a manifest of exactly which ids were removed and added. `ablate_corpus` is `surfturf ablate`
on a corpus, with counter-examples from the generator role; on the world see `world/ablation.py`.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from surfturf.data.readers import read_tulu
from surfturf.data.rows import tulu_pair
from surfturf.errors import UserError
from surfturf.io.files import write_json_atomic, write_jsonl_atomic
from surfturf.io.manifest import file_input, manifest
from surfturf.models import ModelSession
from surfturf.rubrics import load_rubric
from surfturf.steer.balance import correct_behaviour, write_counterexamples
from surfturf.surf.generation import RoleConfig

# Rough sizes of one counter-example call (prompt with its example, tagged query and response) for --dry-run.
BALANCE_TOKENS_IN, BALANCE_TOKENS_OUT = 500, 400


def load_trace(path: Path) -> dict[str, Any]:
    """One trace JSON (RUN/traces/<finding>.json); a trace without evidence or chunks is a `UserError`."""
    try:
        trace = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read trace {path}: {error}", "pass a RUN/traces/<finding>.json file") from error
    if not isinstance(trace, dict) or "evidence" not in trace:
        raise UserError(f"{path} is not a trace (no 'evidence')", "pass a RUN/traces/<finding>.json file")
    if trace.get("error"):
        raise UserError(f"trace {path} failed: {trace['error']}", "trace the finding again")
    return trace


def attribution_ids(trace: dict[str, Any]) -> list[str]:
    """Ids of the training examples behind the attribution, most similar first, without repeats."""
    ids = trace.get("evidence_ids") or [item["id"] for item in trace.get("evidence", [])]
    return list(dict.fromkeys(str(i) for i in ids))


def top_chunk(trace: dict[str, Any]) -> str:
    """The most enriched chunk of the trace (chunks are ranked by enrichment)."""
    chunks = trace.get("chunks") or []
    if not chunks:
        raise UserError("the trace names no chunk", "pass --chunk NAME")
    return str(chunks[0]["source"])


def trigger_text(trace: dict[str, Any]) -> str:
    """The trigger as an attribute sentence (its text, else its cluster's summary)."""
    trigger = trace.get("trigger") or {}
    text = trigger.get("text") or trigger.get("cluster_summary")
    if not text:
        raise UserError("the trace has no trigger", "trace the finding again with an index")
    return str(text)


def ablate(rows: list[dict[str, Any]], remove_ids: Iterable[str] = (), remove_sources: Iterable[str] = ()) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, removed) rows: removed are those whose id or source was named."""
    ids, sources = set(remove_ids), set(remove_sources)
    kept, removed = [], []
    for row in rows:
        (removed if row["id"] in ids or row["source"] in sources else kept).append(row)
    return kept, removed


def check_ids_known(rows: list[dict[str, Any]], ids: list[str]) -> list[str]:
    """The trace's ids missing from the corpus; all missing means the wrong corpus (a `UserError`)."""
    known = {row["id"] for row in rows}
    missing = [i for i in ids if i not in known]
    if ids and len(missing) == len(ids):
        raise UserError(
            f"none of the trace's {len(ids)} evidence ids is in the corpus (e.g. {ids[0]!r})",
            "pass the corpus the index was built from (--corpus), or the same --seed for the world",
        )
    return missing


def write_corpus(path: Path, rows: list[dict[str, Any]]) -> None:
    """A Tulu JSONL corpus (`id`, `source`, `messages`), written atomically."""
    write_jsonl_atomic(path, [{"id": r["id"], "source": r["source"], "messages": r["messages"]} for r in rows])


def changes(removed: list[dict[str, Any]], added: list[dict[str, Any]], missing: list[str]) -> dict[str, Any]:
    """The manifest's record of exactly what changed."""
    return {
        "ablated": {"removed": [r["id"] for r in removed],
                    "removed_by_source": dict(Counter(r["source"] for r in removed)),
                    "trace_ids_not_in_corpus": missing},
        "balanced": {"added": [r["id"] for r in added]},
    }


@dataclass
class Ablation:
    """A trace applied to a corpus: the rows kept and removed, and how many counter-examples balance them."""

    trace: Path
    record: dict[str, Any]
    rows: list[dict[str, Any]]
    inputs: list[dict[str, Any]]  # the manifest's: the corpus files (if any) and the trace
    read_stats: dict[str, Any]
    remove: str  # "evidence" or "chunk"
    chunk: str
    kept: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    missing: list[str]  # trace ids the corpus lacks
    n_added: int

    def write(self, out: Path, added: list[dict[str, Any]]) -> dict[str, Path]:
        """OUT/ablated.jsonl and OUT/balanced.jsonl (the corpus plus `added`); their paths by name."""
        out.mkdir(parents=True, exist_ok=True)
        write_corpus(out / "ablated.jsonl", self.kept)
        write_corpus(out / "balanced.jsonl", self.rows + added)
        return {"ablated": out / "ablated.jsonl", "balanced": out / "balanced.jsonl"}

    def result(self, added: list[dict[str, Any]], errors: list[str]) -> dict[str, Any]:
        """The counts the command prints last (and a world ablation's result.json ends with)."""
        return {"removed": len(self.removed), "added": len(added), "ablated_rows": len(self.kept),
                "balanced_rows": len(self.rows) + len(added), "chunk": self.chunk, "errors": len(errors)}

    def write_manifest(self, out: Path, added: list[dict[str, Any]], *, rubric: str | None, world: str | None,
                       samples: int | None, seed: int, runtime: dict[str, Any], generator: str | None,
                       errors: list[str], usage: dict[str, Any]) -> None:
        """OUT/manifest.json: the settings, the counts and exactly which ids were removed and added."""
        write_json_atomic(out / "manifest.json", {
            **manifest(
                config={"trace": str(self.trace), "remove": self.remove, "chunk": self.chunk, "balance": self.n_added,
                        "rubric": rubric or self.record.get("rubric"), "trigger": self.record.get("trigger"),
                        "world": world, "samples": samples, "read": self.read_stats, "runtime": runtime},
                models={"generator": generator},
                inputs=self.inputs,
                counts={"rows": len(self.rows), "ablated_rows": len(self.kept),
                        "balanced_rows": len(self.rows) + len(added), "removed": len(self.removed),
                        "added": len(added), "generator_errors": len(errors)},
                usage=usage, seeds={"seed": seed},
            ),
            "changes": changes(self.removed, added, self.missing),
            "generator_errors": errors[:50],
        })


def select(trace: Path, record: dict[str, Any], rows: list[dict[str, Any]], inputs: list[dict[str, Any]],
           read_stats: dict[str, Any], *, remove: str, chunk: str | None, n_balance: int | None) -> Ablation:
    """What the trace removes from `rows`: its evidence, or a whole chunk (`chunk`, else the trace's top one);
    `n_balance` counter-examples are asked for, by default as many as were removed."""
    chosen = chunk or top_chunk(record)
    if remove == "evidence":
        ids = attribution_ids(record)
        if not ids:
            raise UserError("the trace lists no evidence", "trace again with --evidence N, or use --remove chunk")
        missing = check_ids_known(rows, ids)
        kept, removed = ablate(rows, remove_ids=ids)
    else:
        if chosen not in {row["source"] for row in rows}:
            raise UserError(f"chunk {chosen!r} is not a source of the corpus", "pass --chunk NAME")
        missing = []
        kept, removed = ablate(rows, remove_sources=[chosen])
    return Ablation(trace, record, rows, [*inputs, file_input(trace, "trace")], read_stats, remove, chosen, kept,
                    removed, missing, len(removed) if n_balance is None else n_balance)


@dataclass
class AblateOutcome:
    """What `surfturf ablate` prints: the --dry-run plan, or the result (None on a dry run)."""

    plan: list[str]
    result: dict[str, Any] | None


def ablate_corpus(trace: Path, corpus: list[str], out: Path, *, remove: str, chunk: str | None,
                  n_balance: int | None, rubric: str | None, seed: int, generator: RoleConfig,
                  open_session: Callable[[Path | None], ModelSession], runtime: dict[str, Any],
                  dry_run: bool) -> AblateOutcome:
    """`surfturf ablate TRACE --corpus FILE`: OUT/ablated.jsonl, OUT/balanced.jsonl (counter-examples
    from the generator role) and their manifest. `open_session(ledger)` opens the command's model
    session; its ledger is OUT/spend.jsonl, so a rerun's budget counts what the last one spent."""
    record = load_trace(trace)
    ablation = select(trace, record, *read_tulu(corpus), remove=remove, chunk=chunk, n_balance=n_balance)
    name = rubric or record.get("rubric")
    if not name:
        raise UserError("the trace names no rubric", "pass --rubric NAME|PATH")
    added: list[dict[str, Any]] = []
    errors: list[str] = []
    usage: dict[str, Any] = {}
    if ablation.n_added:
        behaviour = correct_behaviour(load_rubric(name))
        session = open_session(None if dry_run else out / "spend.jsonl")
        model = generator.model(session)
        if dry_run:
            session.estimate("generator", generator.require(), ablation.n_added, BALANCE_TOKENS_IN, BALANCE_TOKENS_OUT)
            asyncio.run(session.aclose())
            return AblateOutcome(session.plan_lines(), None)
        examples = [tulu_pair(row)[0] for row in ablation.removed] or [str(record.get("query", ""))]

        async def go() -> tuple[list[dict[str, Any]], list[str]]:
            try:
                return await write_counterexamples(model, trigger_text(record), behaviour, examples, ablation.n_added)
            finally:
                await session.aclose()

        added, errors = asyncio.run(go())
        usage = session.usage.summary()
    if dry_run:
        return AblateOutcome([], None)
    ablation.write(out, added)
    ablation.write_manifest(out, added, rubric=rubric, world=None, samples=None, seed=seed, runtime=runtime,
                            generator=generator.spec, errors=errors, usage=usage)
    return AblateOutcome([], ablation.result(added, errors))
