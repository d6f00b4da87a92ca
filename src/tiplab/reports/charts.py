"""Charts for reports and the web: Vega-Lite specs built with Altair, with their data inline.

One definition per chart serves every output. ``*_spec`` functions return the chart as a
Vega-Lite spec (a plain JSON-ready ``dict``, data inline, never a URL); the web embeds that
spec for an interactive chart (tooltips, legend selection) and :func:`render_spec` draws the
*same* spec offline through vl-convert as SVG or PNG (static exports, reports, the CLI). So
a figure downloaded from a page is the figure the page showed.

Every spec records where its numbers come from in ``usermeta.tiplab`` (the result's kind,
data version and parameters), so a chart copied out of a page can be traced and re-run.

:func:`stacked_bars` (the budget chart of plans) is still drawn with Matplotlib.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tiplab.analysis.results import AnalysisResult
from tiplab.errors import TiplabError

#: how a missing breakdown value is named in charts and tables (never "nan" or "None")
NOT_RECORDED = "not recorded"
#: the Vega-Lite major.minor the specs are written for: Altair 6 writes ``$schema`` v6.4.x,
#: vl-convert 1.9 draws with 6.4, and the web vendors vega-lite 6.4.x (static/vendor/vega)
VEGA_LITE_VERSION = "6.4"
#: size of a chart drawn offline (pixels); on a page the chart takes the container's width
WIDTH, HEIGHT = 720, 320
FORMATS = ("svg", "png")

_BLUE, _GREY, _RED = "#2e86c1", "#707b7c", "#c0392b"


class ChartError(TiplabError):
    """A chart cannot be made or drawn as asked; the message says which and how to fix it."""


def category_label(value: Any) -> str:
    """A breakdown value as a legend shows it; a missing one is "not recorded"."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return NOT_RECORDED
    return str(value)


# --- specs ---------------------------------------------------------------------------------

def vegalite_spec(chart: Any, *, provenance: Mapping[str, Any] | None = None,
                  description: str = "") -> dict[str, Any]:
    """An Altair chart as a Vega-Lite spec: plain JSON data, its data inline.

    ``provenance`` (e.g. kind, data version, parameters) goes to ``usermeta.tiplab``;
    ``description`` is the chart's text alternative (Vega writes it as the SVG's
    ``aria-label``). Raises :class:`ChartError` when the spec would read data from a URL:
    a page must not fetch from elsewhere and a static export must not depend on a server.
    """
    spec: dict[str, Any] = json.loads(json.dumps(chart.to_dict(), default=_jsonable,
                                                 allow_nan=False))
    urls = list(_data_urls(spec))
    if urls:
        raise ChartError(f"the chart reads data from {', '.join(urls)}; build it from a "
                         "data frame or values so that its data is inline")
    if provenance:
        spec.setdefault("usermeta", {})["tiplab"] = json.loads(
            json.dumps(dict(provenance), default=str, allow_nan=False))
    if description:
        spec["description"] = description
    return spec


def render_spec(spec: Mapping[str, Any], fmt: str, *, scale: float = 2.0) -> bytes:
    """Draw a Vega-Lite spec offline (vl-convert; no browser, no network) as SVG or PNG.

    PNGs are drawn at ``scale`` times the spec's pixel size (2: sharp in print). No URL is
    ever read (``allowed_base_urls=[]``).
    """
    import vl_convert as vlc

    if fmt not in FORMATS:
        raise ChartError(f"chart format {fmt!r}: use one of {', '.join(FORMATS)}")
    text = json.dumps(spec, allow_nan=False)
    try:
        if fmt == "svg":
            svg: str = vlc.vegalite_to_svg(text, vl_version=VEGA_LITE_VERSION,
                                           allowed_base_urls=[])
            return svg.encode("utf-8")
        png: bytes = vlc.vegalite_to_png(text, vl_version=VEGA_LITE_VERSION, scale=scale,
                                         allowed_base_urls=[])
        return png
    except ValueError as exc:
        first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise ChartError(f"Vega-Lite cannot draw the chart: {first}; check the spec with "
                         "altair.Chart.from_dict(spec)") from exc


def save_spec(spec: Mapping[str, Any], path: str | Path) -> Path:
    """Write a spec drawn as ``path``'s suffix says: ``.svg``, ``.png`` or ``.json`` (the
    spec itself, for a notebook or the Vega editor)."""
    p = Path(path)
    fmt = p.suffix.lstrip(".").lower() or "png"
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("json", "vl"):
        p.write_text(json.dumps(spec, indent=1, allow_nan=False), encoding="utf-8")
    else:
        p.write_bytes(render_spec(spec, fmt))
    return p


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _data_urls(spec: Any, where: str = "") -> Iterable[str]:
    if isinstance(spec, Mapping):
        for k, v in spec.items():
            if k == "url" and isinstance(v, str) and where.endswith("data"):
                yield v
            else:
                yield from _data_urls(v, f"{where}/{k}")
    elif isinstance(spec, list):
        for i, v in enumerate(spec):
            yield from _data_urls(v, f"{where}/{i}")


