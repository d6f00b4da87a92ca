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

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from tiplab.analysis.errors import AnalysisError
from tiplab.analysis.results import AnalysisResult
from tiplab.analysis.source import execute, require, resolve
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


def leg_query(t: ir.Table, start: int | None = None, end: int | None = None) -> ir.Table:
    """Ibis: consecutive hops of every path (columns ``source``, ``target``, ``n``)."""
    require(t, ORIGIN, TRANSIT, DEST)
    x = _filter_years(t, start, end)
    empty = ibis.literal([], type="array<string>")
    transit = x[TRANSIT].fill_null(empty)
    path = ibis.array([x[ORIGIN]]).concat(transit).concat(ibis.array([x[DEST]]))
    legs = x.select(leg=path[:-1].zip(path[1:])).unnest("leg")
    legs = legs.select(source=legs.leg.f1, target=legs.leg.f2)
    legs = legs.filter(legs.source.notnull() & legs.target.notnull()
                       & (legs.source != legs.target))
    return legs.group_by(["source", "target"]).agg(n=ibis._.count())


def transit_query(t: ir.Table, start: int | None = None, end: int | None = None) -> ir.Table:
    """Ibis: how often each country is named as a transit point."""
    require(t, TRANSIT)
    x = _filter_years(t, start, end).select(country=ibis._[TRANSIT]).unnest("country")
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


def _betweenness(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Brandes' algorithm, directed and unweighted; normalised by (n-1)(n-2)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(src.tolist(), dst.tolist(), strict=True):
        adj[a].append(b)
    cb = np.zeros(n)
    for s in range(n):  # per node of the network (a few hundred countries), not per record
        stack: list[int] = []
        preds: list[list[int]] = [[] for _ in range(n)]
        sigma = np.zeros(n)
        sigma[s] = 1.0
        dist = np.full(n, -1)
        dist[s] = 0
        q = deque([s])
        while q:
            v = q.popleft()
            stack.append(v)
            for w_ in adj[v]:
                if dist[w_] < 0:
                    dist[w_] = dist[v] + 1
                    q.append(w_)
                if dist[w_] == dist[v] + 1:
                    sigma[w_] += sigma[v]
                    preds[w_].append(v)
        delta = np.zeros(n)
        while stack:
            w_ = stack.pop()
            for v in preds[w_]:
                delta[v] += sigma[v] / sigma[w_] * (1.0 + delta[w_])
            if w_ != s:
                cb[w_] += delta[w_]
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
    legs = execute(leg_query(t, s.start, s.end)).to_pandas()
    transit = execute(transit_query(t, s.start, s.end)).to_pandas()
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
        a = execute(corridor_query(t, *s.period_a)).to_pandas()
        b = execute(corridor_query(t, *s.period_b)).to_pandas()
        ch = a.merge(b, on=[ORIGIN, DEST], how="outer", suffixes=("_a", "_b")).fillna(
            {"n_a": 0, "n_b": 0})
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
    return AnalysisResult(kind="routes", tables=tables, data_version=version,
                          parameters=s.to_dict(), notes=notes, protection=prot)
