"""Trends in aggregate statistics (GLOTIP and similar), with censored cells as intervals.

A censored source cell (GLOTIP's ``<5``) is stored as ``value = NULL`` with bounds
``[value_low, value_high]`` (0-4). A sum of cells therefore carries ``[sum of lows, sum of
highs]``, and its point ``value`` is given only when every summed cell is exact; otherwise it
is null. Changes between years are ratios (with the exact Poisson-ratio interval) when both
years are exact, and otherwise the interval of possible differences ``[low_t - high_t-1,
high_t - low_t-1]``. Change points and forecasts are computed only on fully exact series.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from tiplab.analysis.changepoint import binary_segmentation
from tiplab.analysis.errors import AnalysisError
from tiplab.analysis.population import attach_population
from tiplab.analysis.results import AnalysisResult
from tiplab.analysis.source import execute, require, resolve
from tiplab.analysis.stats import rate_ratio_ci
from tiplab.analysis.timeseries import forecast_counts

GLOTIP = "UNODC GLOTIP"
AGG_BREAKDOWNS = ("sex", "age_group", "category", "country")


@dataclass(frozen=True)
class AggregateTrendSettings:
    """Selection of aggregate cells; ``by`` splits the series (one of AGG_BREAKDOWNS)."""

    indicator: str = "Detected trafficking victims"
    countries: tuple[str, ...] = ()
    source_agency: str | None = GLOTIP
    dimension: str = "Total"
    category: str | None = None
    sex: str | None = "Total"
    age_group: str | None = "Total"
    by: tuple[str, ...] = ()
    start: int | None = None
    end: int | None = None
    per: float = 100_000.0
    level: float = 0.95
    alpha: float = 0.05
    changepoints: bool = True
    horizon: int = 0
    n_sim: int = 999
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["countries"] = list(self.countries)
        d["by"] = list(self.by)
        return d


def aggregate_query(t: ir.Table, s: AggregateTrendSettings) -> ir.Table:
    """Ibis expression: per year (and ``by``), bounds sums and the exact sum when defined."""
    require(t, "indicator", "dimension", "year", "value", "value_low", "value_high",
            "censored", *s.by)
    bad = [b for b in s.by if b not in AGG_BREAKDOWNS]
    if bad:
        raise AnalysisError(f"cannot break aggregates down by {bad}; use {AGG_BREAKDOWNS}")
    x = t.filter((t.indicator == s.indicator) & (t.dimension == s.dimension))
    if s.source_agency:
        x = x.filter(x.source_agency == s.source_agency)
    if s.countries:
        x = x.filter(x.country.isin(list(s.countries)))
    # A breakdown column takes every level except its 'Total' row; the others are pinned.
    for col, wanted in (("sex", s.sex), ("age_group", s.age_group), ("category", s.category)):
        if col in s.by:
            x = x.filter(x[col] != "Total")
        elif wanted is not None:
            x = x.filter(x[col] == wanted)
    if s.start is not None:
        x = x.filter(x.year >= s.start)
    if s.end is not None:
        x = x.filter(x.year <= s.end)
    g = x.group_by(["year", *s.by]).agg(
        exact_sum=x.value.sum(), low=x.value_low.sum(), high=x.value_high.sum(),
        cells=ibis._.count(), censored_cells=x.censored.cast("int64").sum())
    return g.mutate(value=ibis.ifelse(g.censored_cells == 0, g.exact_sum,
                                      ibis.null().cast("int64"))).drop("exact_sum")


def aggregate_trends(source: Any, settings: AggregateTrendSettings | None = None, *,
                     population: pa.Table | pd.DataFrame | None = None,
                     data_version: str | None = None) -> AnalysisResult:
    """Year series of an aggregate indicator, censoring carried as intervals.

    Returns an AnalysisResult whose ``series`` has ``year``, the ``by`` columns, ``value``
    (null unless exact), ``low``, ``high``, ``cells``, ``censored_cells``, rates when a
    population is given, and the change on the previous year.
    """
    s = settings or AggregateTrendSettings()
    t, version = resolve(source, "aggregate", data_version)
    df = execute(aggregate_query(t, s)).to_pandas()
    source_note = ""
    if df.empty and s.source_agency:
        # the cells may be stored under another source name ("tiplab import --source unodc")
        present = sorted(str(v) for v in execute(
            t.filter(t.indicator == s.indicator).select("source_agency").distinct()
        ).to_pandas()["source_agency"].dropna())
        if s.source_agency not in present:
            if len(present) == 1 and s.source_agency == GLOTIP:
                s = replace(s, source_agency=present[0])
                df = execute(aggregate_query(t, s)).to_pandas()
                source_note = (f"the {s.indicator!r} cells are stored under the source "
                               f"{present[0]!r} (not {GLOTIP!r}): that source was used")
            else:
                raise AnalysisError(
                    f"no {s.indicator!r} cells of source {s.source_agency!r}; the sources "
                    f"present are {', '.join(repr(p) for p in present) or 'none'}: choose "
                    "one (tiplab trends --source-agency NAME)")
    if df.empty:
        raise AnalysisError(f"no {s.indicator!r} cells match the selection (dimension "
                            f"{s.dimension!r}, countries {list(s.countries) or 'all'})")
    by = list(s.by)
    df = df.sort_values([*by, "year"], kind="stable").reset_index(drop=True)
    notes = ["censored source cells ('<5') enter sums as the interval 0-4; a point value is "
             "given only when every summed cell is exact"]
    if source_note:
        notes.append(source_note)
    if population is not None:
        pop_df = population.to_pandas() if isinstance(population, pa.Table) else population
        if "country" in pop_df.columns and s.countries and "country" not in by:
            pop_df = pop_df[pop_df["country"].isin(s.countries)].groupby(
                "year", as_index=False)["population"].sum() if "year" in pop_df.columns \
                else pop_df[pop_df["country"].isin(s.countries)][["population"]]
        df, pop_notes = attach_population(df, pop_df, "year")
        notes += pop_notes
    else:
        df["population"] = np.nan
    pop = df["population"].to_numpy(np.float64)
    for col in ("value", "low", "high"):
        df[f"rate_{col}" if col != "value" else "rate"] = (
            df[col].astype("float64") / pop * s.per)
    change = np.full((5, len(df)), np.nan)
    cps: list[dict[str, Any]] = []
    fcs: list[dict[str, Any]] = []
    groups = df.groupby(by, dropna=False, sort=False).indices if by else {(): np.arange(len(df))}
    for key, idx in groups.items():
        keyd = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        idx = np.asarray(idx)
        v = df["value"].to_numpy(np.float64, na_value=np.nan)[idx]
        lo = df["low"].to_numpy(np.float64)[idx]
        hi = df["high"].to_numpy(np.float64)[idx]
        years = df["year"].to_numpy()[idx]
        e = np.where(np.isfinite(pop[idx]), pop[idx], 1.0)
        if idx.size > 1:
            consecutive = np.diff(years) == 1
            exact = np.isfinite(v[1:]) & np.isfinite(v[:-1]) & consecutive
            r, rl, rh = rate_ratio_ci(np.nan_to_num(v[1:]), np.nan_to_num(v[:-1]),
                                      e[1:], e[:-1], s.level)
            change[0, idx[1:]] = np.where(exact, r, np.nan)
            change[1, idx[1:]] = np.where(exact, rl, np.nan)
            change[2, idx[1:]] = np.where(exact, rh, np.nan)
            change[3, idx[1:]] = np.where(consecutive, lo[1:] - hi[:-1], np.nan)
            change[4, idx[1:]] = np.where(consecutive, hi[1:] - lo[:-1], np.nan)
        complete = (np.isfinite(v).all() and idx.size >= 4
                    and bool((np.diff(years) == 1).all()))
        if s.changepoints and complete:
            for cp in binary_segmentation(v, alpha=s.alpha, n_sim=s.n_sim, seed=s.seed):
                cps.append({**keyd, "year": int(years[cp.index]), "p_value": cp.p_value,
                            "statistic": cp.statistic, "mean_before": cp.mean_before,
                            "mean_after": cp.mean_after})
        if s.horizon > 0 and complete:
            fc = forecast_counts(v, s.horizon, level=s.level, seed=s.seed)
            for step, m, fl, fh in zip(fc.steps, fc.mean, fc.low, fc.high, strict=True):
                fcs.append({**keyd, "year": int(years[-1]) + step, "mean": m, "low": fl,
                            "high": fh, "level": fc.level})
        elif s.horizon > 0:
            notes.append(f"no forecast for {keyd or 'the series'}: censored or missing years")
    (df["change"], df["change_low"], df["change_high"], df["difference_low"],
     df["difference_high"]) = change
    df["value"] = df["value"].astype("Int64")
    cols = ["year", *by, "value", "low", "high", "cells", "censored_cells", "population",
            "rate", "rate_low", "rate_high", "change", "change_low", "change_high",
            "difference_low", "difference_high"]
    tables = {"series": pa.Table.from_pandas(df[cols], preserve_index=False),
              "changepoints": pa.Table.from_pylist(cps) if cps else pa.table(
                  {"year": pa.array([], pa.int64())})}
    if s.horizon > 0:
        tables["forecast"] = pa.Table.from_pylist(fcs) if fcs else pa.table(
            {"year": pa.array([], pa.int64())})
    return AnalysisResult(kind="aggregate_trends", tables=tables, data_version=version,
                          parameters=s.to_dict(), notes=notes)
