"""The HTML report, its static figures and the findings exports (`surfturf report RUN [RUN...]`)."""

from __future__ import annotations

from pathlib import Path

from surfturf.io.files import write_text_atomic
from surfturf.report.export import write_exports
from surfturf.report.figures import write_comparison_figures, write_run_figures
from surfturf.report.load import load_runs
from surfturf.report.render import render_html

__all__ = ["default_output", "write_report"]


def default_output(run_dirs: list[Path]) -> Path:
    """RUN/report.html for one run; for several, RUN1/compare-report.html beside the first run's files."""
    first = Path(run_dirs[0])
    return first / ("report.html" if len(run_dirs) == 1 else "compare-report.html")


def write_report(run_dirs: list[Path], out: Path | None = None, *, figures: bool = True) -> Path:
    """Read the runs, write each run's figures and exports, then the one-file report; returns its path.

    Per run: RUN/figures/*.png|svg, RUN/findings.csv, RUN/findings.export.jsonl. With several runs
    the comparison figure goes to <report folder>/figures/compare_violation_rates.png|svg.
    """
    runs = load_runs([Path(p) for p in run_dirs])
    out = Path(out) if out is not None else default_output([run.path for run in runs])
    out.parent.mkdir(parents=True, exist_ok=True)
    exports = {n: write_exports(run) for n, run in enumerate(runs)}
    written_figures: dict[int, list[Path]] = {}
    if figures:
        written_figures = {n: write_run_figures(run, run.path / "figures") for n, run in enumerate(runs)}
        if len(runs) > 1:
            write_comparison_figures(runs, out.parent / "figures")
    write_text_atomic(out, render_html(runs, out, written_figures, exports))
    return out
