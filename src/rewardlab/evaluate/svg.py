"""Small inline-SVG charts for self-contained HTML reports (no JavaScript, no network)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#3366cc", "#dc7633", "#28a745", "#8e44ad", "#c0392b", "#17a2b8", "#7f8c8d")

_W, _H = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 34, 86


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def _frame(kind: str, title: str, body: list[str], width: int = _W, height: int = _H) -> str:
    return (f'<svg class="chart" data-chart="{escape(kind)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="{width / 2}" y="18" text-anchor="middle" class="ctitle">'
            f'{escape(title)}</text>'
            + "".join(body) + "</svg>")


def _y_axis(lo: float, hi: float, height: int, ticks: int = 5) -> tuple[list[str], callable]:
    plot_h = height - _TOP - _BOTTOM

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - (v - lo) / (hi - lo if hi > lo else 1))

    parts = []
    for k in range(ticks + 1):
        v = lo + (hi - lo) * k / ticks
        yy = y(v)
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" '
                     f'class="grid"/><text x="{_LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" '
                     f'class="tick">{_fmt(v)}</text>')
    return parts, y


def _legend(names: Sequence[str], y: float) -> list[str]:
    parts, x = [], _LEFT
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="{y}" class="tick">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


def bar_chart(kind: str, title: str, categories: Sequence[str],
              series: Sequence[tuple[str, Sequence[float | None],
                                     Sequence[float | None] | None,
                                     Sequence[float | None] | None]],
              y_range: tuple[float, float] | None = None,
              lines: Sequence[tuple[str, float]] = ()) -> str:
    """Grouped vertical bars, optionally with interval whiskers and labelled reference lines.

    Args:
        kind: ``data-chart`` tag (tests and styling find charts by it).
        title: Chart title.
        categories: One group of bars per category.
        series: ``(name, values, lows, highs)``; ``lows``/``highs`` may be ``None``.
        y_range: Fixed axis range; default from 0 to the largest value/interval.
        lines: ``(label, value)`` horizontal reference lines (chance, length-only...), dashed
            and labelled at the right end.
    """
    values = [v for _, vals, lo, hi in series for v in (*vals, *(hi or ())) if v is not None]
    lows = [v for _, vals, lo, _ in series for v in (*vals, *(lo or ())) if v is not None]
    lo_v, hi_v = y_range or (min(0.0, min(lows, default=0.0)), max(values, default=1.0) or 1.0)
    grid, y = _y_axis(lo_v, hi_v, _H)
    body = list(grid)
    n_cat = max(1, len(categories))
    group_w = (_W - _LEFT - _RIGHT) / n_cat
    bar_w = max(2.0, group_w * 0.8 / max(1, len(series)))
    for c, cat in enumerate(categories):
        gx = _LEFT + c * group_w + group_w * 0.1
        for s, (name, vals, lo, hi) in enumerate(series):
            v = vals[c]
            if v is None:
                continue
            color = PALETTE[s % len(PALETTE)]
            x = gx + s * bar_w
            y0, y1 = y(max(lo_v, 0.0)), y(v)
            body.append(f'<rect class="bar" x="{x:.1f}" y="{min(y0, y1):.1f}" '
                        f'width="{bar_w * 0.92:.1f}" height="{abs(y0 - y1):.1f}" fill="{color}">'
                        f'<title>{escape(name)} / {escape(cat)}: {_fmt(v)}</title></rect>')
            if lo is not None and hi is not None and lo[c] is not None and hi[c] is not None:
                cx = x + bar_w * 0.46
                body.append(f'<path class="whisker" d="M{cx:.1f},{y(lo[c]):.1f}V{y(hi[c]):.1f}'
                            f'M{cx - 3:.1f},{y(lo[c]):.1f}h6M{cx - 3:.1f},{y(hi[c]):.1f}h6"/>')
        label = cat if len(cat) <= 18 else cat[:17] + "…"
        lx = gx + group_w * 0.4
        body.append(f'<text class="tick" transform="translate({lx:.1f},{_H - _BOTTOM + 12}) '
                    f'rotate(35)">{escape(label)}<title>{escape(cat)}</title></text>')
    for k, (label, value) in enumerate(lines):
        if value is None or not lo_v <= value <= hi_v:
            continue
        yy, color = y(value), _LINE_COLORS[k % 2]
        body.append(f'<line class="refline" data-line="{escape(label)}" x1="{_LEFT}" '
                    f'x2="{_W - _RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{color}" '
                    f'stroke-dasharray="6 4" stroke-width="1.5"/>'
                    # labels alternate ends so two close lines keep readable labels
                    f'<text class="tick reflabel" x="{_W - _RIGHT - 4 if k % 2 else _LEFT + 4}" '
                    f'y="{yy - 4:.1f}" text-anchor="{"end" if k % 2 else "start"}" '
                    f'fill="{color}">{escape(label)} {_fmt(value)}</text>')
    body += _legend([name for name, *_ in series], _H - 8)
    return _frame(kind, title, body)


_LINE_COLORS = ("#b03a2e", "#6c3483")


def hbar_chart(kind: str, title: str, categories: Sequence[str],
               series: Sequence[tuple[str, Sequence[float | None]]],
               x_range: tuple[float, float] | None = None) -> str:
    """Horizontal grouped bars with each category's full label on the left (long probe names
    stay readable: the label column is as wide as the longest label).

    Args:
        kind: ``data-chart`` tag.
        title: Chart title.
        categories: One row of bars per category.
        series: ``(name, values)``; ``None`` values are left empty.
        x_range: Fixed axis range; default 0 to the largest value.
    """
    label_w = int(min(420, 12 + 6.4 * max((len(c) for c in categories), default=4)))
    row_h = 8 + 14 * max(1, len(series))
    top, bottom, right = 34, 40, 40
    height = top + bottom + row_h * max(1, len(categories))
    width = _W
    values = [v for _, vals in series for v in vals if v is not None]
    lo, hi = x_range or (0.0, max(values, default=1.0) or 1.0)
    plot_w = width - label_w - right

    def x(v: float) -> float:
        return label_w + plot_w * (v - lo) / (hi - lo if hi > lo else 1)

    body = []
    for k in range(6):
        v = lo + (hi - lo) * k / 5
        body.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top}" '
                    f'y2="{height - bottom}" class="grid"/><text x="{x(v):.1f}" '
                    f'y="{height - bottom + 14}" text-anchor="middle" class="tick">{_fmt(v)}'
                    f'</text>')
    for c, cat in enumerate(categories):
        y0 = top + c * row_h
        body.append(f'<text class="tick rowlabel" x="{label_w - 6}" y="{y0 + row_h / 2 + 4:.1f}" '
                    f'text-anchor="end">{escape(cat)}</text>')
        for s, (name, vals) in enumerate(series):
            v = vals[c]
            if v is None:
                continue
            color = PALETTE[s % len(PALETTE)]
            body.append(f'<rect class="bar" x="{x(max(lo, 0.0)):.1f}" y="{y0 + 4 + 14 * s:.1f}" '
                        f'width="{max(1.0, x(v) - x(max(lo, 0.0))):.1f}" height="12" '
                        f'fill="{color}"><title>{escape(name)} / {escape(cat)}: {_fmt(v)}'
                        f'</title></rect><text class="tick" x="{x(v) + 4:.1f}" '
                        f'y="{y0 + 14 + 14 * s:.1f}">{_fmt(v)}</text>')
    legend, lx = [], label_w
    for i, name in enumerate(n for n, _ in series):
        legend.append(f'<rect x="{lx}" y="{height - 17}" width="10" height="10" '
                      f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{lx + 14}" '
                      f'y="{height - 8}" class="tick">{escape(name)}</text>')
        lx += 24 + 7 * len(name)
    return _frame(kind, title, body + legend, width=width, height=height)


def reliability_diagram(title: str, curves: Sequence[tuple[str, Sequence[dict]]]) -> str:
    """Observed frequency vs. predicted probability per bin, with the diagonal of perfect
    calibration; dot size grows with the bin's count."""
    size = 300
    left, top, plot = 46, 30, 220
    body = [f'<rect x="{left}" y="{top}" width="{plot}" height="{plot}" class="plotbg"/>',
            f'<line x1="{left}" y1="{top + plot}" x2="{left + plot}" y2="{top}" class="diag"/>']
    for k in range(6):
        v = k / 5
        body.append(f'<text x="{left + v * plot:.1f}" y="{top + plot + 14}" text-anchor="middle" '
                    f'class="tick">{v:.1f}</text><text x="{left - 5}" '
                    f'y="{top + plot - v * plot + 4:.1f}" text-anchor="end" class="tick">{v:.1f}'
                    f'</text>')
    body.append(f'<text x="{left + plot / 2}" y="{top + plot + 30}" text-anchor="middle" '
                f'class="tick">predicted probability</text>')
    for i, (name, bins) in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        pts = [(b["confidence"], b["accuracy"], b["count"]) for b in bins if b["count"]]
        total = sum(c for *_, c in pts) or 1
        path = " ".join(f"{'M' if j == 0 else 'L'}{left + p * plot:.1f},{top + plot - a * plot:.1f}"
                        for j, (p, a, _) in enumerate(pts))
        body.append(f'<path class="curve" d="{path}" stroke="{color}" fill="none"/>')
        for p, a, c in pts:
            r = 2.5 + 6 * (c / total) ** 0.5
            body.append(f'<circle cx="{left + p * plot:.1f}" cy="{top + plot - a * plot:.1f}" '
                        f'r="{r:.1f}" fill="{color}"><title>{escape(name)}: p={p:.2f}, '
                        f'observed={a:.2f}, n={c}</title></circle>')
        body.append(f'<rect x="{left + plot + 14}" y="{top + 10 + 16 * i}" width="10" height="10" '
                    f'fill="{color}"/><text x="{left + plot + 28}" y="{top + 19 + 16 * i}" '
                    f'class="tick">{escape(name)}</text>')
    return _frame("reliability", title, body, width=size + 160, height=size)


