"""What each page computes: core calls (cached per data version and parameters) and the
rows its template and CSV export show. Views stay thin: they parse the form, call these and
render."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from tiplab_web.insights import services

NOT_REPORTED = "not reported"


NoData = services.NoData


def _num(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{float(x):,.{digits}f}"


def _pct_change(r: Any) -> str:
    if r is None or not math.isfinite(r):
        return ""
    return f"{(r - 1) * 100:+.1f}%"


def _label(row: dict[str, Any], by: list[str]) -> str:
    return " / ".join(NOT_REPORTED if row.get(b) in (None, "") else str(row[b]) for b in by)


def _engine(p: dict[str, Any]) -> Any:
    """The engine counting the unit the parameters name (records by default)."""
    return services.engine(p.get("unit") or "records")


def _run(kind: str, params: dict[str, Any], protected: bool, compute: Any) -> Any:
    from tiplab.analysis import AnalysisError

    def guarded() -> Any:
        try:
            return compute()
        except (AnalysisError, OSError) as exc:  # cached too: same data, same answer
            return NoData(str(exc))

    timed = services.cached(kind, params, protected, guarded)
    if isinstance(timed.value, NoData):
        raise timed.value
    return timed


def figure(kind: str, params: dict[str, Any], protected: bool, fmt: str, draw: Any) -> bytes:
    """A static chart or map (PNG/SVG bytes), cached like the results."""
    timed = services.cached(f"{kind}_figure", {**params, "fmt": fmt}, protected,
                            lambda: services.render_file(draw, fmt))
    return timed.value


def chart_spec(kind: str, params: dict[str, Any], protected: bool, build: Any
               ) -> dict[str, Any] | None:
    """The Vega-Lite spec of a page's interactive chart (cached like the results), or None
    when it cannot be made: the page then shows the static chart alone (logged)."""
    from tiplab.reports.charts import ChartError

    try:
        return services.cached(f"{kind}_spec", params, protected, build).value  # type: ignore[no-any-return]
    except ChartError as exc:
        import logging

        logging.getLogger("tiplab.web.insights").warning("%s chart: %s", kind, exc)
        return None


def spec_figure(kind: str, params: dict[str, Any], protected: bool, fmt: str,
                spec: dict[str, Any] | None) -> bytes:
    """A chart's spec drawn offline as PNG/SVG (the page's static fallback and exports: the
    same chart as the interactive one), cached like the results."""
    from tiplab.reports.charts import render_spec

    if spec is None:
        raise NoData(f"the {kind} chart cannot be drawn (see the log)")
    return services.cached(f"{kind}_chart", {**params, "fmt": fmt}, protected,  # type: ignore[no-any-return]
                           lambda: render_spec(spec, fmt)).value


#: decimals a figure is published with (the page's own precision); p- and q-values keep four
#: significant digits, any other measure three decimals; whole numbers stay whole
DECIMALS = {
    "ci_low": 1, "ci_high": 1, "low": 1, "high": 1, "mean": 1, "expected": 1,
    "rate": 2, "rate_low": 2, "rate_high": 2,
    "change": 3, "change_low": 3, "change_high": 3, "ratio": 3, "ratio_low": 3,
    "ratio_high": 3, "share": 3, "reported": 3, "share_hot": 3,
    "gi_z": 2, "mk_z": 2, "lisa_i": 3, "statistic": 2, "slope": 3, "dispersion": 3,
    "population": 0, "betweenness": 4, "in_strength": 1, "out_strength": 1,
}
SIGNIFICANT = ("p_value", "gi_p", "gi_p_sim", "gi_q", "mk_p", "lisa_p", "lisa_q", "q_value")


def rounded(column: str, value: Any) -> Any:
    """``value`` of ``column`` as published: the figure's precision, no float noise."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    if column in SIGNIFICANT:
        return float(f"{value:.4g}")
    if value.is_integer() and column not in DECIMALS:
        return int(value)
    digits = DECIMALS.get(column, 3)
    out = round(value, digits)
    return int(out) if digits == 0 else out


