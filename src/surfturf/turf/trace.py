"""TURF trace: from failing (query, response) pairs to the trigger, the chunk and the evidence.

Work shared by a batch of findings: each distinct query's attributes are extracted once, all
crux attributes are embedded in one call and searched in one batch, all query attributes are
embedded and assigned to clusters in one call, and the corpus arrays are built once per index.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from surfturf.errors import UserError
from surfturf.models import Model, ModelSession
from surfturf.rubrics.loader import load_rubric
from surfturf.rubrics.schema import Rubric
from surfturf.turf.attribution import (
    attribute,
    chunk_rows,
    collect,
    evidence,
    hits_by_crux,
    pick_triggers,
    top_hits,
)
from surfturf.turf.case import Case
from surfturf.turf.context import TraceContext, trace_context
from surfturf.turf.contrast import BaselineCorpus, contrast
from surfturf.turf.crux import N_CRUX, Crux, informed_crux
from surfturf.turf.describe import AttributeSource
from surfturf.turf.keywords import rare_keywords

PAPER_K = 1000
K_SHARE = 50  # automatic k: at most one example in 50 (2%) of the corpus
DEFAULT_EVIDENCE = 10
GENERIC_SHARE = 0.25  # a crux held by more than this share of the responses describes no part of the data
SIMILARITY_FLOOR = 0.3  # a crux whose best neighbour is less similar than this has no match in the data
NEIGHBOUR_GAP = 0.15  # neighbours this much less similar than the crux's best match no longer share it


def auto_k(n_examples: int) -> int:
    """The paper's k = 1000, capped at 2% of the corpus (at least 20).

    1000 is 0.1% of Tulu 3; on a corpus of a few thousand examples it would pull in a fifth of
    the data, far beyond the examples that really share the crux, and bury the signal.
    """
    return int(min(PAPER_K, max(20, n_examples // K_SHARE)))


@dataclass
class TraceSettings:
    """How much to retrieve and report; `k` None means `auto_k` of the index's corpus.

    `min_similarity` makes the retrieval a similarity floor: neighbours below it are dropped, so a
    small group of matching examples is not padded with filler up to k.
    """

    k: int | None = None
    min_similarity: float | None = None  # retrieve only neighbours at least this similar (k stays the cap)
    n_crux: int = N_CRUX
    n_evidence: int = DEFAULT_EVIDENCE
    keywords: bool = True


def _query_phrase(text: str) -> str:
    """'The query uses formal vocabulary' -> 'a query that uses formal vocabulary'."""
    text = text.strip().rstrip(".")
    for prefix in ("The query ", "the query "):
        if text.startswith(prefix):
            return "a query that " + text[len(prefix):]
    return text[:1].lower() + text[1:]


def _response_phrase(text: str) -> str:
    """'The response provides extensive code' -> 'provides extensive code'."""
    text = text.strip().rstrip(".")
    for prefix in ("The response ", "the response "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return "gives a response where " + text[:1].lower() + text[1:]


def sentence(case: Case, trigger: dict, by_hits: dict, crux: list[str], n_retrieved: int) -> str:
    """The paper's one-line explanation, naming the most enriched trigger, with the numbers behind it.

    The paper's raw-hits trigger is added when it differs: big clusters ("The query is written in
    English") win raw hits without saying anything about why this failure happened.
    """
    violation = (case.rubric_title or f"a {case.rubric} violation").rstrip(".")
    violation = violation[:1].lower() + violation[1:]
    score = f", judge score {case.score:g}" if case.score is not None else ""
    text = (f"When the model sees {_query_phrase(trigger['text'])}, it {_response_phrase(crux[0])}, causing "
            f"{violation} (rubric {case.rubric}{score}; {trigger['hits']} of {n_retrieved} retrieved training "
            f"examples, expected {trigger['expected']:.1f}, lift {trigger['lift']:.1f})")
    if by_hits["cluster"] != trigger["cluster"]:
        text += f"; most hits: {_query_phrase(by_hits['text'])} ({by_hits['hits']} of {n_retrieved})"
    return text


async def find_crux(cases: Sequence[Case], blind: AttributeSource, judge: Model | None, n_crux: int) -> list[Crux]:
    """Both judges for every case that lacks a crux, concurrently."""

    async def one(case: Case) -> Crux:
        if case.crux:
            return Crux(list(case.blind_attributes or []), list(case.crux))
        attributes = case.blind_attributes
        if attributes is None:
            attributes, error = await blind.response(case.response)
            if error:
                return Crux(attributes, error=f"blind judge: {error}")
        if not attributes:
            return Crux([], error="blind judge: no attributes for the response")
        if judge is None:
            raise UserError("no informed judge to pick the crux", "pass --judge SPEC (offline: --judge world/crux)")
        return await informed_crux(judge, case.rubric, case.rubric_text, case.query, case.response, attributes, n_crux)

    return list(await asyncio.gather(*(one(case) for case in cases)))


async def describe_queries(cases: Sequence[Case], source: AttributeSource) -> dict[str, tuple[list[str], str | None]]:
    """Attributes of each distinct failing query (given ones kept), extracted once per query."""
    known = {case.query: (list(case.query_attributes), None) for case in cases if case.query_attributes}
    todo = list(dict.fromkeys(case.query for case in cases if case.query not in known))
    found = await asyncio.gather(*(source.query(query) for query in todo))
    known.update(zip(todo, found))
    return known


def crux_limits(context: TraceContext, scores: np.ndarray, rows: np.ndarray) -> tuple[list[float], list[float]]:
    """Per crux attribute: the share of responses holding its best-matching attribute text, and that
    match's similarity. Both say whether the crux can point at a part of the data at all."""
    held, best = [], []
    n = max(context.corpus.n_examples, 1)
    for crux_scores, crux_rows in zip(scores, rows):
        if crux_rows.size == 0 or crux_rows[0] < 0:
            held.append(0.0)
            best.append(0.0)
            continue
        code = context.text_groups.codes[crux_rows[0]]
        members = context.response_example[context.text_groups.members(np.array([code]))]
        held.append(round(float(np.unique(members).size) / n, 4))
        best.append(round(float(crux_scores[0]), 4))
    return held, best