def histogram(title: str, edges: Sequence[float],
              series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """Overlaid step histograms sharing bin edges."""
    top_count = max((max(c) for _, c in series if c), default=1) or 1
    grid, y = _y_axis(0, top_count, _H)
    body = list(grid)
    lo, hi = edges[0], edges[-1]
    width = _W - _LEFT - _RIGHT

    def x(v: float) -> float:
        return _LEFT + width * (v - lo) / (hi - lo if hi > lo else 1)

    for i, (name, counts) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        for k, c in enumerate(counts):
            if c:
                body.append(f'<rect class="bar" x="{x(edges[k]):.1f}" y="{y(c):.1f}" '
                            f'width="{max(1.0, x(edges[k + 1]) - x(edges[k]) - 1):.1f}" '
                            f'height="{y(0) - y(c):.1f}" fill="{color}" fill-opacity="0.55">'
                            f'<title>{escape(name)}: {c} in [{_fmt(edges[k])}, '
                            f'{_fmt(edges[k + 1])})</title></rect>')
    for k in range(0, len(edges), max(1, len(edges) // 6)):
        body.append(f'<text x="{x(edges[k]):.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle" '
                    f'class="tick">{_fmt(edges[k])}</text>')
    body.append(f'<text x="{_LEFT + width / 2}" y="{_H - _BOTTOM + 32}" text-anchor="middle" '
                f'class="tick">score</text>')
    body += _legend([n for n, _ in series], _H - 8)
    return _frame("distribution", title, body)
