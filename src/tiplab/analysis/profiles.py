"""Victim profiles and trafficker tactics: cross-tabulations with CTDC's denominator rule.

CTDC codebook rule (shared/reference/case_data_standards.md s. 4): flags are "set or not
reported" - a blank means *not reported*, not *no*. For a group of flags (means of control,
forms of exploitation, labour sectors, sexual-exploitation types, recruiter relation) only
records with at least one flag of the group count towards that group's percentages; within
those records an unset flag counts as 0. Records can carry several flags, so shares add up to
more than 100%.

Here a flag group is a list column (``means_of_control`` …: a record's flags are the list's
values (the importer stores
each code once); an empty or null list is "not reported") or a single-code column
(``recruiter_relation``: null or ``Unknown`` is "not reported"). Each cell of the breakdown
(``by``: e.g. sex x age band, or form of exploitation) has its own denominator. A list column
in ``by`` is exploded: a record with two forms is in both forms' rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.analysis.flat import OFFSET, ExprFlat, Flat, explode_expr, flat_for
from tiplab.analysis.results import AnalysisResult
from tiplab.analysis.source import execute, is_list, require, resolve, unit_of
from tiplab.analysis.stats import poisson_ci  # noqa: F401  (re-exported for notebooks)
from tiplab.privacy import DisclosureRule, protect_grouped

NOT_REPORTED = ("Unknown", "NonSpecifiedUnknown", "")
MISSING = "(not reported)"

FLAG_GROUPS = ("means_of_control", "exploitation_forms", "labour_sectors",
               "sexual_exploitation_types", "recruiter_relation")


@dataclass(frozen=True)
class ProfileSettings:
    """One flag group, broken down by zero or more columns."""

    group: str = "means_of_control"
    by: tuple[str, ...] = ()
    start: int | None = None
    end: int | None = None
    date_column: str = "registration_date"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["by"] = list(self.by)
        return d


def _prepare(t: ir.Table, s: ProfileSettings, flat: Flat) -> ir.Table:
    """One row per record x breakdown cell x flag (``_flag`` null when none is reported);
    ``_first`` marks one row per record x cell, the rows that count records."""
    require(t, s.group, *s.by)
    if s.start is not None or s.end is not None:
        require(t, s.date_column)
    lists = [c for c in s.by if is_list(t, c) and c != s.group]
    if is_list(t, s.group):
        # The importer stores each record's codes once (list_distinct) and only valid codes,
        # so the list's elements are the record's flags.
        x = flat.explode(s.group)
        x = x.mutate(_flag=x[s.group], _first=x[OFFSET] == 0)
    else:
        x = flat.explode(lists.pop(0)) if lists else t
        g = x[s.group]
        x = x.mutate(_flag=ibis.ifelse(g.isin(list(NOT_REPORTED)), ibis.null(g.type()), g),
                     _first=ibis.literal(True))
    if s.start is not None or s.end is not None:
        yr = x[s.date_column].year()
        if s.start is not None:
            x = x.filter(yr >= s.start)
        if s.end is not None:
            x = x.filter(yr <= s.end)
    x = x.select(*s.by, "_flag", "_first")
    for col in lists:
        x = explode_expr(x, col, offset=None)
    for col in s.by:
        if x[col].type().is_string():
            # Joins do not match nulls; name the missing category instead.
            x = x.mutate(**{col: x[col].fill_null(MISSING)})
    return x


def profile_queries(t: ir.Table, s: ProfileSettings, flat: Flat | None = None
                    ) -> tuple[ir.Table, ir.Table]:
    """Ibis expressions: flag counts per cell, and the CTDC denominator per cell."""
    x = _prepare(t, s, flat or ExprFlat(t))
    by = list(s.by)
    firsts = x.filter(x._first)
    cells = {"denominator": ibis._._flag.notnull().sum().cast("int64"),
             "records": ibis._.count()}
    denom = firsts.group_by(by).agg(**cells) if by else firsts.agg(**cells)
    flagged = x.filter(x._flag.notnull()).rename(flag="_flag")
    counts = flagged.group_by([*by, "flag"]).agg(n=ibis._.count())
    return counts, denom


def profiles(source: Any, settings: ProfileSettings | None = None, *,
             protect: DisclosureRule | None = None,
             data_version: str | None = None) -> AnalysisResult:
    """Share of records with each flag of ``settings.group`` per breakdown cell (CTDC rule).

    Returns an AnalysisResult with table ``profile``: the ``by`` columns, ``flag``, ``n``
    (records with the flag), ``denominator`` (records with at least one flag of the group in
    that cell), ``records`` (all records in the cell), ``share`` = n / denominator and
    ``reported`` = denominator / records.
    """
    s = settings or ProfileSettings()
    t, version = resolve(source, "case", data_version)
    counts_q, denom_q = profile_queries(t, s, flat_for(source, t))
    counts = execute(counts_q)
    denom = execute(denom_q)
    by = list(s.by)
    if by:
        out = counts.join(denom, by, join_type="left outer")
    else:
        d = denom.to_pylist()[0] if denom.num_rows else {"denominator": 0, "records": 0}
        out = counts.append_column("denominator", pa.array([d["denominator"]] * counts.num_rows,
                                                           pa.int64()))
        out = out.append_column("records", pa.array([d["records"]] * counts.num_rows,
                                                    pa.int64()))
    share = pc.divide(pc.cast(out["n"], pa.float64()), pc.cast(out["denominator"], pa.float64()))
    reported = pc.divide(pc.cast(out["denominator"], pa.float64()),
                         pc.cast(out["records"], pa.float64()))
    out = out.append_column("share", share).append_column("reported", reported)
    out = out.select([*by, "flag", "n", "denominator", "records", "share", "reported"])
    out = out.sort_by([*[(b, "ascending") for b in by], ("n", "descending")])
    notes = ["CTDC denominator rule: only records with at least one flag in the group count; "
             "shares can add up to more than 100%"]
    prot = None
    if protect is not None:
        single = not is_list(t, s.group)
        out, prot = protect_grouped(out, "n", groups=by, rule=protect, also=["share"]) \
            if single else _protect_multi(out, protect)
        small = pc.less(out["denominator"], protect.threshold)
        for col in ("denominator", "share", "n"):
            i = out.column_names.index(col)
            out = out.set_column(i, col, pc.if_else(small, pa.scalar(None, out[col].type),
                                                    out[col]))
        out = out.set_column(out.column_names.index("suppressed"), "suppressed",
                             pc.or_(out["suppressed"], small))
        notes.append("cells whose denominator is below the threshold are suppressed whole")
    return AnalysisResult(
        unit=unit_of(source), kind="profiles", tables={"profile": out}, data_version=version,
                          parameters=s.to_dict(), notes=notes, protection=prot)


def _protect_multi(out: pa.Table, rule: DisclosureRule) -> tuple[pa.Table, Any]:
    """Multi-flag groups: counts do not add up to a margin, so primary suppression suffices."""
    from tiplab.privacy.disclosure import DisclosureRule as Rule
    from tiplab.privacy.tables import protect_counts

    primary_only = Rule(threshold=rule.threshold, suppress_zeros=rule.suppress_zeros,
                        secondary=False)
    table, prot = protect_counts(out, "n", rule=primary_only, also=["share"])
    return table, prot.__class__(rule=rule, primary=prot.primary, secondary=0,
                                 margins_suppressed=0)