def case_unit(result: Any) -> dict[str, Any] | None:
    """The unit of a result from case records (None for a published source's statements)."""
    return None if str(result.data_version).startswith("du-tip-") else result.unit


def unit_words(unit: dict[str, Any] | None) -> str:
    """The unit a figure counts, for an export's ``unit`` column."""
    if not unit or unit.get("unit") != "persons":
        return "records"
    return f"persons (link run {unit.get('link_run')})"


def to_csv(table: Any, data_version: str, extra: dict[str, list[Any]] | None = None, *,
           unit: dict[str, Any] | None = None) -> str:
    """An Arrow table as CSV, with the data version on every row (provenance travels).
    A column of codes (countries, regions, sex, forms of exploitation) keeps its codes and
    gets a ``<column>_label`` column beside it, in the user's language. Figures are rounded
    to the precision the page shows them with (:func:`rounded`)."""
    from tiplab_web.core.labels import COUNTRY_FIELDS, FIELD_CODES, REGION_FIELDS, label

    rows = table.to_pylist()
    coded = [c for c in table.column_names
             if c in FIELD_CODES or c in COUNTRY_FIELDS or c in REGION_FIELDS]
    labels = {f"{c}_label": [label(r[c], c) for r in rows] for c in coded}
    extra = {**labels, **(extra or {})}
    tail = ["data_version"] + (["unit"] if unit is not None else [])
    columns = list(table.column_names) + list(extra) + tail
    stamp = [data_version] + ([unit_words(unit)] if unit is not None else [])
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(columns)
    for i, r in enumerate(rows):
        values = [rounded(c, r[c]) for c in table.column_names]
        values += [(extra or {})[k][i] for k in (extra or {})]
        w.writerow(["" if v is None or (isinstance(v, float) and not math.isfinite(v))
                    else v for v in values] + stamp)
    return out.getvalue()


# --- trends -------------------------------------------------------------------------------