def verdict(held: list[float], best: list[float]) -> dict:
    """Whether any crux attribute can carry an attribution, and why not when none can."""
    usable = [i for i, (share, sim) in enumerate(zip(held, best)) if share <= GENERIC_SHARE and sim >= SIMILARITY_FLOOR]
    reason = None
    if not usable:
        worst = int(np.argmax(held)) if held else 0
        if held and held[worst] > GENERIC_SHARE:
            reason = f"cannot attribute: the crux is generic, held by {held[worst]:.0%} of responses"
        else:
            reason = (f"cannot attribute: the crux has no close match in the data "
                      f"(best similarity {max(best, default=0.0):.2f} < {SIMILARITY_FLOOR})")
    return {"attributable": bool(usable), "usable_crux": usable, "crux_held_share": held,
            "crux_best_similarity": best, "reason": reason}


EMPTY_ATTRIBUTION = {"n_retrieved": 0, "hits": {}, "query_attributes": [], "trigger": None, "trigger_by_hits": None,
                     "trigger_by_enrichment": None, "chunks": [], "evidence": []}


def _error_record(case: Case, crux: Crux | None, error: str, settings: TraceSettings) -> dict:
    return {"finding": case.finding, "rubric": case.rubric, "query": case.query, "response": case.response,
            "blind_attributes": crux.blind_attributes if crux else [], "crux": crux.crux if crux else [],
            "k": settings.k, "error": error, "raw": crux.raw if crux else None, "verdict": None, "keywords": [],
            **EMPTY_ATTRIBUTION, "sentence": None}


def _query_rows(context: TraceContext, attribution: Any, texts: list[str], clusters: np.ndarray) -> list[dict]:
    rows = []
    for text, cluster in zip(texts, clusters.tolist()):
        rows.append({"text": text, "cluster": int(cluster), "cluster_summary": context.summaries[cluster],
                     **attribution.clusters.row(int(cluster))})
    return rows


