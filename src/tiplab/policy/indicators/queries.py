"""Ibis expressions that count the computed indicators' numerators and denominators.

Pure builders (no database touched): :func:`case_query` counts case rows per year (and per
category of one dimension) with one conditional sum per term, so every case-record indicator
of a year comes out of one scan; :func:`aggregate_query` sums aggregate cells per indicator
and year (and category). :mod:`tiplab.policy.indicators.compute` runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from tiplab.policy.indicators.obtaining import Computation, Term

UNKNOWN = "unknown"
DATE = "registration_date"
FORMS = "exploitation_forms"

#: case column(s) behind each dimension (the first present is used; age_group reads several)
DIMENSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "sex": ("sex",),
    "age_group": ("majority_status", "age", "age_band"),
    "age_band": ("age_band",),
    "exploitation_form": (FORMS,),
    "citizenship": ("citizenship",),
    "region": ("region_of_exploitation",),
}

#: HTCDS prs_Gender -> the library's sex standard (female / male / other / unknown)
SEX = {"Feminine": "female", "Masculine": "male", "TransgenderFeminine": "other",
       "TransgenderMasculine": "other", "NonConforming": "other"}
#: aggregate (GLOTIP) sex and age codes -> the same categories
AGG_SEX = {"Female": "female", "Male": "male", "Other": "other", "Unknown": "unknown"}
AGG_AGE = {"0 to 17 years": "child", "18 years or over": "adult", "Unknown": "unknown"}
CHILD_BANDS = ("0-8", "9-17")


def column_name(indicator: str, part: str) -> str:
    """The result column of an indicator's numerator (``num``) or denominator (``den``)."""
    return f"{indicator.replace('-', '_').lower()}__{part}"


def dimension_available(columns: Sequence[str], dimension: str) -> bool:
    return any(c in columns for c in DIMENSION_COLUMNS[dimension])


def dimension_expr(t: ir.Table, dimension: str) -> ir.StringValue:
    """A scalar dimension's category per row (``unknown`` when not reported)."""
    unknown = ibis.literal(UNKNOWN)
    if dimension == "sex":
        if "sex" not in t.columns:
            return unknown
        return t.sex.cast("string").substitute(SEX, else_=unknown)
    if dimension == "age_group":
        out: ir.StringValue = unknown
        # later columns are fallbacks: build from the last one back
        if "age_band" in t.columns:
            out = ibis.ifelse(t.age_band.isin(list(CHILD_BANDS)), "child",
                              ibis.ifelse(t.age_band.notnull(), "adult", out))
        if "age" in t.columns:
            out = ibis.ifelse(t.age < 18, "child", ibis.ifelse(t.age >= 18, "adult", out))
        if "majority_status" in t.columns:
            out = t.majority_status.cast("string").substitute(
                {"Minor": "child", "Adult": "adult"}, else_=out)
        return out
    (col,) = DIMENSION_COLUMNS[dimension]
    if col not in t.columns:
        return unknown
    return t[col].cast("string").fill_null(UNKNOWN)


def _reported(t: ir.Table, dimension: str) -> ir.IntegerValue:
    """1 when the row reports ``dimension`` (a form of exploitation, a known sex, ...)."""
    if dimension == "exploitation_form":
        if FORMS not in t.columns:
            return ibis.literal(0)
        return (t[FORMS].length() > 0).fill_null(False).cast("int64")
    return (dimension_expr(t, dimension) != UNKNOWN).cast("int64")


def _term_expr(t: ir.Table, term: Term) -> ir.IntegerScalar | None:
    if term.kind == "all":
        return t.count()
    if term.kind == "where":
        cond = ibis.literal(True)
        for col, codes in term.where:
            cond = cond & t[col].isin(list(codes)).fill_null(False)
        return cond.cast("int64").sum().fill_null(0)
    if term.kind == "completeness":
        present = [d for d in term.dimensions if dimension_available(t.columns, d)]
        if not present:  # nothing reported: an aggregate that is 0 in every group
            return t.count() * 0
        total: Any = _reported(t, present[0])
        for d in present[1:]:
            total = total + _reported(t, d)
        return total.sum().fill_null(0)  # type: ignore[no-any-return]
    return None  # completeness_cells, estimate terms: derived from n after the query


