"""Build the one-file HTML report: views of each run, charts, the findings data island, the page."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from surfturf import __version__
from surfturf.report import charts, stats
from surfturf.report.differential import differential_view
from surfturf.report.figures import trace_bars
from surfturf.report.load import RunData

# Characters that must not appear raw inside <script type="application/json">: "<" alone
# covers "</script>" and "<!--"; the line separators break some JavaScript parsers.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


# Column order for RUN/robust/summary.json, whose per-rubric fields are not fixed by the contract.
_SUMMARY_ORDER = ("findings", "n", "n_findings", "original", "perturbed", "rate", "mean_rate", "mean_finding_rate",
                  "low", "high", "findings_holding_up")


def json_island(data: Any) -> Markup:
    """JSON safe to place inside a <script type="application/json"> element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for raw, escaped in _JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return Markup(text)


def band(score: Any) -> str:
    """CSS class of a score's band: PAPER.md's >50 violation and >70 unambiguous failure."""
    if not isinstance(score, (int, float)) or isinstance(score, bool):
        return "none"
    if score > 70:
        return "high"
    if score > 50:
        return "viol"
    if score > 30:
        return "mid"
    return "low"


def _pct(value: Any, digits: int = 0) -> str:
    return f"{value:.{digits}%}" if isinstance(value, (int, float)) else "\u2013"


def _signed_pct(value: Any) -> str:
    return f"{value:+.1%}" if isinstance(value, (int, float)) else "\u2013"


def _num(value: Any, digits: int = 1) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "\u2013"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"