def _finite(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fmt(x: float | None, digits: int = 0) -> str:
    return "" if x is None else f"{x:,.{digits}f}"


def _pct_change(ratio: float | None) -> str:
    return "" if ratio is None else f"{(ratio - 1) * 100:+.1f}%"


def _provenance(result: AnalysisResult) -> dict[str, Any]:
    return {"kind": result.kind, "data_version": result.data_version,
            "parameters": result.parameters, "unit": result.unit}


# --- trends --------------------------------------------------------------------------------

def _trend_frames(result: AnalysisResult) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                                    str]:
    """(observed, forecast, change points) in chart form, and the time column."""
    s = result.tables["series"].to_pandas()
    time = "month" if "month" in s.columns else "year"
    by = [str(b) for b in result.parameters.get("by", [])]
    # case counts carry a 95% interval; published aggregates carry their censoring range
    lo, hi = ("ci_low", "ci_high") if "ci_low" in s.columns else ("low", "high")
    exact_interval = lo == "ci_low"

    def period(v: Any) -> Any:
        return str(v)[:10] if time == "month" else int(v)

    def group(r: Mapping[str, Any]) -> str:
        return " / ".join(category_label(r.get(b)) for b in by) if by else "total"

    rows = []
    for r in s.to_dict("records"):
        v, a, b = _finite(r.get("value")), _finite(r.get(lo)), _finite(r.get(hi))
        suppressed = bool(r.get("suppressed"))
        if v is not None:
            interval = f"{_fmt(a, 1)}–{_fmt(b, 1)}" if exact_interval else ""
            shown = _fmt(v)
        elif a is not None and b is not None and not suppressed:
            interval, shown = "censored", f"{_fmt(a)}–{_fmt(b)}"  # e.g. GLOTIP's "<5"
        else:
            interval, shown = "", "suppressed" if suppressed else ""
        change = _finite(r.get("change"))
        rows.append({"period": period(r[time]), "group": group(r), "value": v, "low": a,
                     "high": b, "shown": shown, "interval": interval,
                     "change": _pct_change(change)})
    observed = pd.DataFrame(rows, columns=["period", "group", "value", "low", "high", "shown",
                                           "interval", "change"])
    f = result.tables.get("forecast")
    fc = pd.DataFrame(columns=["period", "mean", "low", "high", "shown", "interval"])
    if f is not None and f.num_rows and not by and "mean" in f.column_names:
        fc = pd.DataFrame([{"period": period(r[time]), "mean": _finite(r["mean"]),
                            "low": _finite(r["low"]), "high": _finite(r["high"]),
                            "shown": _fmt(_finite(r["mean"])),
                            "interval": f"{_fmt(_finite(r['low']))}–"
                                        f"{_fmt(_finite(r['high']))}"}
                           for r in f.to_pylist()])
    c = result.tables.get("changepoints")
    cps = pd.DataFrame(columns=["period", "group", "p_value"])
    if c is not None and c.num_rows:
        cps = pd.DataFrame([{"period": period(r[time]), "group": group(r),
                             "p_value": _finite(r.get("p_value"))} for r in c.to_pylist()])
    return observed, fc, cps, time


