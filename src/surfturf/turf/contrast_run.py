"""A run's findings traced against both models' training data: each failure in the data of the model
that fails it, contrasted with the other's (turf/contrast.py).

A finding fixed in the target (kind `fixed`: the baseline A violates, the target B does not) is A's
failure: its answer is A's, traced in A's index against B's, so the contrast names what A's data has
that B's lacks (the failure A learned and B unlearned). Every other finding is B's answer traced in
B's index against A's. Each record says which side it traced (`traced`).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from surfturf.models import Model, ModelSession
from surfturf.surf.findings import load_findings
from surfturf.turf.case import Case
from surfturf.turf.contrast import orient
from surfturf.turf.context import TraceContext, trace_context
from surfturf.turf.trace import TraceSettings, auto_k, trace_cases
from surfturf.turf.trace_files import run_cases, save_traces


def failing_side(finding: dict[str, Any]) -> str:
    """Whose answer fails: the baseline's for a finding fixed in the target, else the target's."""
    return "baseline" if (finding.get("differential") or {}).get("kind") == "fixed" else "target"


def oriented_cases(cases: list[Case], findings: list[dict[str, Any]]) -> list[tuple[str, Case]]:
    """Each case with the side it traces; a fixed finding's case carries the baseline's answer and score."""
    by_id = {str(finding["id"]): finding for finding in findings}
    out = []
    for case in cases:
        finding = by_id.get(case.finding, {})
        side = failing_side(finding)
        if side == "baseline":
            theirs = finding["differential"]["baseline"]
            case = replace(case, response=str(theirs["response"]), score=theirs.get("score"))
        out.append((side, case))
    return out


async def trace_contrast_run_async(run_dir: Path | str, index: Any, baseline: Any, session: ModelSession, *,
                                   extractor: Model | str | None = None, judge: Model | str | None = None,
                                   settings: TraceSettings | None = None, finding_ids: list[str] | None = None,
                                   top: int | None = None, out_dir: Path | str | None = None,
                                   config: dict[str, Any] | None = None) -> list[dict]:
    """Trace a run's violating findings (or the named ones) with the target's `index` and the
    baseline's index into RUN/traces/ (or `out_dir`); records in findings order, each with `traced`."""
    run_dir = Path(run_dir)
    contexts: dict[str, TraceContext] = {"target": trace_context(index), "baseline": trace_context(baseline)}
    settings = settings or TraceSettings()
    if isinstance(extractor, str):
        extractor = session.model("extractor", extractor)
    if isinstance(judge, str):
        judge = session.model("judge", judge)
    cases, rubric = run_cases(run_dir, finding_ids, top)
    sides = oriented_cases(cases, load_findings(run_dir))
    records: list[dict | None] = [None] * len(sides)
    for side, context in contexts.items():
        other = contexts["baseline" if side == "target" else "target"]
        positions = [i for i, (traced, _) in enumerate(sides) if traced == side]
        if not positions:
            continue
        mine = replace(settings, k=settings.k or auto_k(context.corpus.n_examples))
        traced = await trace_cases([sides[i][1] for i in positions], context, blind=context.source(extractor),
                                   judge=judge, settings=mine, session=session, baseline=other)
        for position, record in zip(positions, traced):
            if record.get("baseline"):
                orient(record["baseline"], side)
            records[position] = {**record, "traced": side}
    done = [record for record in records if record is not None]
    target = contexts["target"]
    index_dir = getattr(target.index, "path", None)
    save_traces(Path(out_dir) if out_dir else run_dir / "traces", done, run_dir=run_dir,
                index_dir=Path(index_dir) if index_dir else None,
                config={"rubric": rubric.name, **asdict(settings), "findings": finding_ids, "top": top,
                        "baseline_index": str(getattr(contexts["baseline"].index, "path", None)), **(config or {})},
                models={"extractor": target.source(extractor).name, "judge": judge.spec if judge else None,
                        "embedder": str(getattr(target.index, "embedder_spec", None))},
                usage=session.usage.summary())
    return done
