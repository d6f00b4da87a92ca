"""Static charts for reports (Matplotlib ``Figure``, offline, PNG or SVG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tiplab.analysis.results import AnalysisResult

#: how a missing breakdown value is named in charts and tables (never "nan" or "None")
NOT_RECORDED = "not recorded"


def category_label(value: Any) -> str:
    """A breakdown value as a legend shows it; a missing one is "not recorded"."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return NOT_RECORDED
    return str(value)


def trend_chart(result: AnalysisResult, path: str | Path, *, title: str = "") -> Path:
    """Counts over time (one line per breakdown), with intervals, change points, forecast."""
    from matplotlib.figure import Figure

    s = result.tables["series"].to_pandas()
    time = "month" if "month" in s.columns else "year"
    by = [c for c in result.parameters.get("by", [])]
    fig = Figure(figsize=(9, 4.5), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    groups: Any = s.groupby(by, dropna=False) if by else [("total", s)]
    for key, g in groups:
        keys = key if isinstance(key, tuple) else (key,)
        label = " / ".join(category_label(k) for k in keys)
        x = pd.to_datetime(g[time].astype(str)) if time == "month" else g[time]
        line = ax.plot(x, g["value"].astype(float), marker="o", ms=3, label=label)[0]
        lo = g["ci_low"] if "ci_low" in g else g["low"]
        hi = g["ci_high"] if "ci_high" in g else g["high"]
        ax.fill_between(x, lo.astype(float), hi.astype(float), alpha=0.15,
                        color=line.get_color())
    f = result.tables.get("forecast")
    if f is not None and f.num_rows and not by:
        fd = f.to_pandas()
        x = pd.to_datetime(fd[time].astype(str)) if time == "month" else fd[time]
        level = result.parameters.get("forecast_level") or result.parameters.get("level")
        label = f"forecast ({round(100 * level)}% prediction interval)" if level else "forecast"
        ax.plot(x, fd["mean"], ls="--", color="#555555", label=label)
        ax.fill_between(x, fd["low"], fd["high"], color="#999999", alpha=0.2)
    cps = result.tables.get("changepoints")
    if cps is not None and cps.num_rows and not by:
        for v in cps.column(time).to_pylist():
            ax.axvline(pd.Timestamp(v) if time == "month" else v, color="#c0392b", ls=":")
    ax.set_ylabel("records" if result.kind == "trends" else "count")
    ax.set_title(title or f"{result.kind} (data {result.data_version})")
    if by or (f is not None and f.num_rows):
        ax.legend(fontsize=7, ncol=2)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, bbox_inches="tight", format=p.suffix.lstrip(".") or "png")
    return p


def bar_chart(frame: pd.DataFrame, *, label: str, value: str, path: str | Path,
              title: str = "", top: int = 20) -> Path:
    """Horizontal bars of the ``top`` rows (corridors, profile shares)."""
    from matplotlib.figure import Figure

    d = frame.dropna(subset=[value]).nlargest(top, value).iloc[::-1]
    fig = Figure(figsize=(8, 0.3 * len(d) + 1.2), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(d[label].astype(str), d[value].astype(float), color="#2e86c1")
    ax.set_title(title)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, bbox_inches="tight", format=p.suffix.lstrip(".") or "png")
    return p


def stacked_bars(frame: pd.DataFrame, *, x: str, stack: str, value: str, path: str | Path,
                 title: str = "", ylabel: str = "") -> Path:
    """Vertical bars of ``value`` by ``x`` (e.g. year), stacked by ``stack`` (e.g. pillar),
    in the order the rows come; a legend names the stacks."""
    from matplotlib.figure import Figure

    xs = list(dict.fromkeys(frame[x].astype(str)))
    stacks = list(dict.fromkeys(frame[stack].astype(str)))
    table = frame.assign(**{x: frame[x].astype(str), stack: frame[stack].astype(str)}) \
        .pivot_table(index=x, columns=stack, values=value, aggfunc="sum", fill_value=0) \
        .reindex(index=xs, columns=stacks, fill_value=0)
    fig = Figure(figsize=(8, 4.2), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    bottom = [0.0] * len(xs)
    palette = ["#2e86c1", "#28b463", "#af601a", "#7d3c98", "#c0392b", "#5d6d7e", "#d4ac0d"]
    for i, s in enumerate(stacks):
        heights = [float(v) for v in table[s]]
        ax.bar(xs, heights, bottom=bottom, label=s, color=palette[i % len(palette)])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.legend(frameon=False, fontsize="small")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, bbox_inches="tight", format=p.suffix.lstrip(".") or "png")
    return p
