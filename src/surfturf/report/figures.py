"""Static figures (PNG and SVG, matplotlib) of the report's charts, for papers and slides."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from surfturf.io.files import public_mode
from surfturf.report import stats
from surfturf.report.charts import color
from surfturf.report.load import RunData


def _pyplot() -> Any:
    """matplotlib with a file-only backend and reproducible SVG output."""
    import matplotlib

    matplotlib.use("Agg")
    # Text stays text in the SVG (editable in a paper, and XML-escaped by matplotlib); constrained
    # layout fits long labels in one draw, where bbox_inches="tight" would draw every figure twice.
    matplotlib.rcParams.update({"svg.hashsalt": "surfturf", "svg.fonttype": "none", "font.size": 9,
                                "axes.spines.top": False, "axes.spines.right": False,
                                "figure.constrained_layout.use": True,
                                # Labels are model text: "$x^$" must print as is, not fail as mathtext.
                                "text.parse_math": False})
    import matplotlib.pyplot as plt

    return plt


def safe_name(text: str) -> str:
    """A file-name piece from an id that may contain anything."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:80] or "item"


def _clip(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _save(fig: Any, folder: Path, stem: str, written: list[Path]) -> None:
    """Write PNG and SVG atomically (temp file then os.replace)."""
    for ext in ("png", "svg"):
        target = folder / f"{stem}.{ext}"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=f".{ext}")
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, dpi=150, metadata={"Date": None} if ext == "svg" else None)
            os.chmod(tmp, public_mode())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(target)


def _progress(plt: Any, run: RunData, folder: Path, written: list[Path]) -> None:
    series = stats.progress(run)
    if not series:
        return
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    many = len(series) > stats.MANY_RUNS
    for n, (surf_run, points) in enumerate(series.items()):
        xs = [p["iteration"] for p in points]
        ax.plot(xs, [p["best"] for p in points], color=color(n), marker="o", ms=3, label=f"run {surf_run} best")
        if not many:
            ax.plot(xs, [p["mean"] for p in points], color=color(n), ls="--", alpha=0.7, label=f"run {surf_run} mean")
    if many:
        overall = stats.overall_mean(series)
        ax.plot([i for i, _ in overall], [m for _, m in overall], color="#334155", ls="--", lw=2,
                label="mean score, all runs")
    from matplotlib.ticker import MaxNLocator

    ax.set(xlabel="iteration", ylabel="judge score", ylim=(0, 100), title=f"Search progress: {run.rubric}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.axhline(stats.threshold_of(run), color="#94a3b8", lw=0.8, ls=":")
    ax.legend(fontsize=7, ncol=2, frameon=False, loc="best")
    _save(fig, folder, "search_progress", written)
    plt.close(fig)


def _weights(plt: Any, run: RunData, folder: Path, written: list[Path]) -> None:
    """One heatmap per RUN, averaged over its SURF runs (the HTML shows each run's own)."""
    matrix = stats.mean_weight_matrix(run)
    if not matrix["attributes"]:
        return
    import numpy as np

    grid = np.array(matrix["values"], dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(matrix["attributes"]) + 1.2))
    image = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0)
    ax.set_yticks(range(len(matrix["attributes"])), [_clip(a) for a in matrix["attributes"]], fontsize=7)
    ax.set_xticks(range(len(matrix["iterations"])), matrix["iterations"], fontsize=7)
    ax.set(xlabel="iteration", title=f"Top attribute weights, mean over {len(stats.surf_runs(run))} runs")
    fig.colorbar(image, ax=ax, label="mean P(attribute)")
    _save(fig, folder, "attribute_weights", written)
    plt.close(fig)


def _traces(plt: Any, run: RunData, folder: Path, written: list[Path]) -> None:
    for trace in run.traces:
        name = safe_name(str(trace.get("finding") or "trace"))
        bars = trace_bars(trace, run.cluster_names)
        if bars["labels"]:
            fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(bars["labels"]) + 1))
            colors = ["#dc2626" if n == bars["highlight"] else "#2563eb" for n in range(len(bars["labels"]))]
            ax.barh(range(len(bars["labels"])), bars["values"], color=colors)
            ax.set_yticks(range(len(bars["labels"])), [_clip(t, 45) for t in bars["labels"]], fontsize=7)
            ax.invert_yaxis()
            retrieved = trace.get("n_retrieved", trace.get("k", "?"))
            ax.set(xlabel=f"hits of {retrieved} retrieved", title=f"Hit counts by query cluster: {name}")
            _save(fig, folder, f"trace_hits_{name}", written)
            plt.close(fig)
        chunks = [c for c in trace.get("chunks") or [] if isinstance(c, dict)]
        if chunks:
            import numpy as np

            fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(chunks) + 1))
            y = np.arange(len(chunks))
            ax.barh(y - 0.2, [float(c.get("share") or 0) for c in chunks], 0.4, color="#dc2626", label="retrieved")
            ax.barh(y + 0.2, [float(c.get("corpus_share") or 0) for c in chunks], 0.4, color="#94a3b8",
                    label="corpus")
            ax.set_yticks(y, [_clip(str(c.get("source")), 30) for c in chunks], fontsize=7)
            ax.invert_yaxis()
            ax.set(xlabel="share", title=f"Chunk breakdown: {name}")
            ax.legend(frameon=False, fontsize=7)
            _save(fig, folder, f"trace_chunks_{name}", written)
            plt.close(fig)