def trend_spec(result: AnalysisResult, *, title: str = "") -> dict[str, Any]:
    """Counts over time as a Vega-Lite spec: one line per breakdown group with its interval
    band, the forecast (dashed, with its prediction interval) and the change points (dotted
    rules). Hovering a point shows its value, interval and change on the previous period;
    with a breakdown, clicking a legend entry highlights that group (shift-click adds one).

    Suppressed cells are gaps in the line, never zeros. For published aggregates (GLOTIP)
    the band is the censoring range of cells published as "<5".
    """
    import altair as alt

    observed, fc, cps, time = _trend_frames(result)
    by = list(result.parameters.get("by", []))
    counted = "persons" if result.unit.get("unit") == "persons" else (
        "records" if result.kind == "trends" else "count")
    level = result.parameters.get("forecast_level") or result.parameters.get("level") or 0.95
    # months are dates at UTC midnight: read and shown in UTC, so that no time zone moves
    # January 2016 to December 2015
    if time == "month":
        x = alt.X("period:T", timeUnit="utcyearmonth", title="month",
                  axis=alt.Axis(format="%Y", tickCount="year"))
    else:
        x = alt.X("period:Q", title="year", scale=alt.Scale(zero=False, nice=False),
                  axis=alt.Axis(format="d", tickMinStep=1))

    def x_tooltip(title: str) -> Any:
        if time == "month":
            return alt.Tooltip("period:T", timeUnit="utcyearmonth", format="%b %Y",
                               title=title)
        return alt.Tooltip("period:Q", format="d", title=title)

    x_tip = x_tooltip(time)
    y_title = counted
    tips = [x_tip] + ([alt.Tooltip("group:N", title="group")] if by else []) + [
        alt.Tooltip("shown:N", title=counted),
        alt.Tooltip("interval:N", title="95% interval" if "ci" in _interval_kind(result)
                    else "range"),
        alt.Tooltip("change:N", title="change on previous " + time)]
    groups = list(dict.fromkeys(observed["group"]))
    colour = (alt.Color("group:N", title=" / ".join(by), sort=groups,
                        legend=alt.Legend(orient="bottom", direction="horizontal",
                                          columns=4, symbolType="stroke",
                                          symbolOpacity=1, symbolStrokeWidth=3))
              if by else alt.value(_BLUE))
    pick = alt.selection_point(name="pick", fields=["group"], bind="legend")
    base = alt.Chart(observed).encode(x=x)
    band = base.mark_area(opacity=0.18, interpolate="linear").encode(
        y=alt.Y("low:Q", title=y_title, axis=alt.Axis(format=",d")), y2="high:Q",
        color=colour, detail="group:N",
        opacity=alt.condition(pick, alt.value(0.18), alt.value(0.04)) if by
        else alt.value(0.18))
    line = base.mark_line(strokeWidth=2).encode(
        y="value:Q", color=colour, detail="group:N",
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)) if by
        else alt.value(1.0))
    points = base.mark_point(filled=True, size=45).encode(
        y="value:Q", color=colour, detail="group:N", tooltip=tips,
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)) if by
        else alt.value(1.0))
    if by:
        band = band.add_params(pick)
    layers: list[Any] = [band, line, points]
    subtitle = []
    if len(fc):
        fbase = alt.Chart(fc).encode(x=x)
        ftips = [x_tip, alt.Tooltip("shown:N", title=f"forecast ({counted})"),
                 alt.Tooltip("interval:N",
                             title=f"{round(100 * float(level))}% prediction interval")]
        layers += [fbase.mark_area(color=_GREY, opacity=0.18).encode(y="low:Q", y2="high:Q"),
                   fbase.mark_line(color=_GREY, strokeDash=[6, 4]).encode(y="mean:Q"),
                   fbase.mark_point(color=_GREY, filled=True, size=35).encode(
                       y="mean:Q", tooltip=ftips)]
        subtitle.append(f"dashed grey: forecast with its {round(100 * float(level))}% "
                        "prediction interval")
    if len(cps) and not by:
        layers.append(alt.Chart(cps).mark_rule(color=_RED, strokeDash=[2, 3], strokeWidth=1.5)
                      .encode(x=x, tooltip=[x_tooltip("change point"),
                                            alt.Tooltip("p_value:Q", format=".3f",
                                                        title="p-value")]))
        subtitle.append("dotted red: change points")
    if by:
        subtitle.append("click a legend entry to highlight a group")
    chart = alt.layer(*layers).properties(
        width=WIDTH, height=HEIGHT,
        title=alt.TitleParams(text=title or f"{result.kind} (data {result.data_version})",
                              subtitle=subtitle, anchor="start"))
    return vegalite_spec(chart, provenance=_provenance(result))


def _interval_kind(result: AnalysisResult) -> str:
    return "ci" if "ci_low" in result.tables["series"].column_names else "range"


def trend_chart(result: AnalysisResult, path: str | Path, *, title: str = "") -> Path:
    """Counts over time (one line per breakdown), with intervals, change points, forecast:
    :func:`trend_spec` drawn as ``path``'s suffix says (PNG, SVG or the JSON spec)."""
    return save_spec(trend_spec(result, title=title), path)


# --- bars ----------------------------------------------------------------------------------