def _trigger(row: dict, n_retrieved: int) -> dict:
    return {"text": row["text"], "cluster": row["cluster"], "cluster_summary": row["cluster_summary"],
            "hits": row["hits"], "k": n_retrieved, "expected": row["expected"], "lift": row["lift"],
            "lift_low": row["lift_low"], "p_adjusted": row["p_adjusted"]}


def kept_rows(scores: np.ndarray, rows: np.ndarray, usable: list[int], min_similarity: float | None,
              best: np.ndarray | None = None) -> np.ndarray:
    """The retrieval a trace counts (others set to -1): usable crux attributes only, and neighbours
    within NEIGHBOUR_GAP of each crux's `best` match (default: its own best), so a fixed k does not pad
    a small group with filler."""
    rows = rows.copy()
    rows[[i for i in range(rows.shape[0]) if i not in usable]] = -1
    floor = (scores[:, :1] if best is None else best) - NEIGHBOUR_GAP
    if min_similarity is not None:
        floor = np.maximum(floor, min_similarity)
    rows[scores < floor] = -1
    return rows


def build_trace(context: TraceContext, case: Case, crux: Crux, scores: np.ndarray, rows: np.ndarray,
                query_texts: list[str], query_clusters: np.ndarray, settings: TraceSettings) -> dict:
    """One finding's trace record (docs/CONTRACTS.md, Traces) from its search results and clusters.

    Generic or unmatched crux attributes retrieve nothing; when none is left the record says why
    (`verdict`, `sentence`) and names no trigger or chunk.
    """
    judged = verdict(*crux_limits(context, scores, rows))
    rows = kept_rows(scores, rows, judged["usable_crux"], settings.min_similarity)
    base = {"finding": case.finding, "rubric": case.rubric, "query": case.query, "response": case.response,
            "blind_attributes": crux.blind_attributes, "crux": crux.crux, "k": settings.k,
            "min_similarity": settings.min_similarity, "verdict": judged, "error": None,
            "keywords": rare_keywords(context.corpus, context.vocabulary, case.query) if settings.keywords else []}
    if not judged["attributable"] or not (rows >= 0).any():
        judged["attributable"] = False
        judged["reason"] = judged["reason"] or "cannot attribute: no retrieved neighbour above the similarity floor"
        return {**base, **EMPTY_ATTRIBUTION, "sentence": judged["reason"]}
    retrieved = collect(scores, rows, context.response_example)
    attribution = attribute(context.corpus, retrieved)
    query_rows = _query_rows(context, attribution, query_texts, query_clusters)
    by_hits, by_enrichment = pick_triggers(query_clusters, attribution)
    n = attribution.n_retrieved
    trigger_hits = _trigger(query_rows[by_hits], n)
    trigger = _trigger(query_rows[by_enrichment], n)
    for chosen in (trigger_hits, trigger):
        chosen["hits_by_crux"] = hits_by_crux(context.corpus, rows, context.response_example, chosen["cluster"])
    clusters = list(dict.fromkeys([trigger["cluster"], trigger_hits["cluster"]]))
    usable_crux = [crux.crux[i] for i in judged["usable_crux"]]
    return {
        **base, "n_retrieved": n, "hits": top_hits(attribution), "query_attributes": query_rows,
        "trigger": trigger, "trigger_by_enrichment": trigger, "trigger_by_hits": trigger_hits,
        "chunks": chunk_rows(context.corpus, attribution),
        "evidence": evidence(context.corpus, attribution, clusters, crux.crux,
                             context.response_texts, settings.n_evidence),
        "sentence": sentence(case, trigger, trigger_hits, usable_crux, n),
    }