def _usd(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "\u2013"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def _pvalue(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "\u2013"
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "\u2013"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else (f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f}s")


def _environment() -> jinja2.Environment:
    # Producers may leave optional fields out: a missing field renders as nothing, not a crash.
    env = jinja2.Environment(loader=jinja2.PackageLoader("surfturf.report", "templates"), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=_pct, signed_pct=_signed_pct, num=_num, usd=_usd, pvalue=_pvalue, duration=_duration,
                       band=band)
    return env


def _static(name: str) -> Markup:
    """Our own CSS or JavaScript, inlined; guarded so it can never close its element early."""
    text = resources.files("surfturf.report").joinpath("static", name).read_text(encoding="utf-8")
    if "</" in text:
        raise ValueError(f"static/{name} must not contain '</'")
    return Markup(text)


def readable(value: Any) -> str:
    """A config value as short text: dicts as `key=value` pairs (empty ones left out), lists joined."""
    if value is None:
        return "\u2013"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("spec"), str):  # a role: its spec and where it is served
            return value["spec"] + (f" @ {value['base_url']}" if value.get("base_url") else "")
        return ", ".join(f"{k}={readable(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        return "; ".join(readable(v) for v in value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ", ".join(value) if value else "\u2013"
    return json.dumps(value, ensure_ascii=False)


def _settings(run: RunData) -> list[tuple[str, str]]:
    """Run settings as readable pairs; the rubric text is shown on its own."""
    return [(str(key), readable(value)) for key, value in run.config.items() if key != "rubric_text"]


def _progress_view(run: RunData) -> dict[str, Any]:
    series = []
    progress = stats.progress(run)
    many = len(progress) > stats.MANY_RUNS
    for n, (surf_run, points) in enumerate(progress.items()):
        best = [(p["iteration"], p["best"]) for p in points if p["best"] is not None]
        mean = [(p["iteration"], p["mean"]) for p in points if p["mean"] is not None]
        series.append(charts.Series(f"run {surf_run} best", best, charts.color(n)))
        if not many:
            series.append(charts.Series(f"run {surf_run} mean", mean, charts.color(n), dashed=True))
    if many:
        series.append(charts.Series("mean score, all runs", stats.overall_mean(progress), charts.INK, dashed=True))
    heatmaps = []
    runs = stats.surf_runs(run)
    if len(runs) > 1:
        matrix = stats.mean_weight_matrix(run)
        if matrix["attributes"]:
            heatmaps.append({"name": f"mean over {len(runs)} runs", "chart": charts.heatmap(
                matrix["attributes"], matrix["iterations"], matrix["values"], title="Mean top attribute weights")})
    for surf_run in runs:
        matrix = stats.weight_matrix(run, surf_run)
        if matrix["attributes"]:
            heatmaps.append({"name": f"run {surf_run}", "chart": charts.heatmap(
                matrix["attributes"], matrix["iterations"], matrix["values"],
                title=f"Top attribute weights, run {surf_run}")})
    return {"chart": charts.line_chart(series, title=f"Best and mean score per iteration, {run.label}")
            if series else None, "heatmaps": heatmaps}


def _trace_view(trace: dict[str, Any], cluster_names: dict[str, str]) -> dict[str, Any]:
    bars = trace_bars(trace, cluster_names)
    chunks = [c for c in trace.get("chunks") or [] if isinstance(c, dict)]
    by_hits = trace.get("trigger_by_hits", trace.get("trigger"))  # older records: `trigger` was by hits
    trigger = by_hits if isinstance(by_hits, dict) else {}
    by_enrichment = trace.get("trigger_by_enrichment")
    verdict = trace.get("verdict") if isinstance(trace.get("verdict"), dict) else None
    enrichment = sorted((a for a in trace.get("query_attributes") or [] if isinstance(a, dict)),
                        key=lambda a: -float(a.get("lift") or 0))
    return {
        "finding": str(trace.get("finding") or ""), "rubric": trace.get("rubric"), "error": trace.get("error"),
        "sentence": trace.get("sentence"), "query": trace.get("query"), "response": trace.get("response"),
        "crux": list(trace.get("crux") or []), "blind": list(trace.get("blind_attributes") or []),
        "k": trace.get("k"), "retrieved": trace.get("n_retrieved", trace.get("k")), "trigger": trigger,
        "by_enrichment": by_enrichment if isinstance(by_enrichment, dict) else None, "verdict": verdict,
        "hits_chart": charts.bar_chart(bars["labels"], bars["values"], highlight=bars["highlight"],
                                       title="Hit counts by query cluster") if bars["labels"] else None,
        "enrichment": enrichment, "chunks": chunks,
        "chunks_chart": charts.paired_bars(
            [str(c.get("source")) for c in chunks], [float(c.get("share") or 0) for c in chunks],
            [float(c.get("corpus_share") or 0) for c in chunks], names=("share of retrieved", "share of corpus"),
            title="Chunk breakdown") if chunks else None,
        "evidence": [e for e in trace.get("evidence") or [] if isinstance(e, dict)],
        "keywords": [k for k in trace.get("keywords") or [] if isinstance(k, dict)],
        "baseline": trace.get("baseline") if isinstance(trace.get("baseline"), dict) else None,
        "traced": trace.get("traced"),
    }


def _robust_view(run: RunData) -> dict[str, Any] | None:
    rows = [r for r in run.robust if isinstance(r.get("original"), dict)]
    if not rows and run.robust_summary is None:
        return None
    robust = stats.robust_points(rows)
    labels = [f"{finding} \u00b7 {name}" for finding, name, *_ in robust]
    points = [rate for *_, rate, _, _ in robust]
    lows = [low for *_, low, _ in robust]
    highs = [high for *_, high in robust]
    colors = ["#dc2626" if name == "original" else "#2563eb" for _, name, *_ in robust]
    summary = run.robust_summary
    summary_table = None
    if isinstance(summary, dict) and summary:
        per_rubric = summary if all(isinstance(v, dict) for v in summary.values()) else {"all": summary}
        found = {k for v in per_rubric.values() for k in v}
        keys = [k for k in _SUMMARY_ORDER if k in found] + sorted(found - set(_SUMMARY_ORDER))
        summary_table = {"keys": keys, "rows": [(name, [_summary_cell(k, v.get(k)) for k in keys])
                                                for name, v in per_rubric.items()]}
    return {"rows": rows, "summary": summary_table,
            "chart": charts.interval_chart(labels, points, lows, highs, colors=colors,
                                           title="Failure rate with 95% intervals") if labels else None}


def _summary_cell(key: str, value: Any) -> str:
    """A robustness summary value as text: a rate block as `rate [low, high] n=N`, rates as percentages."""
    if isinstance(value, dict) and isinstance(value.get("rate"), (int, float)):
        text = f"{_pct(value['rate'])} [{_pct(value.get('low'))}, {_pct(value.get('high'))}]"
        return text + (f" n={value['n']}" if isinstance(value.get("n"), int) else "")
    is_rate = "rate" in key or key in ("low", "high")
    if is_rate and isinstance(value, float) and 0.0 <= value <= 1.0:
        return _pct(value)
    return _num(value, 3) if isinstance(value, (int, float)) else readable(value)


def _steer_view(source: str, steer: dict[str, Any]) -> dict[str, Any]:
    """Rows and a chart of the change per target; rates read as percentages, other measures
    (e.g. response length) as plain numbers."""
    targets = [t for t in steer.get("targets") or [] if isinstance(t, dict)]
    plotted = [t for t in targets if isinstance(t.get("difference"), (int, float))]
    values = [float(t[k]) for t in targets for k in ("rate_original", "rate_transformed", "difference", "low", "high")
              if isinstance(t.get(k), (int, float))]
    percent = all(abs(v) <= 1.0 for v in values)
    chart = None
    if plotted:
        lows = [stats.number_or(t.get("low"), t["difference"]) for t in plotted]
        highs = [stats.number_or(t.get("high"), t["difference"]) for t in plotted]
        span = max(abs(v) for v in lows + highs + [float(t["difference"]) for t in plotted]) or 1.0
        span = min(1.0, round(max(0.1, span) + 0.05, 1)) if percent else span * 1.1
        chart = charts.interval_chart([str(t.get("target")) for t in plotted],
                                      [float(t["difference"]) for t in plotted], lows, highs, lo=-span, hi=span,
                                      percent=percent, title="Change in the measure with its interval")
    rows = []
    for t in targets:
        def show(value: Any, signed: bool = False) -> str:
            if not isinstance(value, (int, float)):
                return "\u2013"
            if percent:
                return _signed_pct(value) if signed else _pct(value, 1)
            return f"{value:+,.2f}" if signed else f"{value:,.2f}"

        def interval(block: Any) -> str:
            if not isinstance(block, dict) or not isinstance(block.get("low"), (int, float)):
                return ""
            return f"[{show(block['low'])}, {show(block.get('high'))}]"

        rows.append({"target": t.get("target"), "n": t.get("n"), "prompts": t.get("prompts"),
                     "original": show(t.get("rate_original")), "original_ci": interval(t.get("original")),
                     "transformed": show(t.get("rate_transformed")), "transformed_ci": interval(t.get("transformed")),
                     "difference": show(t.get("difference"), signed=True),
                     "ci": f"[{show(t.get('low'), True)}, {show(t.get('high'), True)}]",
                     "method": t.get("method"), "p_value": t.get("p_value"), "errors": t.get("n_errors")})
    return {"source": source, "transform": steer.get("transform"), "measure": steer.get("measure"),
            "rows": rows, "chart": chart}


def relative_link(target: Path, base: Path) -> str:
    """A relative href; './' first so a folder named like 'javascript:...' can never read as a scheme."""
    link = Path(os.path.relpath(target, base)).as_posix()
    return link if link.startswith("../") else "./" + link


def _run_view(run: RunData, n: int, out_dir: Path, figures: list[Path], exports: list[Path]) -> dict[str, Any]:
    manifest = run.manifest
    models = manifest.get("models") if isinstance(manifest.get("models"), dict) else {}
    return {
        "n": n, "label": run.label, "anchor": f"run-{n}", "color": charts.color(n), "path": str(run.path),
        "status": str(manifest.get("status") or "unknown"), "stopped": manifest.get("stopped"),
        "command": manifest.get("command"),
        "created": manifest.get("created"), "version": manifest.get("version"),
        "rubric": run.rubric, "rubric_text": run.config.get("rubric_text"),
        "models": sorted((str(k), readable(v)) for k, v in models.items()), "settings": _settings(run),
        "seeds": readable(manifest["seeds"]) if "seeds" in manifest else None, "info": stats.overview(run),
        "provisional": run.findings_provisional, "warnings": run.warnings,
        "failed_outputs": stats.failed_outputs(run),
        "progress": _progress_view(run), "traces": [_trace_view(t, run.cluster_names) for t in run.traces],
        "robust": _robust_view(run), "steer": [_steer_view(s, d) for s, d in run.steer],
        "differential": differential_view(run),
        "figures": [relative_link(f, out_dir) for f in figures if f.suffix == ".png"],
        "exports": [relative_link(f, out_dir) for f in exports],
    }


def _finding_data(runs: list[RunData]) -> dict[str, Any]:
    """The JSON the page's script renders: model text travels only here and only as data."""
    findings = []
    attributes: set[str] = set()
    run_names = []
    for n, run in enumerate(runs):
        traced = {str(t.get("finding")) for t in run.traces if not t.get("error")}
        robust = {str(r.get("finding")): r for r in run.robust}
        threshold = stats.threshold_of(run)
        for surf_run in stats.surf_runs(run) or [None]:
            run_names.append(f"{run.label} \u00b7 run {surf_run}" if len(runs) > 1 else f"run {surf_run}")
        for i, f in enumerate(run.findings):
            attrs = [str(a) for a in f.get("attributes") or []]
            attributes.update(attrs)
            check = robust.get(str(f.get("id")))
            findings.append({
                "key": f"{n}-{i}", "id": str(f.get("id") or ""), "source": n, "label": run.label,
                "run": f"{run.label} \u00b7 run {f.get('run')}" if len(runs) > 1 else f"run {f.get('run')}",
                "iteration": f.get("iteration"), "rank": f.get("rank", i + 1), "score": stats.score_of(f),
                "violation": stats.is_violation(f, threshold), "query": str(f.get("query") or ""),
                "response": str(f.get("response") or ""), "reason": str(f.get("reason") or ""),
                "error": f.get("error"), "attributes": attrs, "traced": str(f.get("id")) in traced,
                "robust": [check.get("mean_rate"), check.get("low"), check.get("high")] if _tested(check) else None,
                "robust_untested": bool(check) and not _tested(check),
            })
    return {"findings": findings, "runs": sorted(set(run_names)), "attributes": sorted(attributes),
            "sources": [run.label for run in runs]}


def _tested(block: dict[str, Any] | None) -> bool:
    """A robustness block with samples behind it; n=0 is "not tested", never a [0%, 100%] interval."""
    return bool(block) and isinstance(block.get("n"), int) and block["n"] > 0


def _comparison_view(runs: list[RunData]) -> dict[str, Any] | None:
    if len(runs) < 2:
        return None
    table = stats.violation_rates(runs)
    labels, points, lows, highs, colors = [], [], [], [], []
    for row in table:
        for n, cell in enumerate(row["cells"]):
            if cell and cell["findings_rate"] is not None:
                labels.append(f"{row['rubric']} \u00b7 {runs[n].label}")
                points.append(cell["findings_rate"])
                lows.append(cell["low"])
                highs.append(cell["high"])
                colors.append(charts.color(n))
    rubrics = [run.rubric for run in runs]
    return {"table": table, "labels": [run.label for run in runs], "matches": stats.shared_findings(runs),
            "shared_rubric": len(set(rubrics)) < len(rubrics),
            "chart": charts.interval_chart(labels, points, lows, highs, colors=colors,
                                           title="Violation rate of findings with 95% Wilson intervals")
            if labels else None}


def render_html(runs: list[RunData], out: Path, figures: dict[int, list[Path]],
                exports: dict[int, list[Path]]) -> str:
    """The whole page as a string."""
    out_dir = out.parent
    views = [_run_view(run, n, out_dir, figures.get(n, []), exports.get(n, [])) for n, run in enumerate(runs)]
    js = _static("report.js")
    # The Content-Security-Policy lets only this exact script run: a second line of defence
    # behind escaping, and it forbids every network fetch.
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return _environment().get_template("report.html.j2").render(
        runs=views, comparison=_comparison_view(runs), data=json_island(_finding_data(runs)),
        has_differential=any(v["differential"] for v in views), has_traces=any(v["traces"] for v in views), has_robust=any(v["robust"] for v in views),
        has_steer=any(v["steer"] for v in views), css=_static("report.css"), js=js, script_hash=script_hash,
        version=__version__, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        title="surfturf report: " + ", ".join(run.label for run in runs))
