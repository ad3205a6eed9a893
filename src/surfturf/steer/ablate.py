"""Ablation and balancing: turn a trace into training data that tests the cause of a failure.

Ablated corpus: the corpus without the examples behind the trace's attribution (its evidence,
every id `turf trace --evidence N` listed) or without a whole chunk. Balanced corpus: the corpus
plus counter-examples with the same surface cue and the correct behaviour. Both are Tulu JSONL,
with a manifest of exactly which ids were removed and added.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from surfturf.errors import UserError
from surfturf.io.files import write_jsonl_atomic


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


def read_rows(paths: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Corpus files as Tulu rows (first user and assistant turn); (rows, manifest inputs, read stats)."""
    from surfturf.data.readers import read_corpus, resolve_inputs
    from surfturf.data.rows import CorpusStats

    inputs = resolve_inputs(paths)
    stats = CorpusStats()
    rows = [row.tulu() for row in read_corpus(inputs, stats)]
    described = [{"path": item.location, "kind": "corpus", "sha256": item.sha256()} for item in inputs]
    return rows, described, stats.as_dict()


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
