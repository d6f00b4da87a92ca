"""Themes beside numbers: how many consented notes carry each code, by region, year, source
type or form of exploitation, next to the count of identified victims (case records) for the
same breakdown.

A theme's count is the number of **notes** in which at least one person applied the code (by
hand or by accepting a suggestion); notes without consent to analysis are never counted.
For roles that may not read full notes, counts from 1 to ``TIPLAB_RELEASE_THRESHOLD - 1`` are
shown as "fewer than N", and a row's total is left out when one of its cells is (a total
could otherwise give the hidden cell away).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab_web.core.access import can, organisation_of

from . import services
from .models import Coding, Note

BREAKDOWNS = {
    "region": gettext_lazy("Region"),
    "year": gettext_lazy("Year of interview"),
    "source_type": gettext_lazy("Source"),
    "exploitation_form": gettext_lazy("Form of exploitation"),
}
#: the case-record breakdown of the insights' trends for each (None: no counterpart)
CASE_BREAKDOWN: dict[str, str | None] = {
    "region": "region_of_exploitation", "year": "", "source_type": None,
    "exploitation_form": "exploitation_forms"}


def threshold() -> int:
    return int(getattr(settings, "TIPLAB_RELEASE_THRESHOLD", 5))


def protected_for(user: Any) -> bool:
    return not can(user, "evidence.read_full")


@dataclass(frozen=True)
class Cell:
    n: int
    suppressed: bool

    def shown(self, t: int) -> str:
        return str(_("fewer than %(t)d") % {"t": t}) if self.suppressed else f"{self.n:,}"


@dataclass
class ThemeTable:
    by: str
    columns: list[tuple[str, str]]  # (value, label)
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes_row: list[Cell] = field(default_factory=list)
    protected: bool = False
    threshold: int = 5

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: suppressed cells carry no number."""
        def cell(c: Cell | None) -> Any:
            if c is None:
                return None
            return {"suppressed": True, "below": self.threshold} if c.suppressed else c.n
        return {"by": self.by, "protected": self.protected, "threshold": self.threshold,
                "columns": [v for v, _l in self.columns],
                "notes": [cell(c) for c in self.notes_row],
                "themes": [{"code": r["code"], "label": r["label"], "group": r["group"],
                            "counts": [cell(c) for c in r["cells"]],
                            "total": cell(r["total"])} for r in self.rows]}


def _value(note: Note, by: str) -> str:
    if by == "year":
        return str(note.year or "")
    return str(getattr(note, by) or "")


def _label(value: str, by: str) -> str:
    if not value:
        return str(_("not recorded"))
    if by == "region":
        return services.region_label(value)
    if by == "source_type":
        return str(Note.SourceType(value).label)
    if by == "exploitation_form":
        from tiplab.records.codes import EXPLOITATION_FORMS

        return str(EXPLOITATION_FORMS.get(value, value))
    return value


def theme_counts(user: Any, by: str = "region") -> ThemeTable:
    """Counts of notes per code and breakdown value, protected for ``user`` as needed."""
    if by not in BREAKDOWNS:
        raise services.EvidenceError(_("Unknown breakdown %(b)r.") % {"b": by})
    org = organisation_of(user)
    t, protect = threshold(), protected_for(user)
    notes = {n.pk: n for n in Note.objects.filter(organisation=org, consent_analysis=True)}
    pairs = set(Coding.objects.filter(note_id__in=notes).values_list("note_id", "code"))
    values = sorted({_value(n, by) for n in notes.values()}, key=lambda v: (v == "", v))
    columns = [(v, _label(v, by)) for v in values]

    def cell(n: int) -> Cell:
        return Cell(n, protect and 0 < n < t)

    cb = services.codebook(user)
    meta = {c.key: c for c in cb.codes}
    counts: dict[str, dict[str, int]] = {}
    for note_id, code in pairs:
        v = _value(notes[note_id], by)
        counts.setdefault(code, {}).setdefault(v, 0)
        counts[code][v] += 1
    table = ThemeTable(by, columns, protected=protect, threshold=t)
    per_value: dict[str, int] = {}
    for n in notes.values():
        per_value[_value(n, by)] = per_value.get(_value(n, by), 0) + 1
    table.notes_row = [cell(per_value.get(v, 0)) for v in values]
    order = {k: i for i, k in enumerate(cb.keys())}
    for code in sorted(counts, key=lambda c: (order.get(c, len(order)), c)):
        cells = [cell(counts[code].get(v, 0)) for v in values]
        total_n = sum(counts[code].values())
        total: Cell | None = cell(total_n)
        if any(c.suppressed for c in cells) and not total.suppressed:
            total = None
        c = meta.get(code)
        table.rows.append({"code": code, "label": c.label if c else code,
                           "group": c.group if c else "", "cells": cells, "total": total})
    return table


def theme_total(user: Any, code: str) -> int:
    """Consented notes carrying ``code`` (unprotected: for tests and the command line)."""
    org = organisation_of(user)
    return Coding.objects.filter(note__organisation=org, note__consent_analysis=True,
                                 code=code).values("note_id").distinct().count()


def victim_counts(user: Any, by: str, years: int = 6) -> dict[str, Any]:
    """Identified victims (case records) per year for the same breakdown, from the insights'
    trends (protected for aggregate-only roles as there): ``{"years", "rows", "note"}`` or
    ``{"unavailable": why}``."""
    from tiplab_web.insights import analyses
    from tiplab_web.insights import services as ins

    case_by = CASE_BREAKDOWN.get(by)
    if case_by is None:
        return {"unavailable": str(_("Case records have no counterpart of the source of an "
                                     "interview."))}
    p = analyses.trend_params({"dataset": "cases", "by": case_by})
    try:
        result = analyses.trend_result(p, ins.aggregate_only(user)).value
    except ins.NoData as e:
        return {"unavailable": str(e)}
    series = result.tables["series"].to_pylist()
    all_years = sorted({int(r["year"]) for r in series if r.get("year") is not None})
    shown = all_years[-years:]
    grid: dict[str, dict[int, Any]] = {}
    for r in series:
        key = str(r.get(case_by) or "") if case_by else ""
        if int(r["year"]) not in shown:
            continue
        value = None if r.get("suppressed") or r.get("value") is None else int(r["value"])
        grid.setdefault(key, {})[int(r["year"])] = value
    rows = [{"value": k, "label": _label(k, by) if case_by else str(_("All records")),
             "counts": [grid[k].get(y) for y in shown]}
            for k in sorted(grid, key=lambda v: (v == "", v))]
    return {"years": shown, "rows": rows, "data_version": result.data_version,
            "unit": str(_("case records (victims identified by the agencies)"))}