def case_query(t: ir.Table, computations: Sequence[Computation], *,
               years: Sequence[int] | None = None, dimension: str | None = None,
               requires: Sequence[str] = ()) -> ir.Table:
    """Per year (and ``category`` of ``dimension``): ``n`` (rows), one column per numerator
    and denominator term counted over rows, and ``known__<column>`` (rows where a required
    column is not null).

    ``t`` must already be exploded when ``dimension`` is multi-valued
    (``exploitation_forms`` holding one form per row, null for none).
    """
    x = t.filter(t[DATE].notnull())
    x = x.mutate(year=x[DATE].year().cast("int64"))
    if years is not None:
        x = x.filter(x.year.isin([int(y) for y in years]))
    keys = ["year"]
    if dimension is not None:
        if dimension == "exploitation_form":
            x = x.mutate(category=x[FORMS].cast("string").fill_null(UNKNOWN))
        else:
            x = x.mutate(category=dimension_expr(x, dimension))
        keys.append("category")
    aggs: dict[str, Any] = {"n": x.count()}
    for comp in computations:
        for part, term in (("num", comp.numerator), ("den", comp.denominator)):
            if term is None:
                continue
            e = _term_expr(x, term)
            if e is not None:
                aggs[column_name(comp.indicator, part)] = e
    for col in requires:
        aggs[f"known__{col}"] = x[col].count()
    return x.group_by(keys).agg(**aggs)


def aggregate_query(a: ir.Table, indicators: Sequence[str], *, country: str | None = None,
                    source_agency: str | None = None, dimension: str | None = None
                    ) -> ir.Table:
    """Aggregate cells summed per ``indicator`` and ``year`` (and ``category``): ``exact``
    (null unless every summed cell is exact), ``low``, ``high``, ``cells`` and ``censored``.

    Totals are the cells of dimension ``Total`` with sex and age ``Total``; by ``sex`` the
    cells of each sex with age ``Total`` (and the ``Unknown``/``Unknown`` cell); by
    ``age_group`` the child and adult cells with sex ``Total``; by ``exploitation_form`` the
    cells of dimension ``by form of exploitation``.
    """
    x = a.filter(a.indicator.isin(list(indicators)))
    if country is not None:
        x = x.filter(x.country == country)
    if source_agency is not None:
        x = x.filter(x.source_agency == source_agency)
    if dimension == "exploitation_form":
        x = x.filter((x.dimension == "by form of exploitation") & (x.sex == "Total")
                     & (x.age_group == "Total"))
        x = x.mutate(category=x.category)
    else:
        x = x.filter(x.dimension == "Total")
        if dimension is None:
            x = x.filter((x.sex == "Total") & (x.age_group == "Total"))
        elif dimension == "sex":
            x = x.filter((x.sex != "Total") & ((x.age_group == "Total") | (x.sex == "Unknown")))
            x = x.mutate(category=x.sex.substitute(AGG_SEX, else_=UNKNOWN))
        elif dimension == "age_group":
            x = x.filter((x.sex == "Total") & x.age_group.isin(["0 to 17 years",
                                                                "18 years or over"]))
            x = x.mutate(category=x.age_group.substitute(AGG_AGE, else_=UNKNOWN))
        else:
            raise ValueError(f"aggregates are not broken down by {dimension}")
    low = x.value_low if "value_low" in x.columns else x.value
    high = x.value_high if "value_high" in x.columns else x.value
    censored = (x.censored.fill_null(False) if "censored" in x.columns
                else x.value.isnull())
    x = x.mutate(_low=low.cast("int64"), _high=high.cast("int64"),
                 _cens=censored.cast("int64"), _value=x.value.cast("int64"))
    keys = ["indicator", "year"] + (["category"] if dimension is not None else [])
    g = x.group_by(keys).agg(exact=x._value.sum(), low=x._low.sum(), high=x._high.sum(),
                             cells=x.count(), censored=x._cens.sum())
    return g.mutate(exact=ibis.ifelse(g.censored == 0, g.exact, ibis.null().cast("int64")))
