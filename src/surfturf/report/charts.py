"""Inline SVG charts drawn server-side, so the report needs no chart library and no network.

Every label may come from a model or a user (attributes, cluster summaries, sources), so all
text goes through markupsafe.escape; the functions return Markup ready for the template.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d",
           "#4b5563", "#b45309")
MUTED = "#94a3b8"
INK = "#334155"
GRID = "#e2e8f0"


def color(n: int) -> str:
    return PALETTE[n % len(PALETTE)]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _fits(width: float, size: int = 11) -> int:
    """How many characters of a label fit in width pixels at this font size (a safe estimate)."""
    return max(8, int(width / (0.64 * size)))


def _label(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, fill: str = INK,
           limit: int = 60, weight: str = "normal") -> str:
    """A text element, clipped, with the full text as a tooltip."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}"><title>{escape(text)}</title>{escape(_clip(text, limit))}</text>')


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        + "".join(body) + "</svg>")


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]
    color: str
    dashed: bool = False


def line_chart(series: list[Series], *, title: str, y_max: float = 100.0, x_label: str = "iteration",
               y_label: str = "score") -> Markup:
    """Lines over iterations on a fixed 0..y_max axis, with a legend below."""
    width, height, left, right, top = 760, 300, 44, 16, 14
    plot_h = 200
    xs = [x for s in series for x, _ in s.points] or [0.0]
    x_min, x_max = min(xs), max(max(xs), min(xs) + 1)

    def sx(x: float) -> float:
        return left + (x - x_min) / (x_max - x_min) * (width - left - right)

    def sy(y: float) -> float:
        return top + plot_h - y / y_max * plot_h

    body = []
    for tick in range(0, int(y_max) + 1, int(y_max // 4) or 1):
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(_label(left - 6, sy(tick) + 4, str(tick), anchor="end", size=10, fill=MUTED))
    step = max(1, round((x_max - x_min) / 10))
    tick = x_min
    while tick <= x_max:
        body.append(_label(sx(tick), top + plot_h + 16, f"{tick:g}", anchor="middle", size=10, fill=MUTED))
        tick += step
    body.append(_label((left + width - right) / 2, top + plot_h + 32, x_label, anchor="middle", size=10,
                       fill=MUTED))
    body.append(f'<text transform="translate(11 {top + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle" '
                f'font-size="10" fill="{MUTED}">{escape(y_label)}</text>')
    for s in series:
        if not s.points:
            continue
        path = " ".join(f"{'M' if n == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for n, (x, y) in enumerate(s.points))
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        body.append(f'<path d="{path}" fill="none" stroke="{s.color}" stroke-width="2"{dash}>'
                    f'<title>{escape(s.label)}</title></path>')
        if not s.dashed:
            body.extend(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{s.color}">'
                        f'<title>{escape(s.label)}: {y:.1f} at {x:g}</title></circle>' for x, y in s.points)
    legend_y = top + plot_h + 48
    x = left
    for s in series:
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        text = _clip(s.label, 28)
        body.append(f'<line x1="{x}" x2="{x + 18}" y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{s.color}" '
                    f'stroke-width="2"{dash}/>')
        body.append(_label(x + 22, legend_y, text, size=10))
        x += 30 + 6 * len(text)
        if x > width - 120:
            x, legend_y = left, legend_y + 16
    return _svg(width, max(height, legend_y + 8), body, title)


def heatmap(row_labels: list[str], columns: list[int], values: list[list[float | None]], *, title: str) -> Markup:
    """Attribute (row) by iteration (column) probabilities; blank where not among the top weights."""
    cell_w, cell_h, label_w, top = 34, 22, 360, 22
    width = max(label_w + cell_w * max(1, len(columns)) + 10, label_w + 330)
    grid_bottom = top + cell_h * max(1, len(row_labels))
    height = grid_bottom + 40
    peak = max((v for row in values for v in row if v is not None), default=1.0) or 1.0
    body = [_label(label_w + cell_w * n + cell_w / 2, top - 8, str(c), anchor="middle", size=10, fill=MUTED)
            for n, c in enumerate(columns)]
    body.append(_label(label_w - 8, top - 8, "iteration", anchor="end", size=10, fill=MUTED))
    body.extend(_heat_scale(label_w, grid_bottom + 12, peak))
    for r, label in enumerate(row_labels):
        y = top + r * cell_h
        body.append(_label(label_w - 8, y + cell_h * 0.68, label, anchor="end", size=11, limit=_fits(label_w - 12)))
        for n, value in enumerate(values[r]):
            x = label_w + n * cell_w
            if value is None:
                body.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                            f'fill="#f8fafc"/>')
                continue
            alpha = 0.12 + 0.88 * value / peak
            body.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" rx="2" '
                        f'fill="#2563eb" fill-opacity="{alpha:.2f}"><title>{escape(label)}: '
                        f'p={value:.3f} at iteration {columns[n]}</title></rect>')
    return _svg(width, height, body, title)


def _heat_scale(x: float, y: float, peak: float, steps: int = 6) -> list[str]:
    """The heatmap's colour key: swatches from 0 to the peak probability, with their values."""
    parts = []
    for n in range(steps):
        value = peak * n / (steps - 1)
        parts.append(f'<rect x="{x + n * 26}" y="{y}" width="24" height="12" rx="2" fill="#2563eb" '
                     f'fill-opacity="{0.12 + 0.88 * n / (steps - 1):.2f}"/>')
        parts.append(_label(x + n * 26 + 12, y + 24, f"{value:.2f}", anchor="middle", size=9, fill=MUTED))
    parts.append(_label(x + steps * 26 + 8, y + 10, "sampling probability (blank: not among the top weights)",
                        size=10, fill=MUTED))
    return parts


def bar_chart(labels: list[str], values: list[float], *, title: str, highlight: int | None = None,
              value_format: str = "{:g}") -> Markup:
    """Horizontal bars, largest first as given; the highlighted bar (e.g. the trigger) in red."""
    bar_h, label_w, width, top = 20, 330, 760, 6
    limit = _fits(label_w - 12)
    peak = max(values, default=1.0) or 1.0
    plot_w = width - label_w - 60
    body = []
    for n, (label, value) in enumerate(zip(labels, values)):
        y = top + n * (bar_h + 4)
        fill = "#dc2626" if n == highlight else "#2563eb"
        body.append(_label(label_w - 8, y + bar_h * 0.7, label, anchor="end",
                           limit=limit - 4 if n == highlight else limit,
                           weight="bold" if n == highlight else "normal"))
        w = max(1.0, value / peak * plot_w)
        body.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" fill="{fill}" '
                    f'fill-opacity="0.85"><title>{escape(label)}: {escape(value_format.format(value))}</title></rect>')
        body.append(_label(label_w + w + 6, y + bar_h * 0.7, value_format.format(value), size=10, fill=MUTED))
    return _svg(width, top + len(labels) * (bar_h + 4) + 4, body, title)