def trend_params(cd: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = {"dataset": cd.get("dataset") or "cases", "start": cd.get("start"),
                         "end": cd.get("end"), "horizon": int(cd.get("horizon") or 0)}
    if p["dataset"] == "glotip":
        p.update(country=cd.get("country") or "GBR",
                 indicator=cd.get("indicator") or "Detected trafficking victims",
                 by=cd.get("agg_by") or "")
    else:
        p["by"] = cd.get("by") or ""
    return p


def trend_result(p: dict[str, Any], protected: bool) -> services.Timed:
    from tiplab.analysis import (
        AggregateTrendSettings,
        TrendSettings,
        aggregate_trends,
        trends,
    )

    by = (p["by"],) if p["by"] else ()
    if p["dataset"] == "glotip":
        # Published statistics: GLOTIP's own rule (cells under 5 published as "<5") is
        # carried as intervals 0-4; no case-level cell is involved.
        s = AggregateTrendSettings(indicator=p["indicator"], countries=(p["country"],),
                                   by=by, start=p["start"], end=p["end"],
                                   horizon=p["horizon"])
        services.require_records("aggregate")
        return _run("trends", p, protected, lambda: aggregate_trends(services.engine(), s))
    services.require_records("case")
    s = TrendSettings(by=by, start=p["start"], end=p["end"], horizon=p["horizon"])
    rule = services.disclosure_rule() if protected else None
    return _run("trends", p, protected, lambda: trends(_engine(p), s, protect=rule))


def trend_rows(result: Any, p: dict[str, Any]) -> list[dict[str, Any]]:
    """The table under the chart: observed rows, then forecast rows."""
    by = list(result.parameters.get("by", []))
    glotip = p["dataset"] == "glotip"
    cps = {(_label(r, by), r["year"]) for r in result.tables["changepoints"].to_pylist()}
    out = []
    for r in result.tables["series"].to_pylist():
        suppressed = bool(r.get("suppressed"))
        if glotip:
            lo, hi = r["low"], r["high"]
            exact = r["value"] is not None
            value = _num(r["value"]) if exact else f"{_num(lo)}–{_num(hi)}"
            interval = "" if exact else "censored"
            if r["change"] is not None and math.isfinite(r["change"]):
                change = _pct_change(r["change"])
                change_iv = f"{_pct_change(r['change_low'])} to {_pct_change(r['change_high'])}"
            elif r["difference_low"] is not None and math.isfinite(r["difference_low"]):
                change = f"{r['difference_low']:+,.0f} to {r['difference_high']:+,.0f}"
                change_iv = "difference range"
            else:
                change, change_iv = "", ""
        else:
            value = _num(r["value"])
            interval = (f"{_num(r['ci_low'], 1)}–{_num(r['ci_high'], 1)}"
                        if r["value"] is not None else "")
            change = _pct_change(r["change"])
            change_iv = (f"{_pct_change(r['change_low'])} to {_pct_change(r['change_high'])}"
                         if change else "")
        out.append({"period": r["year"], "group": _label(r, by), "value": value,
                    "interval": interval, "change": change, "change_interval": change_iv,
                    "changepoint": (_label(r, by), r["year"]) in cps,
                    "suppressed": suppressed, "forecast": False})
    fc = result.tables.get("forecast")
    for r in (fc.to_pylist() if fc is not None and "mean" in fc.column_names else []):
        out.append({"period": r["year"], "group": _label(r, by), "value": _num(r["mean"]),
                    "interval": f"{_num(r['low'])}–{_num(r['high'])}", "change": "",
                    "change_interval": "", "changepoint": False, "suppressed": False,
                    "forecast": True})
    return out


def trend_grid(result: Any) -> dict[str, Any] | None:
    """The series with a breakdown as a year x category grid with totals (None without a
    breakdown). A total is given only when every cell it adds is an exact, shown count: a
    suppressed or censored cell leaves its row's and column's totals out (a total could
    otherwise reveal it)."""
    by = list(result.parameters.get("by", []))
    if not by:
        return None
    rows = result.tables["series"].to_pylist()
    periods = sorted({r["year"] for r in rows})
    groups = sorted({_label(r, by) for r in rows})
    cell: dict[tuple[Any, str], Any] = {}
    for r in rows:
        exact = (r.get("value") is not None and not r.get("suppressed")
                 and not r.get("censored_cells"))
        cell[(r["year"], _label(r, by))] = r["value"] if exact else None
    def total(keys: list[tuple[Any, str]]) -> str:
        values = [cell.get(k, 0) for k in keys]
        return "" if any(v is None for v in values) else _num(sum(values))

    grid = [{"period": y,
             "cells": [("" if (y, g) not in cell else
                        ("—" if cell[(y, g)] is None else _num(cell[(y, g)])))
                       for g in groups],
             "total": total([(y, g) for g in groups])} for y in periods]
    return {"groups": groups, "rows": grid,
            "totals": [total([(y, g) for y in periods]) for g in groups],
            "grand": total([(y, g) for y in periods for g in groups])}


def trend_csv(result: Any) -> str:
    by = list(result.parameters.get("by", []))
    series = result.tables["series"]
    cps = {(_label(r, by), r["year"]) for r in result.tables["changepoints"].to_pylist()}
    flags = [(_label(r, by), r["year"]) in cps for r in series.to_pylist()]
    return to_csv(series, result.data_version, {"change_point": flags},
                  unit=None if result.kind == "aggregate_trends" else result.unit)


def _trend_title(result: Any, p: dict[str, Any]) -> str:
    if p["dataset"] == "glotip":
        return f"{p['indicator']}, {p['country']} (UNODC GLOTIP; data {result.data_version})"
    counted = "Persons" if (result.unit or {}).get("unit") == "persons" else "Case records"
    return f"{counted} per year (data {result.data_version})"


def trend_spec(result: Any, p: dict[str, Any], protected: bool) -> dict[str, Any] | None:
    """The trend chart as a Vega-Lite spec (the page's interactive chart)."""
    from tiplab.reports.charts import trend_spec as spec_of

    return chart_spec("trends", p, protected,
                      lambda: spec_of(result, title=_trend_title(result, p)))


def trend_chart_bytes(result: Any, p: dict[str, Any], protected: bool, fmt: str) -> bytes:
    return spec_figure("trends", p, protected, fmt, trend_spec(result, p, protected))


# --- hotspots -----------------------------------------------------------------------------

def _country_files() -> tuple[Path, Path]:
    d = services.country_dir()
    regions, adjacency = d / "regions.geojson", d / "adjacency.csv"
    if not regions.exists() or not adjacency.exists():
        raise NoData(f"the simulated country's regions and adjacency are not in {d} "
                     "(run setup_demo)")
    return regions, adjacency


def _region_inputs() -> tuple[Any, Any]:
    """(regions with population, spatial weights) of the simulated country, read once per
    file version rather than on every computation."""
    regions, adjacency = _country_files()
    return _region_inputs_of(str(regions), regions.stat().st_mtime, str(adjacency),
                             adjacency.stat().st_mtime)


@lru_cache(maxsize=2)
def _region_inputs_of(regions: str, regions_mtime: float, adjacency: str,
                      adjacency_mtime: float) -> tuple[Any, Any]:
    from tiplab.analysis import population_from_regions, weights_from_adjacency

    population = population_from_regions(regions, key="region")
    return population, weights_from_adjacency(
        adjacency, population.column("region").to_pylist())


def hotspot_result(p: dict[str, Any], protected: bool) -> services.Timed:
    from tiplab.analysis import HotspotSettings, hotspots

    population, weights = _region_inputs()
    services.require_records("case")
    s = HotspotSettings(start=p["year"], end=p["year"])
    rule = services.disclosure_rule() if protected else None
    return _run("hotspots", p, protected,
                lambda: hotspots(_engine(p), population, weights, s, protect=rule))


HOTSPOT_COLUMNS = ("n", "rate", "gi_z", "gi_q", "gi_class")


def hotspot_geojson(result: Any, p: dict[str, Any], protected: bool) -> dict[str, Any]:
    from tiplab.reports import leaflet_geojson, regions_layer

    regions, _ = _country_files()

    def compute() -> dict[str, Any]:
        fc = leaflet_geojson(regions_layer(regions), result.table, layer_key="code",
                             key="region", columns=HOTSPOT_COLUMNS)
        fc["data_version"] = result.data_version
        return fc

    return services.cached("hotspots_geojson", p, protected, compute).value


def region_names() -> dict[str, str]:
    """Region code -> name of the simulated country (read once per data version, not per
    request: reading the GeoJSON layer costs more than the cached page itself)."""
    from tiplab.reports.maps import regions_layer

    def compute() -> dict[str, str]:
        try:
            regions, _ = _country_files()
        except NoData:
            return {}
        layer = regions_layer(regions)
        return {str(k): str(v) for k, v in
                zip(layer["code"], layer.get("name", layer["code"]), strict=True)}

    return services.per_version("region_names", compute)


def hotspot_rows(result: Any) -> list[dict[str, Any]]:
    names = region_names()
    rows = []
    for r in sorted(result.table.to_pylist(), key=lambda r: -(r["gi_z"] or 0)):
        rows.append({"region": r["region"], "name": names.get(r["region"], ""),
                     "n": _num(r["n"]), "population": _num(r["population"]),
                     "rate": _num(r["rate"], 1), "gi_z": _num(r["gi_z"], 2),
                     "gi_q": _num(r["gi_q"], 3), "gi_class": r["gi_class"],
                     "suppressed": bool(r.get("suppressed"))})
    return rows


#: Emerging-hotspot patterns in the order the page lists them (most urgent first).
PATTERN_ORDER = ("new", "intensifying", "persistent", "sporadic", "diminishing", "historical",
                 "no pattern")


def emerging_params(p: dict[str, Any]) -> dict[str, Any]:
    return {"trend_start": p.get("trend_start"), "trend_end": p.get("trend_end"),
            "unit": p.get("unit", "records"), "link_run": p.get("link_run", "")}


def emerging_result(p: dict[str, Any], protected: bool) -> services.Timed:
    """Gi* per year and a pattern per region over ``trend_start``..``trend_end``."""
    from tiplab.analysis import HotspotSettings, emerging_hotspots

    population, weights = _region_inputs()
    services.require_records("case")
    q = emerging_params(p)
    s = HotspotSettings(start=q["trend_start"], end=q["trend_end"])
    rule = services.disclosure_rule() if protected else None
    return _run("emerging", q, protected,
                lambda: emerging_hotspots(_engine(q), population, weights, s,
                                          protect=rule))


def emerging_rows(result: Any) -> tuple[list[int], list[dict[str, Any]]]:
    """The years, and one row per region: its pattern, Mann-Kendall trend of Gi* z and the
    per-year hot/cold marks (most urgent patterns first)."""
    names = region_names()
    yearly = result.tables["yearly"].to_pylist()
    years = sorted({r["year"] for r in yearly})
    marks: dict[str, dict[int, str]] = {}
    for r in yearly:
        z = r["gi_z"] or 0.0
        mark = "hot" if r["hot"] else ("cold" if r["gi_q"] < 0.05 and z < 0 else "")
        marks.setdefault(r["region"], {})[r["year"]] = mark
    order = {name: i for i, name in enumerate(PATTERN_ORDER)}
    rows = []
    for r in result.tables["patterns"].to_pylist():
        rows.append({"region": r["region"], "name": names.get(r["region"], ""),
                     "pattern": r["pattern"], "years_hot": r["years_hot"],
                     "mk_z": _num(r["mk_z"], 2), "mk_p": _num(r["mk_p"], 3),
                     "years": [marks.get(r["region"], {}).get(y, "") for y in years]})
    rows.sort(key=lambda r: (order.get(r["pattern"], len(order)), r["region"]))
    return years, rows


def emerging_csv(result: Any) -> str:
    """The region x year table (protected counts and rates, z, q, hot) with each region's
    pattern."""
    patterns = {r["region"]: r["pattern"] for r in result.tables["patterns"].to_pylist()}
    yearly = result.tables["yearly"]
    extra = {"pattern": [patterns.get(r, "") for r in yearly.column("region").to_pylist()]}
    return to_csv(yearly, result.data_version, extra, unit=result.unit)


def hotspot_map_bytes(result: Any, p: dict[str, Any], protected: bool, fmt: str) -> bytes:
    from tiplab.reports import hotspot_map, regions_layer

    regions, _ = _country_files()
    year = p["year"] or "all years"
    title = f"Getis-Ord Gi* hotspots, {year} (BH-corrected; data {result.data_version})"
    return figure("hotspots", p, protected, fmt,
                  lambda path: hotspot_map(regions_layer(regions), result.table, path=path,
                                           title=title))


# --- profiles -----------------------------------------------------------------------------

def profile_result(p: dict[str, Any], protected: bool) -> services.Timed:
    from tiplab.analysis import ProfileSettings, profiles

    services.require_records("case")
    s = ProfileSettings(group=p["group"], by=tuple(p["by"]), start=p["start"], end=p["end"])
    rule = services.disclosure_rule() if protected else None
    return _run("profiles", p, protected,
                lambda: profiles(_engine(p), s, protect=rule))


def profile_rows(result: Any) -> list[dict[str, Any]]:
    by = list(result.parameters.get("by", []))
    rows = []
    for r in result.table.to_pylist():
        rows.append({"cells": [r[b] for b in by], "flag": r["flag"], "n": _num(r["n"]),
                     "denominator": _num(r["denominator"]), "records": _num(r["records"]),
                     "share": _num(r["share"] * 100 if r["share"] is not None else None, 1),
                     "reported": _num(r["reported"] * 100
                                      if r["reported"] is not None else None, 1),
                     "suppressed": bool(r.get("suppressed"))})
    return rows


# --- routes -------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _file_version(path: str, mtime: float) -> str:
    h = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"du-tip-{h[:12]}"


@lru_cache(maxsize=2)
def _denver_table(path: str, mtime: float) -> Any:
    """The Denver coding read once per file version (reading and resolving 22,246 statements'
    country names costs more than the route analysis itself)."""
    from tiplab.analysis import load_denver

    return load_denver(path)


def route_result(p: dict[str, Any], protected: bool) -> services.Timed:
    from tiplab.analysis import RouteSettings, routes

    periods = p.get("periods")
    s = RouteSettings(start=p["start"], end=p["end"],
                      period_a=tuple(periods[0]) if periods else None,
                      period_b=tuple(periods[1]) if periods else None)
    rule = services.disclosure_rule() if protected else None
    if p["dataset"] == "denver":
        f = services.DENVER_FILE
        if not f.exists():
            raise NoData(f"the Denver route coding is not at {f}")
        version = _file_version(str(f), f.stat().st_mtime)
        # Statement counts, not victims, but small cells still leave the analyst role only
        # through the same disclosure rule as case data.
        return _run("routes", p, protected,
                    lambda: routes(_denver_table(str(f), f.stat().st_mtime), s,
                                   data_version=version, protect=rule))
    services.require_records("case")
    return _run("routes", p, protected, lambda: routes(_engine(p), s, protect=rule))


def extra_countries(dataset: str) -> Any:
    """Countries that join the world map: the simulated one, for the case records."""
    return services.simulated_country() if dataset == "cases" else None


def route_rows(result: Any, top: int = 50, *, extra: Any = None
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from tiplab.reports import country_centroids

    on_map = set(country_centroids(extra)["iso_a3"])
    corridors = []
    for r in result.tables["corridors"].to_pylist()[:top]:
        off = [c for c in (r["origin_country"], r["country_of_exploitation"])
               if c not in on_map]
        corridors.append({"rank": r["rank"], "origin": r["origin_country"],
                          "destination": r["country_of_exploitation"], "n": _num(r["n"]),
                          "share": _num(r["share"] * 100 if r["share"] is not None else None,
                                        1),
                          "domestic": r["domestic"], "suppressed": bool(r.get("suppressed")),
                          "not_on_map": ", ".join(str(c) for c in off)})
    hubs = []
    for r in result.tables["hubs"].to_pylist()[:20]:
        hubs.append({"country": r["country"], "in_degree": r["in_degree"],
                     "out_degree": r["out_degree"], "betweenness": _num(r["betweenness"], 4),
                     "in_strength": _num(r.get("in_strength")),
                     "out_strength": _num(r.get("out_strength")),
                     "transit": _num(r.get("transit"))})
    return corridors, hubs


def change_rows(result: Any, top: int = 50) -> list[dict[str, Any]]:
    """The ``top`` corridor changes between period A and B, largest first (none unless both
    periods were given; the export has them all). Protected results carry the status only
    (period counts would reveal small cells)."""
    table = result.tables.get("changes")
    if table is None:
        return []
    rows = []
    for r in table.slice(0, top).to_pylist():
        ratio = r.get("ratio")
        interval = (f"{_num(r.get('ratio_low'), 2)}–{_num(r.get('ratio_high'), 2)}"
                    if ratio is not None else "")
        rows.append({"origin": r["origin_country"], "destination": r["country_of_exploitation"],
                     "n_a": _num(r.get("n_a")), "n_b": _num(r.get("n_b")),
                     "ratio": _num(ratio, 2), "interval": interval, "status": r["status"]})
    return rows


def changes_csv(result: Any) -> str:
    table = result.tables.get("changes")
    if table is None:
        raise NoData("give period A and period B to compare corridors")
    return to_csv(table, result.data_version, unit=case_unit(result))


def route_unmapped(result: Any, top: int, *, extra: Any = None
                   ) -> tuple[list[dict[str, Any]], str]:
    """The top corridors the flow map cannot draw (a region label, the fictional simulated
    country, a code not on the world layer) and the page's one-line note about them."""
    from tiplab.reports import off_map_note, unmapped_flows

    off = unmapped_flows(result.tables["corridors"], top=top, extra=extra)
    rows = [{"origin": r["origin_country"], "destination": r["country_of_exploitation"],
             "n": _num(r["n"]), "not_on_map": r["not_on_map"]} for r in off.to_dict("records")]
    return rows, off_map_note(off)


def route_map_bytes(result: Any, p: dict[str, Any], protected: bool, fmt: str) -> bytes:
    from tiplab.reports import flow_map

    title = f"Top corridors (data {result.data_version})"
    extra = extra_countries(p["dataset"])
    key = {**p, "anchor": services.country_anchor()}  # a moved country is another map
    return figure("routes", key, protected, fmt,
                  lambda path: flow_map(result.tables["corridors"], path=path, top=p["top"],
                                        title=title, extra=extra))


def _world_geojson(dataset: str) -> dict[str, Any]:
    """The world layer (with the simulated country for the case records) as GeoJSON for
    the interactive map, simplified to what a page-wide map shows (about 100 kB), read once
    per data version and placement of the simulated country."""
    from tiplab.reports import leaflet_geojson, world_layer

    def compute() -> dict[str, Any]:
        extra = extra_countries(dataset)
        world = world_layer(extra)
        added = set(extra["iso_a3"]) if extra is not None else set()
        # Natural Earth's 1:110m outlines to 0.2 degrees; the simulated country is small
        # and drawn as it is
        keep = world["iso_a3"].isin(added)
        world = world.set_geometry(world.geometry.where(keep, world.geometry.simplify(0.2)))
        fc = leaflet_geojson(world, layer_key="iso_a3", precision=2)
        fc["highlight"] = sorted(added)
        return fc

    return services.per_version(f"world_geojson:{dataset}:{services.country_anchor()}",
                                compute)


def route_map_spec(result: Any, p: dict[str, Any], protected: bool) -> dict[str, Any] | None:
    """The corridor map as a Vega-Lite spec: the same top corridors as the static map, each
    with its origin, destination and volume on hover."""
    from tiplab.reports import flow_lines
    from tiplab.reports.charts import flow_map_spec
    from tiplab_web.core.labels import label

    def build() -> dict[str, Any]:
        world = _world_geojson(p["dataset"])
        flows = flow_lines(result.tables["corridors"], top=p["top"],
                           extra=extra_countries(p["dataset"]))
        codes = {str(c) for c in flows["origin_country"]} | {
            str(c) for c in flows["country_of_exploitation"]} | {
            str(f["properties"].get("iso_a3")) for f in world["features"]}
        names = {c: label(c, "country") for c in codes}  # in the reader's language
        return flow_map_spec(world, flows, source="origin_country",
                             target="country_of_exploitation", value="n",
                             title=f"Top corridors (data {result.data_version})",
                             value_title="statements" if p["dataset"] == "denver"
                             else unit_words(case_unit(result)),
                             names=names, highlight=world.get("highlight", ()),
                             provenance={"kind": result.kind,
                                         "data_version": result.data_version,
                                         "parameters": _jsonable_params(p)})

    from django.utils.translation import get_language

    key = {**p, "anchor": services.country_anchor(), "language": get_language()}
    return chart_spec("routes", key, protected, build)


def _jsonable_params(p: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in p.items() if k != "link_run" or v}
