"""Charts of an impact result as inline SVG (drawn here: no script, no style attribute, the
page's CSS colours the classes): the event study (effects by year since the start, with their
intervals, against zero), observed against synthetic or counterfactual series, treated and
control means. Every number is also in a table beside the chart."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

W, H, PAD = 640, 260, 40


def _scale(lo: float, hi: float, a: float, b: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _axes(xs: Sequence[float], ys: Sequence[float]) -> tuple[Any, Any, str]:
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    fx = _scale(x0, x1, PAD, W - 12)
    fy = _scale(y0, y1, H - PAD + 12, 12)
    ticks = []
    for x in sorted(set(xs)):
        ticks.append(f'<text class="chart-tick" x="{fx(x):.1f}" y="{H - 8}" '
                     f'text-anchor="middle">{int(x)}</text>')
    for k in range(5):
        v = y0 + (y1 - y0) * k / 4
        ticks.append(f'<line class="chart-grid" x1="{PAD}" x2="{W - 12}" y1="{fy(v):.1f}" '
                     f'y2="{fy(v):.1f}"/><text class="chart-tick" x="{PAD - 4}" '
                     f'y="{fy(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    return fx, fy, "".join(ticks)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}"


def _poly(points: Sequence[tuple[float, float]], cls: str) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="{cls}" points="{pts}"/>'


def _svg(body: str, label: str, legend: Sequence[tuple[str, str]]) -> str:
    keys = "".join(f'<g transform="translate({PAD + 150 * i},4)"><rect class="{cls}-key" '
                   f'width="12" height="4" y="4"/><text class="chart-tick" x="16" y="10">'
                   f'{html.escape(text)}</text></g>' for i, (cls, text) in enumerate(legend))
    return (f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
            f'aria-label="{html.escape(label)}">{keys}{body}</svg>')


def event_svg(rows: Sequence[dict[str, Any]]) -> str:
    rows = [r for r in rows if r.get("estimate") is not None]
    if not rows:
        return ""
    xs = [float(r["event_time"]) for r in rows]
    ys = [float(v) for r in rows for v in (r.get("conf_low"), r.get("conf_high"),
                                           r["estimate"]) if v is not None
          and math.isfinite(float(v))] + [0.0]
    fx, fy, ticks = _axes(xs, ys)
    parts = [ticks, f'<line class="chart-zero" x1="{PAD}" x2="{W - 12}" y1="{fy(0):.1f}" '
                    f'y2="{fy(0):.1f}"/>',
             f'<line class="chart-start" x1="{fx(-0.5):.1f}" x2="{fx(-0.5):.1f}" y1="12" '
             f'y2="{H - PAD + 12}"/>']
    for r in rows:
        x = fx(float(r["event_time"]))
        lo, hi = r.get("conf_low"), r.get("conf_high")
        if lo is not None and hi is not None:
            parts.append(f'<line class="chart-ci" x1="{x:.1f}" x2="{x:.1f}" '
                         f'y1="{fy(float(lo)):.1f}" y2="{fy(float(hi)):.1f}"/>')
        parts.append(f'<circle class="chart-point" cx="{x:.1f}" '
                     f'cy="{fy(float(r["estimate"])):.1f}" r="3.5"/>')
    return _svg("".join(parts), "effect by year since the start, with intervals",
                [("chart-point", "effect"), ("chart-ci", "interval")])


def lines_svg(rows: Sequence[dict[str, Any]], a: str, b: str, labels: tuple[str, str],
              start: float | None) -> str:
    rows = [r for r in rows if r.get(a) is not None and r.get(b) is not None]
    if not rows:
        return ""
    xs = [float(r["period"]) for r in rows]
    ys = [float(r[k]) for r in rows for k in (a, b)]
    fx, fy, ticks = _axes(xs, ys)
    parts = [ticks]
    if start is not None:
        parts.append(f'<line class="chart-start" x1="{fx(start - 0.5):.1f}" '
                     f'x2="{fx(start - 0.5):.1f}" y1="12" y2="{H - PAD + 12}"/>')
    parts.append(_poly([(fx(float(r["period"])), fy(float(r[a]))) for r in rows], "chart-a"))
    parts.append(_poly([(fx(float(r["period"])), fy(float(r[b]))) for r in rows], "chart-b"))
    return _svg("".join(parts), f"{labels[0]} and {labels[1]} over time",
                [("chart-a", labels[0]), ("chart-b", labels[1])])


def impact_svg(result: dict[str, Any]) -> str:
    """The chart that fits the method of ``result`` (an ``ImpactResult.to_dict()``)."""
    series = result.get("series") or {}
    start = (result.get("parameters") or {}).get("start")
    if series.get("event_study"):
        return event_svg(series["event_study"])
    if series.get("synthetic"):
        return lines_svg(series["synthetic"], "treated", "synthetic",
                         ("treated regions", "synthetic control"), start)
    if series.get("series"):
        return lines_svg(series["series"], "observed", "counterfactual",
                         ("observed", "without the measure (projected)"), start)
    if series.get("means"):
        rows = series["means"]
        key_b = next((k for k in rows[0] if k not in ("period", "treated_mean")), "")
        if key_b:
            return lines_svg(rows, "treated_mean", key_b, ("treated regions, mean",
                                                           "other regions, mean"), start)
    return ""
