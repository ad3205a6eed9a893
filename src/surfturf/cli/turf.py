"""`surfturf turf trace|keywords|stats`: explain failures with the training data of an index."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from surfturf.cli.options import RoleConfig, RuntimeOptions, role_options, runtime_options
from surfturf.cli.outcome import exit_if_failed
from surfturf.errors import UserError
from surfturf.io.manifest import run_status
from surfturf.io.ownership import claim_dir
from surfturf.models import ModelSession
from surfturf.models.accounting import approx_tokens

BLIND_CHOICES = ("auto", "extractor", "heuristic")


@click.group()
def turf() -> None:
    """TURF: trace failures to the training data that taught them (needs an index)."""


def _open_index(path: Path) -> Any:
    from surfturf.turf.store import Index

    return Index.open(path)


def _index_extractor(index: Any) -> str | None:
    """The extractor spec the index was built with, or None when it used the heuristic extractor."""
    manifest = getattr(index, "manifest", None) or {}
    spec = (manifest.get("models") or {}).get("extractor")
    return None if not spec or str(spec).startswith("heuristic") else str(spec)


def _extractor(blind_judge: str, role: RoleConfig, index: Any) -> RoleConfig | None:
    """Which extractor describes the failing response and query: the index's own kind, unless told."""
    if blind_judge == "heuristic":
        return None
    spec = role.spec or _index_extractor(index)
    if blind_judge == "extractor" and spec is None:
        raise UserError("--blind-judge extractor needs a model", "pass --extractor PROVIDER/MODEL")
    return replace(role, spec=spec) if spec else None


def _dry_run(cases: list, extractor: RoleConfig | None, judge: RoleConfig, runtime: RuntimeOptions) -> None:
    session = ModelSession(cache_dir=None, prices=runtime.prices)
    todo = [case for case in cases if not case.crux]
    size = approx_tokens(max((len(case.response) + len(case.query) for case in todo), default=0))
    if extractor is not None:
        queries = len({case.query for case in cases})
        session.estimate("extractor", extractor.require(), len(todo) + queries, 400 + size, 200)
    session.estimate("judge", judge.require(), len(todo), 900 + size, 20)
    for line in session.plan_lines():
        click.echo(line)


def _check_trace_inputs(run_dir: Path | None, index_dir: Path | None, baseline_dir: Path | None, query: str | None,
                        response: str | None, rubric: str | None, selects: bool) -> bool:
    """Whether `turf trace` traces one pair (else a RUN); a usage error for any other mix of inputs."""
    if index_dir is None:
        if baseline_dir is not None:
            raise UserError("--baseline-index needs --index too (the traced model's data, compared with the baseline's)",
                            "pass --index B_INDEX --baseline-index A_INDEX")
        raise UserError("no index given", "pass --index INDEX (built with `surfturf index build`)")
    single = query is not None or response is not None
    if single == (run_dir is not None):
        raise UserError("give either RUN or --query/--response/--rubric", "see `surfturf turf trace --help`")
    if single and not (query and response and rubric):
        raise UserError("--query needs --response and --rubric too", "pass all three")
    if single and selects:
        raise UserError("--finding and --top select findings of a RUN", "pass RUN or drop them")
    return single


@turf.command("trace")
@click.argument("run_dir", required=False, type=click.Path(path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path),
              help="INDEX directory (of the traced model's training data; required).")
@click.option("--baseline-index", "baseline_dir", type=click.Path(path_type=Path), default=None,
              help="The compared model's INDEX (differential run: the baseline A's data): each trace then says "
                   "which training examples near the crux the failing model's data has and the other's lacks (a "
                   "finding fixed in the target is the baseline's failure, traced in this index against --index).")
@click.option("--query", help="A failing query (instead of RUN).")
@click.option("--response", help="The response to --query.")
@click.option("--rubric", help="Rubric the response violates (name or YAML path; with --query).")
@click.option("--finding", "finding_ids", multiple=True, help="Trace only this finding id of RUN (repeatable).")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Trace only the best N violating findings.")
@click.option("--k", type=click.IntRange(min=1), default=None,
              help="Training response attributes retrieved per crux attribute [default: the paper's 1000, "
                   "capped at 2% of the corpus's examples].")
@click.option("--evidence", "n_evidence", type=click.IntRange(min=0), default=10, show_default=True,
              help="Supporting training examples kept per trace.")
@click.option("--blind-judge", type=click.Choice(BLIND_CHOICES), default="auto", show_default=True,
              help="Who lists the response's (and query's) attributes: the extractor model, the heuristic "
                   "extractor, or auto = the kind that built the index.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where to write traces [default: RUN/traces; with --query, nothing is written].")
