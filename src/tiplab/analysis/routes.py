"""Routes: the origin -> transit -> destination network, corridors, hubs, period changes.

Each record (or coded route statement) gives a path ``origin, transit_1 .. transit_k,
destination``. Two tables come from it (both Ibis expressions, so they run on Spark):

- **corridors**: origin -> destination pairs, counted (records or statements);
  ``domestic`` when origin equals destination.
- **legs**: consecutive hops of the path (origin -> first transit, …, last transit ->
  destination); missing points are skipped only where they are missing.

Hubs are scored on the leg network without self-loops: in/out degree (number of distinct
partners), strength (weighted by volume) and betweenness centrality (Brandes 2001, directed,
unweighted: how often a country lies on shortest paths between other countries), normalised
by ``(n-1)(n-2)``. Changes between two periods compare corridor volumes with the exact
ratio-of-Poisson-counts interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from tiplab.analysis.errors import AnalysisError
from tiplab.analysis.flat import SOURCE, TARGET, ExprFlat, Flat, flat_for
from tiplab.analysis.results import AnalysisResult
from tiplab.analysis.source import execute, require, resolve, unit_of
from tiplab.analysis.stats import rate_ratio_ci
from tiplab.privacy import DisclosureRule, protect_counts

ORIGIN, TRANSIT, DEST = "origin_country", "transit_countries", "country_of_exploitation"


@dataclass(frozen=True)
class RouteSettings:
    """Which years, and two periods to compare (inclusive year ranges)."""

    start: int | None = None
    end: int | None = None
    period_a: tuple[int, int] | None = None
    period_b: tuple[int, int] | None = None
    top: int = 50
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _year(t: ir.Table) -> ir.IntegerValue:
    if "registration_date" in t.columns:
        return t.registration_date.year()
    require(t, "year")
    return t.year.cast("int64")


def _filter_years(t: ir.Table, start: int | None, end: int | None) -> ir.Table:
    if start is None and end is None:
        return t
    y = _year(t)
    if start is not None:
        t = t.filter(y >= start)
    if end is not None:
        t = t.filter(y <= end)
    return t


def corridor_query(t: ir.Table, start: int | None = None, end: int | None = None
                   ) -> ir.Table:
    """Ibis: origin -> destination counts."""
    require(t, ORIGIN, DEST)
    x = _filter_years(t, start, end)
    x = x.filter(x[ORIGIN].notnull() & x[DEST].notnull())
    return x.group_by([ORIGIN, DEST]).agg(n=ibis._.count())


def change_query(t: ir.Table, period_a: tuple[int, int], period_b: tuple[int, int]
                 ) -> ir.Table:
    """Ibis: origin -> destination counts in two periods (``n_a``, ``n_b``), one scan."""
    require(t, ORIGIN, DEST)
    # Select the three columns first: DuckDB then reads no list column.
    x = t.select(ORIGIN, DEST, _y=_year(t))
    x = x.filter(x[ORIGIN].notnull() & x[DEST].notnull())
    counts = x.group_by([ORIGIN, DEST]).agg(n_a=x.count(where=x._y.between(*period_a)),
                                            n_b=x.count(where=x._y.between(*period_b)))
    return counts.filter((counts.n_a > 0) | (counts.n_b > 0))


def leg_query(t: ir.Table, start: int | None = None, end: int | None = None,
              flat: Flat | None = None) -> ir.Table:
    """Ibis: consecutive hops of every path (columns ``source``, ``target``, ``n``)."""
    require(t, ORIGIN, TRANSIT, DEST)
    legs = _filter_years((flat or ExprFlat(t)).legs(), start, end)
    legs = legs.select(source=legs[SOURCE], target=legs[TARGET])
    legs = legs.filter(legs.source.notnull() & legs.target.notnull()
                       & (legs.source != legs.target))
    return legs.group_by(["source", "target"]).agg(n=ibis._.count())


def transit_query(t: ir.Table, start: int | None = None, end: int | None = None,
                  flat: Flat | None = None) -> ir.Table:
    """Ibis: how often each country is named as a transit point."""
    require(t, TRANSIT)
    x = _filter_years((flat or ExprFlat(t)).explode(TRANSIT), start, end)
    x = x.select(country=x[TRANSIT])
    x = x.filter(x.country.notnull())
    return x.group_by("country").agg(transit=ibis._.count())


def centrality(edges: pd.DataFrame) -> pd.DataFrame:
    """Degree, strength and betweenness of a directed network given ``source,target,n``."""
    nodes = pd.Index(pd.unique(pd.concat([edges["source"], edges["target"]])), name="country")
    if len(nodes) == 0:
        return pd.DataFrame(columns=["country", "in_degree", "out_degree", "in_strength",
                                     "out_strength", "betweenness"])
    s = nodes.get_indexer(edges["source"])
    d = nodes.get_indexer(edges["target"])
    n = len(nodes)
    w = edges["n"].to_numpy(np.float64)
    out = pd.DataFrame({"country": nodes})
    out["in_degree"] = np.bincount(d, minlength=n)
    out["out_degree"] = np.bincount(s, minlength=n)
    out["in_strength"] = np.bincount(d, weights=w, minlength=n)
    out["out_strength"] = np.bincount(s, weights=w, minlength=n)
    out["betweenness"] = _betweenness(n, s, d)
    return out


def _betweenness(n: int, src: np.ndarray, dst: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Brandes' algorithm, directed and unweighted; normalised by (n-1)(n-2).

    Vectorised over source nodes: a breadth-first search from every source of a chunk at once,
    level by level (path counts ``sigma`` are products with the sparse adjacency matrix),
    then the dependencies accumulated back level by level, as in Brandes (2001), eq. 6.
    """
    from scipy.sparse import csr_matrix

    adj = csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    adj_t = adj.T.tocsr()
    cb = np.zeros(n)
    for lo in range(0, n, chunk):
        sources = np.arange(lo, min(n, lo + chunk))
        k = sources.size
        dist = np.full((k, n), -1, dtype=np.int64)
        sigma = np.zeros((k, n))
        dist[np.arange(k), sources] = 0
        sigma[np.arange(k), sources] = 1.0
        frontier = dist == 0
        level = 0
        while frontier.any():
            reach = np.asarray((adj_t @ np.where(frontier, sigma, 0.0).T).T)
            new = (reach > 0) & (dist < 0)
            level += 1
            dist[new] = level
            sigma[new] = reach[new]
            frontier = new
        delta = np.zeros((k, n))
        for d in range(level - 1, -1, -1):
            ahead = dist == d + 1
            coef = np.divide(1.0 + delta, sigma, out=np.zeros_like(delta), where=ahead)
            delta += np.where(dist == d, sigma * np.asarray((adj @ coef.T).T), 0.0)
        delta[np.arange(k), sources] = 0.0
        cb += delta.sum(axis=0)
    if n > 2:
        cb /= (n - 1) * (n - 2)
    return cb