async def trace_cases(cases: Sequence[Case], context: TraceContext, *, blind: AttributeSource,
                      query_source: AttributeSource | None = None, judge: Model | None = None,
                      settings: TraceSettings | None = None, session: ModelSession | None = None,
                      baseline: TraceContext | None = None) -> list[dict]:
    """Trace every case, sharing extraction, embedding and search; records come back in case order.

    `session` (optional) carries the embedding calls' cache and accounting. With a `baseline` context
    (the compared model's training data) each record gets a `baseline` block: what the traced model's
    data has near the crux that the baseline's lacks (turf/contrast.py).
    """
    if judge is None and any(not case.crux for case in cases):  # before any model call
        raise UserError("no informed judge to pick the crux", "pass --judge SPEC (offline: --judge world/crux)")
    settings = settings or TraceSettings()
    if settings.k is None:
        settings = replace(settings, k=auto_k(context.corpus.n_examples))
    if settings.k < 1:
        raise UserError(f"k = {settings.k} is below 1", "pass --k 1 or more")
    cruxes, described = await asyncio.gather(find_crux(cases, blind, judge, settings.n_crux),
                                             describe_queries(cases, query_source or blind))
    good = []
    records: list[dict | None] = [None] * len(cases)
    for position, (case, crux) in enumerate(zip(cases, cruxes)):
        texts, error = described[case.query]
        if not crux.ok:
            records[position] = _error_record(case, crux, crux.error or "no crux", settings)
        elif error or not texts:
            records[position] = _error_record(case, crux, f"query attributes: {error or 'none extracted'}", settings)
        else:
            good.append(position)
    if good:
        crux_texts = [text for position in good for text in cruxes[position].crux]
        query_list = list(dict.fromkeys(case.query for case in (cases[p] for p in good)))
        query_texts = [text for query in query_list for text in described[query][0]]
        crux_vectors, query_vectors = await asyncio.gather(context.embed(crux_texts, session),
                                                    context.embed(query_texts, session))
        scores, rows = context.search(crux_vectors, crux_texts, settings.k)
        assigned = context.assign_clusters(query_vectors)
        against = await _baseline_search(baseline, crux_texts, settings.k, session) if baseline else None
        offsets, start = {}, 0
        for query in query_list:
            offsets[query] = (start, start + len(described[query][0]))
            start = offsets[query][1]
        crux_start = 0
        for position in good:
            case, crux = cases[position], cruxes[position]
            crux_rows = slice(crux_start, crux_start + len(crux.crux))
            crux_start = crux_rows.stop
            low, high = offsets[case.query]
            records[position] = build_trace(context, case, crux, scores[crux_rows], rows[crux_rows],
                                            described[case.query][0], assigned[low:high], settings)
            if against is not None:
                records[position]["baseline"] = _contrast(context, against, records[position], scores[crux_rows],
                                                          rows[crux_rows], crux_rows, settings)
    return [record for record in records if record is not None]


async def _baseline_search(baseline: TraceContext, crux_texts: list[str], k: int,
                           session: ModelSession | None) -> dict[str, Any]:
    """The crux searched in the baseline's index (its own embedder), with its corpus's row texts."""
    vectors = await baseline.embed(crux_texts, session)
    scores, rows = baseline.search(vectors, crux_texts, min(k, max(1, int(baseline.index.response_embeddings.shape[0]))))
    return {"context": baseline, "scores": scores, "rows": rows, "corpus": BaselineCorpus(baseline.corpus)}


def _contrast(context: TraceContext, against: dict[str, Any], record: dict, scores: np.ndarray, rows: np.ndarray,
              crux_rows: slice, settings: TraceSettings) -> dict | None:
    """A differential trace's `baseline` block; None when the trace attributes nothing."""
    if not record["verdict"]["attributable"]:
        return None
    if "b_only" not in against:
        against["b_only"] = against["corpus"].lacks(context.corpus)
    usable = record["verdict"]["usable_crux"]
    kept = kept_rows(scores, rows, usable, settings.min_similarity)
    theirs = kept_rows(against["scores"][crux_rows], against["rows"][crux_rows], usable, settings.min_similarity,
                       best=scores[:, :1])
    baseline = against["context"]
    return contrast(context.corpus, context.response_example, scores, kept, against["corpus"],
                    baseline.response_example, against["scores"][crux_rows], theirs, against["b_only"],
                    settings.n_evidence)


def _role(session: ModelSession, role: str, model: Model | str | None) -> Model | None:
    return session.model(role, model) if isinstance(model, str) else model


