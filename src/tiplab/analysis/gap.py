"""The detection gap: where are victims not being found?

For each stratum of a linked person table (region, form of exploitation, sex, age band, year —
any combination the data support) multiple systems estimation gives the estimated total; the
**gap** is the estimated total minus the persons identified, and the **gap rate** the gap per
100,000 residents where a population is given. Every figure has the estimate's interval (the
bootstrap BCa interval of :func:`tiplab.estimation.estimate`, which repeats the model choice
on every replicate). Strata are ranked by gap and by gap rate — but only those whose estimate
can be trusted: a stratum with too few persons, too few persons seen by two or more agencies,
an estimate that may not exist (a log-linear term at minus infinity), an unbounded interval
or an unrecorded stratum value is **flagged with the reason** and left out of the ranking.

The estimation is the existing one (:mod:`tiplab.estimation`); when heterogeneity-aware
methods are added there, ``GapSettings.method`` selects them here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from tiplab.analysis.errors import AnalysisError
from tiplab.analysis.results import AnalysisResult

#: stratum columns a linked person table carries (tiplab.linkage.persons.person_table)
STRATA = ("region_of_exploitation", "exploitation_form", "sex", "age_band", "year")
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class GapSettings:
    """How the gap is estimated and when a stratum is too weak to rank (JSON round-trip)."""

    by: tuple[str, ...] = ("region_of_exploitation",)
    method: str = "stepwise"
    nboot: int = 200
    seed: int = 1234
    level: float = 0.95
    #: fewer persons than this in a stratum: flagged, not ranked
    min_observed: int = 30
    #: fewer persons seen by two or more agencies: flagged (the overlap MSE works from)
    min_overlap: int = 10
    per: float = 100_000.0
    workers: int = 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["by"] = list(self.by)
        return d


def _overlap(table: Any) -> int:
    on_two = np.array([bin(int(p)).count("1") >= 2 for p in table.patterns], dtype=bool)
    return int(table.counts[on_two].sum()) if on_two.size else 0


def _flag(key: dict[str, Any], observed: int, overlap: int, result: Any, error: str | None,
          s: GapSettings) -> str:
    """Why a stratum is not ranked ("" when it is)."""
    missing = [c for c, v in key.items() if v is None]
    if missing:
        return (f"{', '.join(missing)} not recorded: these persons are not comparable with "
                "the other strata")
    if error:
        return f"not estimable: {error}"
    if observed < s.min_observed:
        return f"too few persons ({observed} < {s.min_observed})"
    if overlap < s.min_overlap:
        return (f"too few persons seen by two or more agencies ({overlap} < {s.min_overlap}):"
                " the overlap the estimate rests on is too thin")
    if result.minus_infinity_terms:
        return ("the estimate may not exist: a pattern of agencies never seen together "
                f"({', '.join(result.minus_infinity_terms)}) drives it")
    hi = result.interval[1]
    if hi is None or not math.isfinite(hi):
        return "the interval has no upper bound"
    if result.fit.get("converged") is False:
        return (f"the sampler's chains did not converge (R-hat {result.fit['rhat']:.2f}, "
                f"{result.fit['ess']:.0f} effective draws): run longer before ranking it")
    return ""


def _population_lookup(population: pa.Table | None, by: tuple[str, ...]) -> dict[Any, float]:
    """Population per stratum: the population table's key is the first ``by`` column it has
    (``region``/``code``/``region_of_exploitation``), or a ``(region, year)`` pair."""
    if population is None:
        return {}
    cols = population.column_names
    region_col = next((c for c in ("region_of_exploitation", "region", "code") if c in cols),
                      None)
    if region_col is None or "population" not in cols:
        raise AnalysisError("the population table needs a region (or code) column and a "
                            f"population column; it has {', '.join(cols)}")
    if "region_of_exploitation" not in by:
        return {}
    out: dict[Any, float] = {}
    years = population.column("year").to_pylist() if "year" in cols else None
    for i, (r, n) in enumerate(zip(population.column(region_col).to_pylist(),
                                   population.column("population").to_pylist(), strict=True)):
        out[(r, years[i]) if years is not None else r] = float(n) if n is not None else math.nan
    return out


def detection_gap(persons: Any, settings: GapSettings | None = None, *,
                  population: pa.Table | None = None, data_version: str | None = None,
                  unit: dict[str, Any] | None = None) -> AnalysisResult:
    """Estimated minus identified victims per stratum, with intervals and ranks.

    Parameters
    ----------
    persons : a linked person table (Arrow table or Parquet/CSV path): one row per person,
        ``sources`` (the agencies that recorded the person) and the stratum columns.
    settings : :class:`GapSettings`.
    population : optional table with ``region`` (or ``code``) and ``population`` (and
        ``year``): adds the gap per ``settings.per`` residents for strata by region.

    Returns
    -------
    AnalysisResult of kind ``detection_gap`` with table ``gaps`` (one row per stratum:
    identified, estimate and its interval, gap and its interval, gap rate, ``reliable``,
    ``flag``, ``rank_gap``, ``rank_rate``) and ``extra["total"]`` (all strata pooled).
    """
    from tiplab.estimation import CaptureTable, EstimationError, estimate

    s = settings or GapSettings()
    if not s.by:
        raise AnalysisError("choose at least one stratum column (by), e.g. "
                            "region_of_exploitation")
    try:
        tables = CaptureTable.from_person_table(persons, by=list(s.by))
    except EstimationError as e:
        raise AnalysisError(str(e)) from e
    kw: dict[str, Any] = {"seed": s.seed, "level": s.level, "workers": s.workers}
    pops = _population_lookup(population, s.by)
    rows: list[dict[str, Any]] = []
    # per-stratum sparse-table warnings would repeat, once per stratum and on stderr, what
    # the flag column says; they are silenced here and summarised in the notes below
    quiet = _Quiet()
    logging.getLogger("tiplab.estimation").addFilter(quiet)
    try:
        _strata(tables, s, kw, pops, rows)
    finally:
        logging.getLogger("tiplab.estimation").removeFilter(quiet)
    _rank(rows, "gap", "rank_gap")
    _rank(rows, "gap_rate", "rank_rate")
    table = pa.Table.from_pylist(rows)
    notes = list(tables.warnings)
    flagged = sum(1 for r in rows if not r["reliable"])
    if flagged:
        notes.append(f"{flagged} of {len(rows)} strata are flagged (see the flag column) and "
                     "not ranked")
    total = estimate(tables.total(), s.method, nboot=s.nboot, **kw)
    extra = {"total": {"identified": total.observed, "estimate": total.estimate,
                       "estimate_low": total.interval[0], "estimate_high": total.interval[1],
                       "gap": total.estimate - total.observed, "model": str(total.model)},
             "lists": list(tables.lists)}
    result = AnalysisResult(kind="detection_gap", tables={"gaps": table},
                            data_version=data_version or "unversioned",
                            parameters=s.to_dict(), notes=notes, extra=extra)
    if unit is not None:
        result.unit = dict(unit)
    return result



class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.WARNING


def _strata(tables: Any, s: GapSettings, kw: dict[str, Any],
            pops: dict[Any, float], rows: list[dict[str, Any]]) -> None:
    """One row per stratum: estimate (bootstrap only for strata strong enough to rank)."""
    from tiplab.estimation import EstimationError, estimate

    for key_tuple, table in tables.items():
        key = dict(zip(s.by, key_tuple, strict=True))
        observed = int(table.n)
        overlap = _overlap(table)
        # a stratum too thin to rank gets its point estimate and the model-conditional
        # interval only: bootstrapping it would cost time for a figure that is flagged anyway
        weak = observed < s.min_observed or overlap < s.min_overlap
        res, error = None, None
        try:
            reduced, _dropped = table.remove_noninformative_lists()
            res = estimate(reduced, s.method, nboot=0 if weak else s.nboot, **kw)
        except EstimationError as e:
            error = str(e)
        flag = _flag(key, observed, overlap, res, error, s)
        row: dict[str, Any] = {c: (NOT_RECORDED if key[c] is None else key[c]) for c in s.by}
        row.update(identified=observed, seen_by_two_or_more=overlap)
        if res is not None:
            lo, hi = res.interval
            row.update(estimate=float(res.estimate),
                       estimate_low=float(lo) if lo is not None else float(observed),
                       estimate_high=float(hi) if hi is not None else math.inf,
                       model=str(res.model))
            row["gap"] = row["estimate"] - observed
            row["gap_low"] = max(row["estimate_low"] - observed, 0.0)
            row["gap_high"] = row["estimate_high"] - observed
        else:
            row.update(estimate=None, estimate_low=None, estimate_high=None, model=None,
                       gap=None, gap_low=None, gap_high=None)
        pop = math.nan
        if pops and "region_of_exploitation" in s.by:
            region = key["region_of_exploitation"]
            year = key.get("year")
            pop = pops.get((region, year), pops.get(region, math.nan))
        row["population"] = pop

        def rate(v: float | None, pop: float = pop) -> float | None:
            return v / pop * s.per if v is not None and math.isfinite(pop) and pop > 0 else None

        row.update(gap_rate=rate(row["gap"]), gap_rate_low=rate(row["gap_low"]),
                   gap_rate_high=rate(row["gap_high"]), reliable=flag == "", flag=flag)
        rows.append(row)


def _rank(rows: list[dict[str, Any]], column: str, out: str) -> None:
    """1 = the largest value among reliable strata; flagged strata get no rank."""
    ranked = sorted((r for r in rows if r["reliable"] and r.get(column) is not None),
                    key=lambda r: -float(r[column]))
    for r in rows:
        r[out] = None
    for i, r in enumerate(ranked, start=1):
        r[out] = i