def bar_spec(frame: pd.DataFrame, *, label: str, value: str, title: str = "", top: int = 20,
             value_title: str | None = None, value_format: str = ",.3~f",
             provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Horizontal bars of the ``top`` rows by ``value`` (largest first), with tooltips."""
    import altair as alt

    d = frame.dropna(subset=[value]).nlargest(top, value)
    d = pd.DataFrame({"label": d[label].map(category_label), "value": d[value].astype(float)})
    chart = alt.Chart(d).mark_bar(color=_BLUE).encode(
        y=alt.Y("label:N", sort="-x", title=None),
        x=alt.X("value:Q", title=value_title or value),
        tooltip=[alt.Tooltip("label:N", title=label),
                 alt.Tooltip("value:Q", title=value_title or value, format=value_format)],
    ).properties(width=WIDTH, height=alt.Step(18), title=alt.TitleParams(title,
                                                                          anchor="start"))
    return vegalite_spec(chart, provenance=provenance)


def bar_chart(frame: pd.DataFrame, *, label: str, value: str, path: str | Path,
              title: str = "", top: int = 20) -> Path:
    """Horizontal bars of the ``top`` rows (corridors, profile shares): :func:`bar_spec`
    drawn as ``path``'s suffix says."""
    return save_spec(bar_spec(frame, label=label, value=value, title=title, top=top), path)


def paired_bars_spec(frame: pd.DataFrame, *, label: str, series: Mapping[str, str],
                     title: str = "", value_title: str = "", domain_max: float | None = None,
                     provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Horizontal bars, one group per row of ``frame`` (in its order), one bar per column
    of ``series`` (column -> legend name), e.g. first- and total-order Sobol indices."""
    import altair as alt

    names = list(series.values())
    long = pd.DataFrame([{"label": category_label(r[label]), "series": name,
                          "value": _finite(r[col])}
                         for r in frame.to_dict("records") for col, name in series.items()])
    top = max([v for v in long["value"] if v is not None] + [0.0])
    x_scale = alt.Scale(domain=[0, max(domain_max, top)]) if domain_max is not None else \
        alt.Undefined
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y("label:N", sort=list(dict.fromkeys(long["label"])), title=None),
        yOffset=alt.YOffset("series:N", sort=names),
        x=alt.X("value:Q", title=value_title, scale=x_scale),
        color=alt.Color("series:N", sort=names, title=None,
                        scale=alt.Scale(range=["#aed6f1", _BLUE, "#1b4f72"][:len(names)]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("label:N", title=label), alt.Tooltip("series:N", title=" "),
                 alt.Tooltip("value:Q", format=".2f", title=value_title or "value")],
    ).properties(width=WIDTH, height=alt.Step(14 * len(names) + 6),
                 title=alt.TitleParams(title, anchor="start"))
    return vegalite_spec(chart, provenance=provenance)


# --- maps of regions -------------------------------------------------------------------------

def region_map_spec(features: Mapping[str, Any], *, value: str, value_title: str,
                    title: str = "", key: str = "code", name: str = "name",
                    digits: int = 1, scheme: str = "orangered",
                    details: Mapping[str, str] | None = None,
                    provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Regions coloured by ``value`` (a GeoJSON FeatureCollection in lon/lat whose features
    carry ``key``, ``name`` and ``value`` properties, e.g. from
    :func:`tiplab.reports.maps.leaflet_geojson`), with the region and its value on hover,
    and the properties named in ``details`` (property -> title) as they are.
    Regions without a value are grey and say "no value". Rings are rewound for Vega (d3-geo
    reads a counter-clockwise outer ring as the whole globe minus the region).
    """
    import altair as alt

    details = dict(details or {})

    def props(p: Mapping[str, Any]) -> dict[str, Any]:
        v = _finite(p.get(value))
        return {"key": str(p.get(key, "")), "name": str(p.get(name) or ""), "value": v,
                "shown": "no value" if v is None else _fmt(v, digits),
                **{f"detail_{i}": "" if p.get(d) is None else str(p[d])
                   for i, d in enumerate(details)}}

    fc = {"type": "FeatureCollection",
          "features": [{"type": "Feature", "geometry": _d3_winding(f["geometry"]),
                        "properties": props(f.get("properties") or {})}
                       for f in features.get("features", []) if f.get("geometry")]}
    data = _geo_data(fc)
    tips = [alt.Tooltip("properties.key:N", title="code"),
            alt.Tooltip("properties.name:N", title="region"),
            alt.Tooltip("properties.shown:N", title=value_title)] + [
        alt.Tooltip(f"properties.detail_{i}:N", title=t) for i, t in enumerate(details.values())]
    # every region drawn grey underneath: one without a value stays on the map (Vega-Lite
    # drops a null from a colour scale's layer), saying "no value" on hover
    ground = alt.Chart().mark_geoshape(fill="#e5e7e9", stroke="#5d6d7e",
                                           strokeWidth=0.5).encode(tooltip=tips)
    valued = alt.Chart().transform_filter("isValid(datum.properties.value)").mark_geoshape(
        stroke="#5d6d7e", strokeWidth=0.5).encode(
        color=alt.Color("properties.value:Q", title=value_title, scale={"scheme": scheme},
                        legend=alt.Legend(orient="bottom", gradientLength=240,
                                          format=f",.{digits}f")),
        tooltip=tips)
    chart = alt.layer(ground, valued, data=data).project(type="mercator").properties(
        width=WIDTH, height=round(WIDTH * 0.75), title=alt.TitleParams(title, anchor="start"))
    return vegalite_spec(chart, provenance=provenance)


def flow_map_spec(world: Mapping[str, Any], flows: pd.DataFrame, *, source: str, target: str,
                  value: str, title: str = "", value_title: str = "records",
                  names: Mapping[str, str] | None = None, highlight: Iterable[str] = (),
                  provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Corridors as lines on a world map (Equal Earth), width by volume, with origin,
    destination and volume on hover.

    ``world``: a GeoJSON FeatureCollection of countries with ``iso_a3`` and ``name``
    properties (lon/lat); ``flows``: one row per corridor with ``source``, ``target``,
    ``value`` and ``path`` (lon/lat points, e.g. from :func:`tiplab.reports.maps.flow_lines`;
    Vega draws each segment as a great-circle arc). Countries in ``highlight`` (the
    simulated country) are outlined darker. ``names`` maps codes to the names shown.
    """
    import altair as alt

    names = dict(names or {})
    marked = {str(c) for c in highlight}
    countries = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": _d3_winding(f["geometry"]),
         "properties": {"code": str(p.get("iso_a3") or ""),
                        "name": names.get(str(p.get("iso_a3")), str(p.get("name") or "")),
                        "marked": str(p.get("iso_a3")) in marked}}
        for f in world.get("features", []) if f.get("geometry")
        for p in [f.get("properties") or {}]]}
    lines = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "LineString",
                                         "coordinates": [[round(float(x), 3), round(float(y), 3)]
                                                         for x, y in r["path"]]},
         "properties": {"origin": names.get(str(r[source]), str(r[source])),
                        "destination": names.get(str(r[target]), str(r[target])),
                        "value": _finite(r[value]), "shown": _fmt(_finite(r[value]))}}
        for r in flows.to_dict("records")]}

    land = alt.Chart(_geo_data(countries)).mark_geoshape(strokeWidth=0.4).encode(
        fill=alt.condition("datum.properties.marked", alt.value("#d6eaf8"),
                           alt.value("#f2f3f4")),
        stroke=alt.condition("datum.properties.marked", alt.value("#1b4f72"),
                             alt.value("#aab7b8")),
        tooltip=[alt.Tooltip("properties.name:N", title="country")])
    layers: list[Any] = [land]
    if lines["features"]:
        layers.append(alt.Chart(_geo_data(lines)).mark_geoshape(
            filled=False, color=_RED, opacity=0.75, strokeCap="round").encode(
            strokeWidth=alt.StrokeWidth("properties.value:Q", title=value_title,
                                        scale=alt.Scale(range=[0.75, 5]),
                                        legend=alt.Legend(orient="bottom",
                                                          symbolType="stroke")),
            tooltip=[alt.Tooltip("properties.origin:N", title="origin"),
                     alt.Tooltip("properties.destination:N", title="exploited in"),
                     alt.Tooltip("properties.shown:N", title=value_title)]))
    chart = alt.layer(*layers).project(type="equalEarth").properties(
        width=WIDTH, height=round(WIDTH * 0.5), title=alt.TitleParams(title, anchor="start"))
    return vegalite_spec(chart, provenance=provenance)


def _geo_data(fc: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection as inline Vega-Lite data: one datum per feature."""
    return {"values": fc, "format": {"type": "json", "property": "features"}}


def _d3_winding(geometry: Mapping[str, Any]) -> dict[str, Any]:
    """Outer rings clockwise, holes counter-clockwise (in lon/lat), as d3-geo reads them."""

    def area(ring: list[list[float]]) -> float:
        return sum(x0 * y1 - x1 * y0
                   for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(ring))

    def polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
        out = []
        for i, ring in enumerate(rings):
            clockwise = area(ring) < 0
            out.append(ring if clockwise == (i == 0) else ring[::-1])
        return out

    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Polygon":
        return {"type": kind, "coordinates": polygon(coords)}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [polygon(p) for p in coords]}
    return dict(geometry)


# --- Matplotlib ------------------------------------------------------------------------------

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
