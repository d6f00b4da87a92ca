"""Compute the library's computable indicators for one data version.

:func:`compute` evaluates every computed indicator (``computation.yaml``) for each year, and
for each category of the dimensions asked for, from case records (an analytics
:class:`~tiplab.engine.Engine`, an Ibis or Arrow table, a Parquet path), aggregate
statistics and, for the detection gap rate, an estimated total per year given as input. The
case-record indicators of a year come out of one DuckDB scan (one more per dimension); the
aggregate ones out of one query over the aggregate cells.

Values are raw: a value resting on fewer than ``threshold`` persons is flagged ``small``
(the disclosure rule of :mod:`tiplab.privacy.disclosure`), never suppressed here; a caller
that publishes applies :func:`tiplab.privacy.protect_counts` or withholds flagged values.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from tiplab import __version__
from tiplab.policy.indicators.obtaining import (
    AGGREGATES,
    CASE_RECORDS,
    COMPUTED,
    DIMENSIONS,
    ESTIMATE,
    MULTI_VALUED,
    SUBMITTED,
    SURVEY,
    Computation,
    IndicatorError,
    mapping,
)
from tiplab.policy.indicators.queries import (
    DATE,
    FORMS,
    aggregate_query,
    case_query,
    column_name,
    dimension_available,
)
from tiplab.privacy.disclosure import DEFAULT_THRESHOLD

log = logging.getLogger("tiplab.policy.indicators")

GLOTIP = "UNODC GLOTIP"
AGGREGATE_DIMENSIONS = ("sex", "age_group", "exploitation_form")
ALIASES = {"form": "exploitation_form", "exploitation_forms": "exploitation_form",
           "age": "age_group", "majority_status": "age_group",
           "region_of_exploitation": "region"}


@dataclass(frozen=True)
class IndicatorValue:
    """One computed value: an indicator in a year, overall or for one category.

    ``dimension``/``category`` are None for the total. ``n`` is the number of case rows
    (persons or records, see :attr:`IndicatorValues.unit`) behind the value, or of aggregate
    cells summed. ``small``: a count behind the value is between 1 and ``threshold - 1``
    (publish it only after disclosure control). ``censored``: an aggregate cell was
    published as a bound ('<5'), so ``value`` is null and ``low``-``high`` bound it.
    """

    indicator: str
    year: int
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str
    n: int
    dimension: str | None = None
    category: str | None = None
    small: bool = False
    censored: bool = False
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IndicatorStatus:
    """Whether an indicator was computed, and if not, why."""

    indicator: str
    name: str
    how: str
    source: str
    formula: str
    computed: bool
    reason: str | None = None
    years: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["years"] = list(self.years)
        d["notes"] = list(self.notes)
        return d


@dataclass
class IndicatorValues:
    """The computed indicators of one data version.

    ``values``: every value (totals first, then each dimension's categories); ``status``:
    one entry per indicator asked for, with the reason when it could not be computed;
    ``unit``: what the case-record counts count (records, or persons of a designated link
    run); ``parameters``: what was asked, so the figures can be recomputed.
    """

    data_version: str
    parameters: dict[str, Any]
    values: list[IndicatorValue]
    status: dict[str, IndicatorStatus]
    unit: dict[str, Any] = field(default_factory=lambda: {"unit": "records"})
    notes: list[str] = field(default_factory=list)

    @property
    def computed(self) -> list[str]:
        return [k for k, s in self.status.items() if s.computed]

    @property
    def reasons(self) -> dict[str, str]:
        """Indicator -> why it was not computed."""
        return {k: s.reason for k, s in self.status.items() if s.reason is not None}

    def get(self, indicator: str, year: int, dimension: str | None = None,
            category: str | None = None) -> IndicatorValue | None:
        for v in self.values:
            if (v.indicator == indicator and v.year == year and v.dimension == dimension
                    and v.category == category):
                return v
        return None

    def series(self, indicator: str, dimension: str | None = None) -> list[IndicatorValue]:
        return [v for v in self.values if v.indicator == indicator
                and v.dimension == dimension]

    def to_table(self) -> pa.Table:
        rows = [v.to_dict() for v in self.values]
        schema = pa.schema([
            ("indicator", pa.string()), ("year", pa.int64()), ("value", pa.float64()),
            ("numerator", pa.float64()), ("denominator", pa.float64()), ("unit", pa.string()),
            ("n", pa.int64()), ("dimension", pa.string()), ("category", pa.string()),
            ("small", pa.bool_()), ("censored", pa.bool_()), ("low", pa.float64()),
            ("high", pa.float64())])
        return pa.Table.from_pylist(rows, schema=schema)

    def to_frame(self) -> pd.DataFrame:
        return self.to_table().to_pandas()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "indicators", "data_version": self.data_version,
                "unit": dict(self.unit), "parameters": dict(self.parameters),
                "tiplab_version": __version__, "notes": list(self.notes),
                "status": [s.to_dict() for s in self.status.values()],
                "values": [{k: _finite(x) for k, x in v.to_dict().items()}
                           for v in self.values]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def to_text(self) -> str:
        unit = self.unit.get("unit", "records")
        lines = [f"indicators (data version {self.data_version}; counting {unit})"]
        for s in self.status.values():
            head = f"{s.indicator} {s.name} [{s.how}{', ' + s.source if s.source else ''}]"
            if not s.computed:
                lines.append(f"{head}: not computed: {s.reason}")
                continue
            lines.append(head)
            for v in self.values:
                if v.indicator != s.indicator:
                    continue
                what = f"{v.dimension}={v.category}" if v.dimension else "total"
                flags = [f for f, on in (("small", v.small), ("censored", v.censored)) if on]
                lines.append(f"  {v.year} {what:<32} {_fmt(v)}"
                             + (f"  ({', '.join(flags)})" if flags else ""))
            lines += [f"  note: {n}" for n in s.notes]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _finite(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _fmt(v: IndicatorValue) -> str:
    if v.value is None:
        if v.low is not None and v.high is not None:
            return f"{v.low:g}-{v.high:g} {v.unit}"
        return "-"
    num = f"{v.value:,.1f}" if v.unit == "percent" else f"{v.value:,.0f}"
    ratio = (f" = {v.numerator:,.0f} / {v.denominator:,.0f}"
             if v.denominator is not None and v.numerator is not None else "")
    return f"{num} {v.unit}{ratio}"


# --- input checks ----------------------------------------------------------------------------

def indicator_info(indicator: str) -> tuple[str, str, str]:
    """(name, unit, how obtained) of a library or extra indicator."""
    from tiplab.policy.indicators import library

    m = mapping()
    if indicator in m.extra:
        e = m.extra[indicator]
        return str(e.get("name", indicator)), str(e.get("unit", "")), COMPUTED
    lib = library()
    if indicator not in lib:
        ids = sorted([*lib.indicators, *m.extra])
        raise IndicatorError(f"unknown indicator {indicator!r}; the library has {len(ids)} "
                             f"ids such as {', '.join(ids[:3])} (tiplab indicators list)")
    ind = lib[indicator]
    how = (COMPUTED if indicator in m.computations else
           SURVEY if indicator in m.survey else SUBMITTED)
    return ind.name, ind.unit, how


def _dimensions(by: str | Iterable[str] | None) -> tuple[str, ...]:
    if by is None:
        return ()
    items = [by] if isinstance(by, str) else list(by)
    out: list[str] = []
    for raw in items:
        for d in (p.strip() for p in str(raw).split(",")):
            if not d:
                continue
            d = ALIASES.get(d, d)
            if d not in DIMENSIONS:
                raise IndicatorError(f"cannot disaggregate by {raw!r}; use one of "
                                     f"{', '.join(DIMENSIONS)}")
            if d not in out:
                out.append(d)
    return tuple(out)


def _years(years: Iterable[int] | None) -> tuple[int, ...] | None:
    if years is None:
        return None
    try:
        out = tuple(sorted({int(y) for y in years}))
    except (TypeError, ValueError) as e:
        raise IndicatorError(f"years must be whole years such as 2018; got {years!r}") from e
    if not out:
        raise IndicatorError("no year asked for: give at least one year, or none for all")
    return out


def parse_years(text: str) -> tuple[int, ...]:
    """``2018-2024``, ``2020`` or ``2018,2020`` -> the years (for the CLI and web forms)."""
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        a, sep, b = part.partition("-")
        try:
            lo, hi = int(a), int(b) if sep else int(a)
        except ValueError:
            raise IndicatorError(f"cannot read years {text!r}; write e.g. 2018-2024 or "
                                 "2018,2020") from None
        if hi < lo:
            raise IndicatorError(f"years {part!r} run backwards; write {hi}-{lo}")
        out.extend(range(lo, hi + 1))
    if not out:
        raise IndicatorError("no year given; write e.g. 2018-2024")
    return tuple(out)


# --- the computation -------------------------------------------------------------------------

@dataclass
class _Run:
    threshold: int
    status_notes: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    values: list[IndicatorValue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, ind: str, text: str) -> None:
        self.status_notes.setdefault(ind, []).append(text)

    def small(self, *counts: float | None) -> bool:
        return any(c is not None and 0 < c < self.threshold for c in counts)


def compute(source: Any, *, indicators: Iterable[str] | None = None,
            years: Iterable[int] | None = None, by: str | Iterable[str] | None = None,
            aggregates: Any = None, estimates: Mapping[int, float] | None = None,
            country: str | None = None, threshold: int = DEFAULT_THRESHOLD,
            data_version: str | None = None) -> IndicatorValues:
    """Compute the library's computable indicators for each year of one data version.

    Parameters
    ----------
    source : a :class:`tiplab.engine.Engine` (its case records, counted in its unit —
        persons when opened with ``unit="persons"`` or ``"auto"`` and a link run is
        designated — and its aggregate statistics), an Ibis or Arrow table or a Parquet path
        of case records, or None (aggregates and estimates only).
    indicators : ids to compute (default: every computed one). A submitted or survey
        indicator is reported as not computed, with the reason; an unknown id raises
        :class:`IndicatorError`.
    years : the years wanted (default: every year of the data). Years outside the data get
        no value; asking only for such years raises :class:`IndicatorError`.
    by : dimension(s) of :data:`DIMENSIONS` ("sex", ...); each is computed on its own,
        beside the totals. A dimension an indicator is not defined for is noted in its
        status.
    aggregates : aggregate statistics when ``source`` is not an Engine (Ibis/Arrow table or
        Parquet path with the aggregate schema's columns); overrides an Engine's.
    estimates : estimated total victims per year (the estimate of record or a detection-gap
        result) for the detection gap rate ``TL-GAP-01``.
    country : ISO3 code of the aggregate cells to use when they cover several countries.
    threshold : smallest count published without disclosure control; smaller non-zero
        counts are flagged ``small`` (not suppressed).
    data_version : overrides the source's data version (files read by the CLI).

    Assumptions: case counts are by year of ``registration_date``; a record with several
    forms of exploitation counts under each form, so the form categories can add up to more
    than the total; every other dimension's categories (with ``unknown``) add up to it.
    """
    from tiplab.analysis.source import resolve, unit_of
    from tiplab.policy.indicators import computations

    m = mapping()
    if indicators is None:
        wanted = list(computations())
    else:
        wanted = list(dict.fromkeys(str(i).strip() for i in indicators))
        if not wanted:
            raise IndicatorError("no indicator asked for; give ids or none for all")
    infos = {i: indicator_info(i) for i in wanted}
    dims = _dimensions(by)
    yrs = _years(years)
    run = _Run(threshold=threshold)
    comps = [m.computations[i] for i in wanted if infos[i][2] == COMPUTED]
    for i in wanted:
        how = infos[i][2]
        if how == SUBMITTED:
            run.reasons[i] = ("submitted by an agency in a reporting round; tiplab holds no "
                              "data to compute it from")
        elif how == SURVEY:
            run.reasons[i] = "comes from a survey; tiplab holds no data to compute it from"

    from tiplab.engine import Engine

    t: ir.Table | None = None
    version = data_version
    unit: dict[str, Any] = {"unit": "records"}
    if source is not None:
        t, version = resolve(source, "case", data_version)
        unit = unit_of(source)
        if isinstance(source, Engine) and not source.snapshot.files("case"):
            t = None
    agg: ir.Table | None = None
    if aggregates is not None:
        agg, _ = resolve(aggregates, "aggregate")
    elif isinstance(source, Engine) and source.snapshot.files("aggregate"):
        agg = source.aggregates
    version = version or "unversioned"

    units = {i: infos[i][1] for i in wanted}
    case_span = _case_part(run, source, t, [c for c in comps if c.source == CASE_RECORDS],
                           [c for c in comps if c.source == ESTIMATE], yrs, dims, units,
                           estimates or {}, unit)
    agg_years = _aggregate_part(run, agg, [c for c in comps if c.source == AGGREGATES],
                                yrs, dims, units, country)
    if yrs is not None and not run.values and comps:
        covered = []
        if case_span:
            covered.append(f"case records {case_span[0]}-{case_span[-1]}")
        if agg_years:
            covered.append(f"aggregates {min(agg_years)}-{max(agg_years)}")
        if covered:
            raise IndicatorError(
                f"no value in {_span_text(yrs)}: the years asked for are outside the data "
                f"({'; '.join(covered)}); choose years within it")

    status: dict[str, IndicatorStatus] = {}
    for i in wanted:
        name, _unit, how = infos[i]
        comp = m.computations.get(i)
        got = sorted({v.year for v in run.values if v.indicator == i})
        reason = run.reasons.get(i)
        if reason is None and not got and how == COMPUTED:
            reason = f"no value in {_span_text(yrs)}" if yrs else "no data to compute it from"
        status[i] = IndicatorStatus(
            indicator=i, name=name, how=how, source=comp.source if comp else "",
            formula=comp.formula if comp else "", computed=reason is None,
            reason=reason, years=tuple(got), notes=tuple(run.status_notes.get(i, ())))
    params = {"indicators": wanted, "years": list(yrs) if yrs else None, "by": list(dims),
              "country": country, "threshold": threshold,
              "estimates": {int(k): float(v) for k, v in (estimates or {}).items()} or None}
    log.debug("indicators %s: %d values", wanted, len(run.values))
    return IndicatorValues(data_version=version, parameters=params, values=run.values,
                           status=status, unit=unit, notes=run.notes)


def _span_text(yrs: Sequence[int] | None) -> str:
    if not yrs:
        return "the data"
    return str(yrs[0]) if len(yrs) == 1 else f"{yrs[0]}-{yrs[-1]}"


def _execute(expr: ir.Table) -> pd.DataFrame:
    from tiplab.analysis.source import execute

    df: pd.DataFrame = execute(expr).to_pandas()
    return df


def _case_part(run: _Run, source: Any, t: ir.Table | None, comps: list[Computation],
               gaps: list[Computation], yrs: tuple[int, ...] | None,
               dims: tuple[str, ...], units: dict[str, str],
               estimates: Mapping[int, float], unit: dict[str, Any]) -> list[int]:
    """Case-record indicators (and the estimate-based ones, which need the yearly count).
    Returns the years the case records span."""
    if not comps and not gaps:
        return []
    if t is None or DATE not in t.columns:
        why = ("no case records: import some (tiplab import) or pass a table"
               if t is None else f"the case records have no column {DATE}")
        for c in [*comps, *gaps]:
            run.reasons[c.indicator] = why
        return []
    ok: list[Computation] = []
    for c in comps:
        needed = [*c.requires, *(col for term in (c.numerator, c.denominator) if term
                                 for col, _ in term.where)]
        missing = [col for col in dict.fromkeys(needed) if col not in t.columns]
        if missing:
            run.reasons[c.indicator] = (f"the case records have no column "
                                        f"{', '.join(missing)}")
        else:
            ok.append(c)
    requires = sorted({col for c in ok for col in c.requires})
    total = _execute(case_query(t, ok, requires=requires))
    if total.empty:
        for c in [*comps, *gaps]:
            run.reasons.setdefault(c.indicator, "no case record has a registration date")
        return []
    span = list(range(int(total.year.min()), int(total.year.max()) + 1))
    sel = [y for y in span if yrs is None or y in yrs]
    if yrs is not None:
        outside = [y for y in yrs if y not in span]
        if outside:
            run.notes.append(f"the case records cover {span[0]}-{span[-1]}: no case-record "
                             f"value for {_span_text(outside)}")
    total = total.set_index("year").reindex(sel, fill_value=0)
    for c in ok:
        for col in c.requires:
            if sel and int(total[f"known__{col}"].sum()) == 0:
                run.reasons[c.indicator] = (
                    f"no case record registered in {_span_text(sel)} reports {col} (the "
                    "field is empty in every record)")
    ok = [c for c in ok if c.indicator not in run.reasons]
    for c in ok:
        missing_years = []
        for y in sel:
            row = total.loc[y]
            # a year with records none of which reports the field has no value; a year
            # without records is a zero
            if int(row["n"]) > 0 and any(int(row[f"known__{col}"]) == 0
                                         for col in c.requires):
                missing_years.append(y)
                continue
            run.values.append(_case_value(run, c, y, row, units[c.indicator]))
        if missing_years:
            run.note(c.indicator, f"no value for {', '.join(map(str, missing_years))}: no "
                                  f"record of those years reports {', '.join(c.requires)}")
        if c.requires:
            n_all, known = int(total.n.sum()), int(sum(total[f"known__{col}"].sum()
                                                       for col in c.requires[:1]))
            if known < n_all:
                run.note(c.indicator, f"{n_all - known} of {n_all} records do not report "
                                      f"{c.requires[0]} and count as not meeting it")
    for dim in dims:
        with_dim = [c for c in ok if dim in c.disaggregations]
        for c in ok:
            if dim not in c.disaggregations:
                run.note(c.indicator, f"not disaggregated by {dim}: the formula does not "
                                      "define it")
        if not with_dim or not sel:
            continue
        if not dimension_available(t.columns, dim):
            for c in with_dim:
                run.note(c.indicator, f"not disaggregated by {dim}: the case records have no "
                                      f"column for it")
            continue
        x = t
        if dim in MULTI_VALUED:
            from tiplab.analysis.flat import flat_for

            x = flat_for(source, t).explode(FORMS)
        df = _execute(case_query(x, with_dim, years=sel, dimension=dim))
        cats = sorted(df.category.unique()) if not df.empty else []
        grid = pd.MultiIndex.from_product([sel, cats], names=["year", "category"])
        df = df.set_index(["year", "category"]).reindex(grid, fill_value=0)
        for c in with_dim:
            for (y, cat), row in df.iterrows():
                run.values.append(_case_value(run, c, int(y), row, units[c.indicator],
                                              dim, str(cat)))
            if dim in MULTI_VALUED:
                run.note(c.indicator, f"by {dim}: a record with several forms counts under "
                                      "each, so the categories can add up to more than the "
                                      "total")
    for c in gaps:
        _gap_values(run, c, total, sel, estimates, units[c.indicator], unit)
    return span


def _case_value(run: _Run, c: Computation, year: int, row: pd.Series, unit: str,
                dimension: str | None = None, category: str | None = None) -> IndicatorValue:
    n = int(row["n"])
    num = _term_value(c, "num", row, n)
    den = _term_value(c, "den", row, n) if c.denominator is not None else None
    if den is None:
        value = None if num is None else c.scale * num
    else:
        value = c.scale * num / den if (num is not None and den > 0) else None
    # what a reader could learn a few persons from: a count published as the numerator, and
    # the rows a share is taken of
    counts: list[float | None] = [num if c.numerator.counts_rows else None]
    if c.denominator is not None:
        counts.append(den if c.denominator.counts_rows else n)
    return IndicatorValue(indicator=c.indicator, year=year, value=value, numerator=num,
                          denominator=den, unit=unit, n=n, dimension=dimension,
                          category=category, small=run.small(*counts))


def _term_value(c: Computation, part: str, row: pd.Series, n: int) -> float | None:
    term = c.numerator if part == "num" else c.denominator
    assert term is not None
    if term.kind == "all":
        return float(n)
    if term.kind == "completeness_cells":
        return float(n * len(term.dimensions))
    return float(row[column_name(c.indicator, part)])


def _gap_values(run: _Run, c: Computation, total: pd.DataFrame, sel: list[int],
                estimates: Mapping[int, float], unit: str, counted: dict[str, Any]) -> None:
    if not estimates:
        run.reasons[c.indicator] = ("no estimate of the total number of victims was given: "
                                    "pass the estimate of record per year (estimates=, CLI "
                                    "--estimate YEAR=N)")
        return
    years = [y for y in sel if y in estimates]
    if not years:
        have = sorted(int(y) for y in estimates)
        run.reasons[c.indicator] = (f"no estimate for {_span_text(sel)} (estimates given for "
                                    f"{', '.join(map(str, have))})")
        return
    for y in years:
        est = float(estimates[y])
        if not math.isfinite(est) or est <= 0:
            raise IndicatorError(f"the estimate for {y} is {estimates[y]!r}; an estimated "
                                 "total must be a positive number")
        identified = int(total.loc[y, "n"])
        run.values.append(IndicatorValue(
            indicator=c.indicator, year=y, value=c.scale * (est - identified) / est,
            numerator=est - identified, denominator=est, unit=unit, n=identified,
            small=run.small(identified)))
        if identified > est:
            run.note(c.indicator, f"{y}: more identified ({identified}) than estimated "
                                  f"({est:g}); the gap is negative — check the estimate")
    if counted.get("unit") != "persons":
        run.note(c.indicator, "identified counts records, not persons (no designated link "
                              "run): duplicates make the gap look smaller")


def _aggregate_part(run: _Run, agg: ir.Table | None, comps: list[Computation],
                    yrs: tuple[int, ...] | None, dims: tuple[str, ...],
                    units: dict[str, str], country: str | None) -> list[int]:
    """Aggregate-statistics indicators. Returns the years with cells."""
    if not comps:
        return []
    if agg is None:
        for c in comps:
            run.reasons[c.indicator] = (
                "no aggregate statistics: import GLOTIP-style aggregates (tiplab import FILE "
                "--profile glotip) or pass them")
        return []
    needed = sorted({n for c in comps for t in (c.numerator, c.denominator) if t
                     for n in [t.ref]})
    cols = {"indicator", "dimension", "category", "sex", "age_group", "year", "country",
            "value"}
    missing = sorted(cols - set(agg.columns))
    if missing:
        for c in comps:
            run.reasons[c.indicator] = (f"the aggregate statistics have no column "
                                        f"{', '.join(missing)}")
        return []
    present = _execute(agg.filter(agg.indicator.isin(needed)).select(
        "country", "source_agency" if "source_agency" in agg.columns else "indicator"
    ).distinct())
    countries = sorted(str(x) for x in present["country"].dropna().unique())
    chosen = country
    if chosen is None and len(countries) > 1:
        for c in comps:
            run.reasons[c.indicator] = (
                f"the aggregate statistics cover {len(countries)} countries "
                f"({', '.join(countries[:5])}{', ...' if len(countries) > 5 else ''}); choose "
                "one (country=, CLI --country ISO3)")
        return []
    if chosen is None and countries:
        chosen = countries[0]
    source_agency = None
    if "source_agency" in agg.columns:
        agencies = sorted(str(x) for x in present.loc[
            present.country == chosen, "source_agency"].dropna().unique())
        if len(agencies) > 1:
            source_agency = GLOTIP if GLOTIP in agencies else agencies[0]
            run.notes.append(f"aggregate cells come from {', '.join(agencies)}; those of "
                             f"{source_agency} were used")
    total = _execute(aggregate_query(agg, needed, country=chosen,
                                     source_agency=source_agency))
    years_with_cells = sorted(int(y) for y in total.year.unique())
    if chosen is not None:
        run.notes.append(f"aggregate statistics of {chosen}")
    for c in comps:
        _aggregate_values(run, c, total, yrs, units[c.indicator], None, country=chosen)
    for dim in dims:
        for c in comps:
            if dim not in c.disaggregations:
                run.note(c.indicator, f"not disaggregated by {dim}: the aggregate statistics "
                                      "do not break it down so")
        with_dim = [c for c in comps if dim in c.disaggregations
                    and c.indicator not in run.reasons]
        if not with_dim or dim not in AGGREGATE_DIMENSIONS:
            continue
        df = _execute(aggregate_query(agg, needed, country=chosen,
                                      source_agency=source_agency, dimension=dim))
        for c in with_dim:
            _aggregate_values(run, c, df, yrs, units[c.indicator], dim, country=chosen)
    return years_with_cells


def _aggregate_values(run: _Run, c: Computation, df: pd.DataFrame,
                      yrs: tuple[int, ...] | None, unit: str, dimension: str | None,
                      country: str | None) -> None:
    num_ref = c.numerator.ref
    den_ref = c.denominator.ref if c.denominator is not None else None
    keys = ["year"] + (["category"] if dimension else [])
    num = df[df.indicator == num_ref].set_index(keys)
    den = df[df.indicator == den_ref].set_index(keys) if den_ref else None
    idx = num.index if den is None else num.index.intersection(den.index)
    if yrs is not None:
        idx = idx[[int(k[0] if isinstance(k, tuple) else k) in yrs for k in idx]]
    if dimension is None and len(idx) == 0:
        if c.indicator not in run.reasons:
            have = ", ".join(sorted({num_ref, *([den_ref] if den_ref else [])}))
            where = f" of {country}" if country else ""
            run.reasons[c.indicator] = (f"no aggregate cells{where} for {have}"
                                        + (f" in {_span_text(yrs)}" if yrs else ""))
        return
    for key in sorted(idx):
        y = int(key[0] if isinstance(key, tuple) else key)
        cat = str(key[1]) if dimension and isinstance(key, tuple) else None
        a = num.loc[key]
        n_exact, n_lo, n_hi = _opt(a["exact"]), float(a["low"]), float(a["high"])
        cells = int(a["cells"])
        censored = int(a["censored"]) > 0
        if den is None:
            v = None if n_exact is None else c.scale * n_exact
            lo, hi = c.scale * n_lo, c.scale * n_hi
            d_exact = None
        else:
            b = den.loc[key]
            d_exact, d_lo, d_hi = _opt(b["exact"]), float(b["low"]), float(b["high"])
            cells += int(b["cells"])
            censored = censored or int(b["censored"]) > 0
            v = (c.scale * n_exact / d_exact
                 if n_exact is not None and d_exact is not None and d_exact > 0 else None)
            lo = c.scale * n_lo / d_hi if d_hi > 0 else math.nan
            hi = c.scale * n_hi / d_lo if d_lo > 0 else math.inf
        run.values.append(IndicatorValue(
            indicator=c.indicator, year=y, value=v, numerator=n_exact, denominator=d_exact,
            unit=unit, n=cells, dimension=dimension, category=cat, censored=censored,
            low=_finite(lo) if censored else None, high=_finite(hi) if censored else None))


def _opt(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)