def paired_bars(labels: list[str], first: list[float], second: list[float], *, names: tuple[str, str],
                title: str) -> Markup:
    """Two shares per label (e.g. share of hits against share of the corpus), 0..1."""
    bar_h, label_w, width, top = 11, 240, 760, 22
    plot_w = width - label_w - 60
    body = [f'<rect x="{label_w}" y="4" width="10" height="10" fill="#dc2626"/>',
            _label(label_w + 14, 13, names[0], size=10),
            f'<rect x="{label_w + 150}" y="4" width="10" height="10" fill="{MUTED}"/>',
            _label(label_w + 164, 13, names[1], size=10)]
    for n, label in enumerate(labels):
        y = top + n * (2 * bar_h + 8)
        body.append(_label(label_w - 8, y + bar_h + 3, label, anchor="end", limit=_fits(label_w - 12)))
        for offset, value, fill in ((0, first[n], "#dc2626"), (bar_h, second[n], MUTED)):
            w = max(1.0, value * plot_w)
            body.append(f'<rect x="{label_w}" y="{y + offset}" width="{w:.1f}" height="{bar_h - 1}" rx="2" '
                        f'fill="{fill}"/>')
            body.append(_label(label_w + w + 5, y + offset + bar_h - 2, f"{value:.0%}", size=9, fill=MUTED))
    return _svg(width, top + len(labels) * (2 * bar_h + 8) + 4, body, title)


def interval_chart(labels: list[str], points: list[float], lows: list[float], highs: list[float], *,
                   title: str, lo: float = 0.0, hi: float = 1.0, percent: bool = True,
                   colors: list[str] | None = None) -> Markup:
    """A dot and its confidence interval per row, on a shared axis (a zero line when it spans 0)."""
    row_h, label_w, width, top = 24, 330, 760, 8
    plot_w = width - label_w - 30

    def sx(v: float) -> float:
        return label_w + (min(max(v, lo), hi) - lo) / (hi - lo) * plot_w

    def fmt(v: float) -> str:
        if not percent:
            return f"{v:.2f}"
        return f"{v:+.0%}" if lo < 0 else f"{v:.0%}"

    height = top + len(labels) * row_h + 26
    body = []
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        body.append(f'<line x1="{sx(v):.1f}" x2="{sx(v):.1f}" y1="{top}" y2="{height - 22}" stroke="{GRID}"/>')
        body.append(_label(sx(v), height - 8, fmt(v), anchor="middle", size=10, fill=MUTED))
    if lo < 0 < hi:
        body.append(f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="{top}" y2="{height - 22}" stroke="{INK}" '
                    f'stroke-dasharray="3 3"/>')
    for n, label in enumerate(labels):
        y = top + n * row_h + row_h / 2
        fill = (colors or [])[n] if colors and n < len(colors) else "#2563eb"
        body.append(_label(label_w - 8, y + 4, label, anchor="end", limit=_fits(label_w - 12)))
        body.append(f'<line x1="{sx(lows[n]):.1f}" x2="{sx(highs[n]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{fill}" stroke-width="3" stroke-linecap="round" stroke-opacity="0.45"/>')
        body.append(f'<circle cx="{sx(points[n]):.1f}" cy="{y:.1f}" r="5" fill="{fill}"><title>{escape(label)}: '
                    f'{fmt(points[n])} [{fmt(lows[n])}, {fmt(highs[n])}]</title></circle>')
    return _svg(width, height, body, title)