def trace_bars(trace: dict[str, Any], index_names: dict[str, str] | None = None, top: int = 15) -> dict[str, Any]:
    """Hit counts per query cluster, named by their summaries (from the trace, else from the index)."""
    names: dict[str, str] = dict(index_names or {})
    for attribute in trace.get("query_attributes") or []:
        if isinstance(attribute, dict) and attribute.get("cluster_summary"):
            names[str(attribute.get("cluster"))] = str(attribute["cluster_summary"])
    for key in ("trigger", "trigger_by_enrichment"):
        t = trace.get(key)
        if isinstance(t, dict) and t.get("cluster_summary"):
            names[str(t.get("cluster"))] = str(t["cluster_summary"])
    hits = trace.get("hits") or {}
    ranked = sorted(((str(c), float(h)) for c, h in hits.items() if isinstance(h, (int, float))),
                    key=lambda x: -x[1])[:top]
    trigger = trace.get("trigger") if isinstance(trace.get("trigger"), dict) else {}
    highlight = next((n for n, (c, _) in enumerate(ranked) if c == str(trigger.get("cluster"))), None)
    return {"labels": [f"{names[c]} (#{c})" if c in names else f"cluster {c}" for c, _ in ranked],
            "values": [h for _, h in ranked], "highlight": highlight}


def _intervals(plt: Any, labels: list[str], points: list[float], lows: list[float], highs: list[float],
               title: str, xlabel: str, folder: Path, stem: str, written: list[Path]) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 0.4 * len(labels) + 1.2))
    y = range(len(labels))
    ax.errorbar(points, list(y), xerr=[[max(0.0, p - lo) for p, lo in zip(points, lows)],
                                       [max(0.0, hi - p) for p, hi in zip(points, highs)]],
                fmt="o", color="#2563eb", capsize=3)
    ax.set_yticks(list(y), [_clip(t, 45) for t in labels], fontsize=7)
    ax.invert_yaxis()
    if min(lows, default=0) < 0:
        ax.axvline(0, color="#334155", lw=0.8, ls=":")
    ax.set(xlabel=xlabel, title=title)
    _save(fig, folder, stem, written)
    plt.close(fig)


def _robust_and_steer(plt: Any, run: RunData, folder: Path, written: list[Path]) -> None:
    rows = [r for r in run.robust if isinstance(r.get("original"), dict)]
    if rows:
        robust = stats.robust_points(rows)
        labels = [f"{finding} {name}" for finding, name, *_ in robust]
        points = [rate for *_, rate, _, _ in robust]
        lows = [low for *_, low, _ in robust]
        highs = [high for *_, high in robust]
        if labels:
            _intervals(plt, labels, points, lows, highs, "Failure rate with 95% intervals", "failure rate",
                       folder, "robustness", written)
    for source, steer in run.steer:
        targets = [t for t in steer.get("targets") or [] if isinstance(t.get("difference"), (int, float))]
        if targets:
            _intervals(plt, [str(t.get("target")) for t in targets], [float(t["difference"]) for t in targets],
                       [stats.number_or(t.get("low"), t["difference"]) for t in targets],
                       [stats.number_or(t.get("high"), t["difference"]) for t in targets],
                       f"Steered score: {steer.get('transform')} ({steer.get('measure')})",
                       "rate transformed - rate original", folder, steer_stem(source), written)


def steer_stem(source: str) -> str:
    """'steer.json' -> 'steer'; 'steer/latex/steer.json' -> 'steer_steer_latex'."""
    folder = source.rsplit("/", 1)[0] if "/" in source else ""
    return f"steer_{safe_name(folder.replace('/', '_'))}" if folder else "steer"


def write_run_figures(run: RunData, folder: Path) -> list[Path]:
    """All figures for one RUN into folder (RUN/figures/); returns the files written."""
    plt = _pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    _progress(plt, run, folder, written)
    _weights(plt, run, folder, written)
    _traces(plt, run, folder, written)
    _robust_and_steer(plt, run, folder, written)
    return written


def write_comparison_figures(runs: list[RunData], folder: Path) -> list[Path]:
    """Violation rates per rubric, one bar per RUN, side by side."""
    plt = _pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    table = stats.violation_rates(runs)
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    x = np.arange(len(table))
    width = 0.8 / max(1, len(runs))
    for n, run in enumerate(runs):
        values = [(row["cells"][n] or {}).get("findings_rate") or 0.0 for row in table]
        ax.bar(x + n * width - 0.4 + width / 2, values, width, color=color(n), label=_clip(run.label, 30))
    ax.set_xticks(x, [row["rubric"] for row in table])
    ax.set(ylabel="share of findings violating", ylim=(0, 1), title="Violation rate per rubric")
    ax.legend(frameon=False, fontsize=7)
    _save(fig, folder, "compare_violation_rates", written)
    plt.close(fig)
    return written