def routes(source: Any, settings: RouteSettings | None = None, *,
           protect: DisclosureRule | None = None, data_version: str | None = None,
           kind: str = "case") -> AnalysisResult:
    """Corridors ranked by volume, hub countries, legs, and changes between two periods.

    ``source`` has ``origin_country``, ``transit_countries`` (list), ``country_of_exploitation``
    and ``registration_date`` or ``year`` (case records, or the Denver coding from
    :func:`tiplab.analysis.denver.load_denver`).
    """
    s = settings or RouteSettings()
    t, version = resolve(source, kind, data_version)
    corridors = execute(corridor_query(t, s.start, s.end)).to_pandas()
    flat = flat_for(source, t)
    legs = execute(leg_query(t, s.start, s.end, flat)).to_pandas()
    transit = execute(transit_query(t, s.start, s.end, flat)).to_pandas()
    if corridors.empty and legs.empty:
        raise AnalysisError("no records with both an origin and a destination country")
    corridors["domestic"] = corridors[ORIGIN] == corridors[DEST]
    total = corridors["n"].sum()
    corridors["share"] = corridors["n"] / total if total else np.nan
    corridors = corridors.sort_values(["n", ORIGIN, DEST], ascending=[False, True, True])
    corridors.insert(0, "rank", np.arange(1, len(corridors) + 1))
    hubs = centrality(legs).merge(transit, on="country", how="left")
    hubs["transit"] = hubs["transit"].fillna(0).astype(np.int64)
    hubs = hubs.sort_values(["betweenness", "in_strength"], ascending=False)
    legs = legs.sort_values("n", ascending=False).reset_index(drop=True)
    tables: dict[str, pa.Table] = {
        "corridors": pa.Table.from_pandas(corridors.reset_index(drop=True),
                                          preserve_index=False),
        "hubs": pa.Table.from_pandas(hubs.reset_index(drop=True), preserve_index=False),
        "legs": pa.Table.from_pandas(legs, preserve_index=False),
    }
    if s.period_a and s.period_b:
        ch = execute(change_query(t, s.period_a, s.period_b)).to_pandas()
        ya = s.period_a[1] - s.period_a[0] + 1
        yb = s.period_b[1] - s.period_b[0] + 1
        r, lo, hi = rate_ratio_ci(ch["n_b"], ch["n_a"], yb, ya, s.level)
        ch["ratio"], ch["ratio_low"], ch["ratio_high"] = r, lo, hi
        ch["status"] = np.select([ch["n_a"] == 0, ch["n_b"] == 0, lo > 1, hi < 1],
                                 ["new", "disappeared", "rising", "falling"], "stable")
        ch = ch.sort_values(["n_b", "n_a"], ascending=False).reset_index(drop=True)
        ch["n_a"] = ch["n_a"].astype(np.int64)
        ch["n_b"] = ch["n_b"].astype(np.int64)
        tables["changes"] = pa.Table.from_pandas(ch, preserve_index=False)
    prot = None
    notes = ["corridor = origin -> country of exploitation; legs follow the transit countries "
             "in order; betweenness on the leg network (directed, unweighted)"]
    if protect is not None:
        tables["corridors"], prot = protect_counts(
            tables["corridors"], "n", rows=ORIGIN, cols=DEST, rule=protect, also=["share"])
        tables["legs"], _ = protect_counts(tables["legs"], "n", rows="source", cols="target",
                                           rule=protect)
        keep = ["country", "in_degree", "out_degree", "betweenness"]
        tables["hubs"] = tables["hubs"].select(keep)
        if "changes" in tables:
            tables["changes"] = tables["changes"].select([ORIGIN, DEST, "status"])
        notes.append("volumes below the threshold suppressed; hub strengths and period counts "
                     "withheld in protected output")
    return AnalysisResult(
        unit=unit_of(source), kind="routes", tables=tables, data_version=version,
                          parameters=s.to_dict(), notes=notes, protection=prot)