async def trace_run_async(run_dir: Path | str, index: Any, session: ModelSession, *,
                          extractor: Model | str | None = None, judge: Model | str | None = None,
                          settings: TraceSettings | None = None, finding_ids: list[str] | None = None,
                          top: int | None = None, out_dir: Path | str | None = None,
                          config: dict[str, Any] | None = None) -> list[dict]:
    """Trace the violating findings of a SURF run (or the named ones) into RUN/traces/ (or `out_dir`).

    `extractor` is the blind judge and the query's extractor (None: the heuristic extractor);
    `judge` is the informed judge. Returns the trace records, in findings order. `config` adds
    entries to the manifest's config. A differential run against the baseline's data is traced by
    turf/contrast_run.py.
    """
    from surfturf.turf.trace_files import run_cases

    run_dir = Path(run_dir)
    context = trace_context(index)
    settings = settings or TraceSettings()
    settings = replace(settings, k=settings.k or auto_k(context.corpus.n_examples))
    extractor, judge = _role(session, "extractor", extractor), _role(session, "judge", judge)
    cases, rubric = run_cases(run_dir, finding_ids, top)
    source = context.source(extractor)
    records = await trace_cases(cases, context, blind=source, judge=judge, settings=settings, session=session)
    _save(Path(out_dir) if out_dir else run_dir / "traces", records, context, session, source, judge,
          run_dir=run_dir, config={"rubric": rubric.name, **asdict(settings), "findings": finding_ids, "top": top,
                                   **(config or {})})
    return records


def _save(out_dir: Path, records: list[dict], context: TraceContext, session: ModelSession, source: AttributeSource,
          judge: Model | None, *, run_dir: Path | None, config: dict[str, Any]) -> None:
    """Write traces with their manifest: the index they ran against, who extracted and judged, the spend."""
    from surfturf.turf.trace_files import save_traces

    index_dir = getattr(context.index, "path", None)
    save_traces(out_dir, records, run_dir=run_dir, index_dir=Path(index_dir) if index_dir else None, config=config,
                models={"extractor": source.name, "judge": judge.spec if judge else None,
                        "embedder": str(getattr(context.index, "embedder_spec", None))},
                usage=session.usage.summary())


def save_pair_trace(out_dir: Path, record: dict, rubric: Rubric, context: TraceContext, session: ModelSession, *,
                    extractor: Model | None, judge: Model | None, settings: TraceSettings,
                    config: dict[str, Any] | None = None) -> None:
    """Write one pair's trace (from trace_one_async) with its manifest, as a run's traces are written."""
    _save(out_dir, [record], context, session, context.source(extractor), judge, run_dir=None,
          config={"rubric": rubric.name, "k": record["k"], "n_evidence": settings.n_evidence, **(config or {})})


async def trace_one_async(query: str, response: str, rubric: Rubric | str, index: Any, session: ModelSession | None = None,
                          *, extractor: Model | str | None = None, judge: Model | str | None = None,
                          settings: TraceSettings | None = None, finding: str = "query", score: float | None = None,
                          crux: list[str] | None = None, blind_attributes: list[str] | None = None,
                          query_attributes: list[str] | None = None, baseline: Any = None) -> dict:
    """Trace one failing pair; give `crux` (and `query_attributes`) to skip the model calls, and
    `baseline` (the compared model's index) for the differential block."""
    if isinstance(rubric, str):
        rubric = load_rubric(rubric)
    if session is None and (isinstance(extractor, str) or isinstance(judge, str)):
        raise UserError("model specs need a ModelSession", "pass session=ModelSession(...)")
    if session is not None:
        extractor, judge = _role(session, "extractor", extractor), _role(session, "judge", judge)
    case = Case(finding=finding, query=query, response=response, rubric=rubric.name, rubric_text=rubric.render(),
                rubric_title=rubric.title, score=score, blind_attributes=blind_attributes, crux=crux,
                query_attributes=query_attributes)
    context = trace_context(index)
    records = await trace_cases([case], context, blind=context.source(extractor), judge=judge,
                                settings=settings, session=session,
                                baseline=trace_context(baseline) if baseline is not None else None)
    return records[0]


def trace_one(query: str, response: str, rubric: Rubric | str, index: Any, session: ModelSession | None = None,
              **options: Any) -> dict:
    """Synchronous trace_one_async."""
    return asyncio.run(trace_one_async(query, response, rubric, index, session, **options))