@click.option("--json", "as_json", is_flag=True, help="Print the trace records as JSON lines, not panels.")
@role_options("extractor", "judge")
@runtime_options
def trace(run_dir: Path | None, index_dir: Path | None, baseline_dir: Path | None, query: str | None,
          response: str | None, rubric: str | None, finding_ids: tuple[str, ...], top: int | None, k: int, n_evidence: int, blind_judge: str,
          out_dir: Path | None, as_json: bool, roles: dict[str, RoleConfig], runtime: RuntimeOptions) -> None:
    """Trace failures to the trigger, the chunk and the training examples behind them.

    Give a SURF RUN directory (its violating findings are traced into RUN/traces/), or one pair
    with --query, --response and --rubric.
    """
    from surfturf.rubrics.loader import load_rubric
    from surfturf.turf.contrast_run import trace_contrast_run_async
    from surfturf.turf.context import trace_context
    from surfturf.turf.trace import TraceSettings, save_pair_trace, trace_one_async, trace_run_async
    from surfturf.turf.trace_files import case_for, run_cases
    from surfturf.turf.trace_view import print_traces

    single = _check_trace_inputs(run_dir, index_dir, baseline_dir, query, response, rubric, bool(finding_ids or top))
    rules = load_rubric(rubric) if single else None
    cases = [case_for("query", query, response, rules)] if single else run_cases(run_dir, list(finding_ids) or None, top)[0]
    index = _open_index(index_dir)
    baseline_index = _open_index(baseline_dir) if baseline_dir is not None else None
    extractor = _extractor(blind_judge, roles["extractor"], index)
    if runtime.dry_run:
        _dry_run(cases, extractor, roles["judge"], runtime)
        return
    settings = TraceSettings(k=k, n_evidence=n_evidence)
    context = trace_context(index)
    extra = {"blind_judge": blind_judge, "runtime": runtime.config(),
             "settings": {"judge": roles["judge"].record(), "extractor": extractor.record() if extractor else None}}
    target = out_dir or (None if single else run_dir / "traces")
    if target is not None:
        click.get_current_context().with_resource(claim_dir(target, "traces", resume=True))
    stopped: str | None = None

    async def main() -> list[dict]:
        nonlocal stopped
        async with runtime.session(ledger=target / "spend.jsonl" if target else None) as session:
            try:
                return await trace_all(session)
            finally:
                stopped = run_status(session)[1]

    async def trace_all(session: ModelSession) -> list[dict]:
        extract_model = extractor.model(session) if extractor else None
        judge = roles["judge"].model(session) if cases else None
        with Console(stderr=True).status(f"tracing {len(cases)} finding(s)"):
            if not single and baseline_index is not None:  # each finding in the data of the model that fails it
                return await trace_contrast_run_async(run_dir, context, baseline_index, session, extractor=extract_model,
                                                      judge=judge, settings=settings, top=top, out_dir=out_dir,
                                                      finding_ids=list(finding_ids) or None, config=extra)
            if not single:
                return await trace_run_async(run_dir, context, session, extractor=extract_model, judge=judge,
                                             settings=settings, finding_ids=list(finding_ids) or None, top=top,
                                             out_dir=out_dir, config=extra)
            record = await trace_one_async(query, response, rules, context, session, extractor=extract_model,
                                           judge=judge, settings=settings, baseline=baseline_index)
            if out_dir is not None:
                save_pair_trace(out_dir, record, rules, context, session, extractor=extract_model, judge=judge,
                                settings=settings, config=extra)
            return [record]

    records = asyncio.run(main())
    if as_json:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
    else:
        print_traces(records)
    errors = sum(1 for record in records if record.get("error"))
    click.echo(json.dumps({"traced": len(records) - errors, "errors": errors, "out": str(target) if target else None}))
    exit_if_failed("turf trace", stopped)


@turf.command("keywords")
@click.argument("index_dir", type=click.Path(path_type=Path))
@click.argument("words", nargs=-1, required=True)
@click.option("--field", type=click.Choice(["query", "response"]), default="query", show_default=True,
              help="Count examples whose query (or response) contains the word.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per word instead of a table.")
def keywords(index_dir: Path, words: tuple[str, ...], field: str, as_json: bool) -> None:
    """Which chunks WORDS come from: counts per source and concentration (whole words, any case)."""
    from surfturf.turf.corpus import CorpusView
    from surfturf.turf.keywords import keyword_counts
    from surfturf.turf.trace_view import print_keywords

    index = _open_index(index_dir)
    rows = keyword_counts(CorpusView(index.examples), list(words), field)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        print_keywords(rows)


@turf.command("stats")
@click.argument("index_dir", type=click.Path(path_type=Path))
@click.option("--query-regex", multiple=True, help="Query feature: the query matches this regex (repeatable, all must hold).")
@click.option("--query-cluster", type=int, multiple=True, help="Query feature: a query attribute in this cluster (repeatable).")
@click.option("--query-attribute", multiple=True,
              help="Query feature: a query attribute in the cluster nearest this text (repeatable).")
@click.option("--response-regex", required=True, help="Response feature: the response matches this regex.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def stats(index_dir: Path, query_regex: tuple[str, ...], query_cluster: tuple[int, ...],
          query_attribute: tuple[str, ...], response_regex: str, as_json: bool) -> None:
    """P(response feature | query feature) in each chunk and outside it, with 95% intervals."""
    from surfturf.turf.stats import QueryFeature, conditional_stats
    from surfturf.turf.context import trace_context
    from surfturf.turf.trace_view import print_conditional

    if not (query_regex or query_cluster or query_attribute):
        raise UserError("no query feature given", "pass --query-regex, --query-cluster or --query-attribute")
    context = trace_context(_open_index(index_dir))
    clusters = list(query_cluster)
    if query_attribute:
        vectors = asyncio.run(context.embed(list(query_attribute)))
        clusters += [int(c) for c in context.assign_clusters(vectors)]
    labels = tuple(context.summaries[c] if 0 <= c < len(context.summaries) else "" for c in clusters)
    feature = QueryFeature(regexes=query_regex, clusters=tuple(clusters), labels=labels)
    result = conditional_stats(context.corpus, feature, response_regex)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        print_conditional(result)
