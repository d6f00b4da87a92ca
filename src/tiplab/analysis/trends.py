"""Trends in case records: counts and rates over time by any breakdown.

The counting query is an Ibis expression (:func:`count_query`), so it runs on DuckDB or Spark.
List columns (forms of exploitation, means of control, sectors, transit countries) are
exploded: a record with two forms counts once under each, so breakdown totals can exceed the
number of records; records with an empty list count under a null category ("not reported").
Counts are **records**, not persons, unless the table was de-duplicated by linkage first.

Per series: exact Poisson interval of each count, change on the previous period as a ratio of
Poisson rates with its exact interval, change points (:mod:`tiplab.analysis.changepoint`),
an optional forecast and, for monthly data, a seasonality test
(:mod:`tiplab.analysis.timeseries`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from tiplab.analysis.changepoint import binary_segmentation
from tiplab.analysis.errors import AnalysisError
from tiplab.analysis.flat import ExprFlat, Flat, explode_expr, flat_for
from tiplab.analysis.population import attach_population
from tiplab.analysis.results import AnalysisResult
from tiplab.analysis.source import execute, is_list, require, resolve, unit_of
from tiplab.analysis.stats import poisson_ci, rate_ratio_ci
from tiplab.analysis.timeseries import forecast_counts, seasonality_test
from tiplab.privacy import DisclosureRule, protect_counts

log = logging.getLogger("tiplab.analysis")

BREAKDOWNS = ("sex", "age_band", "majority_status", "exploitation_forms", "citizenship",
              "region_of_exploitation", "source_agency", "country_of_exploitation",
              "origin_country", "labour_sectors", "means_of_control", "recruiter_relation",
              "sexual_exploitation_types", "trafficking_status", "case_status")


@dataclass(frozen=True)
class TrendSettings:
    """What to count and how to test it (round-trips through JSON)."""

    time: Literal["year", "month"] = "year"
    by: tuple[str, ...] = ()
    date_column: str = "registration_date"
    start: int | None = None
    end: int | None = None
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    per: float = 100_000.0
    level: float = 0.95
    alpha: float = 0.05
    changepoints: bool = True
    horizon: int = 0
    #: the forecast's prediction interval: 95%, as every other interval tiplab shows
    forecast_level: float = 0.95
    n_sim: int = 999
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["by"] = list(self.by)
        d["where"] = {k: list(v) for k, v in self.where.items()}
        return d


def count_query(t: ir.Table, settings: TrendSettings, flat: Flat | None = None) -> ir.Table:
    """The Ibis expression counting records per period and breakdown (columns: time, by, n).

    The first list column of ``by`` is read from ``flat``'s flat table (materialised per data
    version for a DuckDB engine, see :mod:`tiplab.analysis.flat`); any further list column is
    exploded in the query.
    """
    require(t, settings.date_column, *settings.by, *settings.where)
    flat = flat or ExprFlat(t)
    lists = [c for c in settings.by if is_list(t, c)]
    # A list column that is also filtered on must be filtered as a list, before explosion.
    first = next((c for c in lists if c not in settings.where), None)
    x = flat.explode(first) if first else t
    d = x[settings.date_column]
    x = x.filter(d.notnull())
    if settings.start is not None:
        x = x.filter(d.year() >= settings.start)
    if settings.end is not None:
        x = x.filter(d.year() <= settings.end)
    for col, values in settings.where.items():
        if is_list(x, col):
            x = x.filter(x[col].intersect(ibis.literal(list(values))).length() > 0)
        else:
            x = x.filter(x[col].isin(list(values)))
    d = x[settings.date_column]
    x = x.mutate(**{settings.time: d.year() if settings.time == "year" else d.truncate("M")})
    for col in lists:
        if col != first:
            x = explode_expr(x, col, offset=None)
    return x.group_by([settings.time, *settings.by]).agg(n=ibis._.count())


def _complete(df: pd.DataFrame, time: str, by: list[str]) -> pd.DataFrame:
    """Fill absent period x category cells with 0 (a year with no record is a 0, not a gap)."""
    if df.empty:
        return df
    if time == "year":
        periods: Any = np.arange(int(df[time].min()), int(df[time].max()) + 1)
    else:
        p = pd.to_datetime(df[time])
        periods = pd.date_range(p.min(), p.max(), freq="MS").date
    if by:
        combos = df[by].drop_duplicates()
        grid = combos.merge(pd.DataFrame({time: periods}), how="cross")
    else:
        grid = pd.DataFrame({time: periods})
    out = grid.merge(df, on=[time, *by], how="left")
    out["n"] = out["n"].fillna(0).astype(np.int64)
    return out.sort_values([*by, time], kind="stable").reset_index(drop=True)


def _series_groups(df: pd.DataFrame, by: list[str]) -> list[tuple[dict[str, Any], np.ndarray]]:
    if not by:
        return [({}, np.arange(len(df)))]
    out = []
    for key, idx in df.groupby(by, dropna=False, sort=False).indices.items():
        k = key if isinstance(key, tuple) else (key,)
        out.append(({b: (None if pd.isna(v) else v) for b, v in zip(by, k, strict=True)},
                    np.asarray(idx)))
    return out


def trends(source: Any, settings: TrendSettings | None = None, *,
           population: pa.Table | pd.DataFrame | None = None,
           protect: DisclosureRule | None = None,
           data_version: str | None = None) -> AnalysisResult:
    """Counts (and rates) over time for case records, with changes, change points, forecasts.

    Parameters
    ----------
    source : Engine, Ibis table, Arrow table or Parquet path with the case schema's columns.
    settings : :class:`TrendSettings`.
    population : optional table with ``population`` (and key/``year`` columns); adds rates
        per ``settings.per`` people and makes the change a ratio of rates.
    protect : a :class:`~tiplab.privacy.DisclosureRule`; when given, small counts are
        suppressed with secondary suppression over the period x breakdown table, and
        change-point segment means (sums in disguise) are withheld.

    Returns
    -------
    AnalysisResult with tables ``series``, ``changepoints``, ``forecast`` (when
    ``horizon > 0``) and ``seasonality`` (monthly data).
    """
    s = settings or TrendSettings()
    t, version = resolve(source, "case", data_version)
    counted = execute(count_query(t, s, flat_for(source, t))).to_pandas()
    by = list(s.by)
    df = _complete(counted, s.time, by)
    notes: list[str] = []
    if df.empty:
        raise AnalysisError("no records with a registration date match the selection")
    if any(is_list(t, b) for b in by):
        notes.append("list columns exploded: a record with several values counts under each")
    if population is not None:
        df, pop_notes = attach_population(df, population, s.time)
        notes += pop_notes
    else:
        df["population"] = np.nan
    n = df["n"].to_numpy(np.float64)
    lo, hi = poisson_ci(n, s.level)
    per = s.per
    pop = df["population"].to_numpy(np.float64)
    df["value"] = df["n"]
    df["low"] = df["n"]
    df["high"] = df["n"]
    df["ci_low"], df["ci_high"] = lo, hi
    df["rate"], df["rate_low"], df["rate_high"] = n / pop * per, lo / pop * per, hi / pop * per
    change = np.full((3, len(df)), np.nan)
    cps: list[dict[str, Any]] = []
    fcs: list[dict[str, Any]] = []
    seas: list[dict[str, Any]] = []
    for key, idx in _series_groups(df, by):
        y = n[idx]
        e = np.where(np.isfinite(pop[idx]), pop[idx], 1.0)
        if idx.size > 1:
            r, rl, rh = rate_ratio_ci(y[1:], y[:-1], e[1:], e[:-1], s.level)
            change[:, idx[1:]] = np.vstack([r, rl, rh])
        periods = df[s.time].to_numpy()[idx]
        if s.changepoints and idx.size >= 4:
            for cp in binary_segmentation(y, alpha=s.alpha, n_sim=s.n_sim, seed=s.seed):
                cps.append({**key, s.time: periods[cp.index], "p_value": cp.p_value,
                            "statistic": cp.statistic, "mean_before": cp.mean_before,
                            "mean_after": cp.mean_after})
        if s.horizon > 0 and idx.size >= 3:
            has_pop = bool(np.isfinite(pop[idx]).all())
            fc = forecast_counts(y, s.horizon, level=s.forecast_level,
                                 exposure=e if has_pop else None, seed=s.seed)
            for step, m, fl, fh in zip(fc.steps, fc.mean, fc.low, fc.high, strict=True):
                fcs.append({**key, s.time: _future(periods[-1], step, s.time), "mean": m,
                            "low": fl, "high": fh, "level": fc.level,
                            "slope": fc.slope, "dispersion": fc.dispersion})
        if s.time == "month" and idx.size >= 24 and y.sum() > 0:
            months = pd.to_datetime(pd.Series(periods)).dt.month.to_numpy()
            st = seasonality_test(y, months)
            seas.append({**key, "f_statistic": st.f_statistic, "p_value": st.p_value,
                         "dispersion": st.dispersion,
                         **{f"m{m:02d}": f for m, f in zip(st.months, st.factors, strict=True)}})
    df["change"], df["change_low"], df["change_high"] = change
    cols = [s.time, *by, "value", "low", "high", "ci_low", "ci_high", "population", "rate",
            "rate_low", "rate_high", "change", "change_low", "change_high"]
    series = pa.Table.from_pandas(df[cols], preserve_index=False)
    cp_table = pa.Table.from_pylist(cps) if cps else pa.table(
        {s.time: pa.array([], series.schema.field(s.time).type)})
    tables: dict[str, pa.Table] = {"series": series, "changepoints": cp_table}
    if s.horizon > 0:
        tables["forecast"] = pa.Table.from_pylist(fcs) if fcs else pa.table({s.time: []})
    if seas:
        tables["seasonality"] = pa.Table.from_pylist(seas)
    prot = None
    if protect is not None:
        tables["series"], prot = protect_counts(
            series, "value", rows=s.time if by else None, cols=by or None, rule=protect,
            also=["low", "high", "ci_low", "ci_high", "rate", "rate_low", "rate_high",
                  "change", "change_low", "change_high"])
        if cps:
            tables["changepoints"] = tables["changepoints"].drop_columns(
                ["mean_before", "mean_after", "statistic"])
        notes.append("segment means withheld: they are sums of published counts")
    log.debug("trends %s: %d cells", s.by, len(df))
    return AnalysisResult(
        unit=unit_of(source), kind="trends", tables=tables, data_version=version,
                          parameters=s.to_dict(), notes=notes, protection=prot)


def _future(last: Any, step: int, time: str) -> Any:
    if time == "year":
        return int(last) + step
    p = pd.Timestamp(last) + pd.DateOffset(months=step)
    return p.date()
