"""The cases app's dashboard panels and menu entries (registered in ``CasesConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tiplab_web.core import nav, panels

from . import memo, review
from .access import batches_for, own_agency
from .models import CaseRecord, ImportBatch, RowIssue
from .store import record_count_by_source_year


def records_by_source(request: HttpRequest) -> dict[str, Any]:
    """A source × year table with a bar per source (inline SVG; no script)."""
    return memo.per_state("records_by_source", _records_by_source, request=request)


def _records_by_source() -> dict[str, Any]:
    rows = record_count_by_source_year()
    years = sorted({y for _, y, _ in rows})
    sources: dict[str, dict[int, int]] = {}
    for agency, year, n in rows:
        sources.setdefault(agency, {})[year] = n
    top = max((sum(v.values()) for v in sources.values()), default=1)
    table = [{"source": s, "counts": [by.get(y, 0) for y in years], "total": sum(by.values()),
              "pct": round(100 * sum(by.values()) / top)} for s, by in sorted(sources.items())]
    return {"years": years, "rows": table}


def freshness(request: HttpRequest) -> dict[str, Any]:
    """Latest registration date and latest import, per source."""
    return memo.per_state("freshness", _freshness, request=request)


def _freshness() -> dict[str, Any]:
    latest_reg = dict(CaseRecord.objects.filter(batch__status=ImportBatch.ACTIVE)
                      .values_list("source_agency").annotate(m=Max("registration_date")))
    imports = (ImportBatch.objects.filter(status=ImportBatch.ACTIVE)
               .values("source_agency").annotate(last=Max("imported_at"), n=Count("id"))
               .order_by("source_agency"))
    return {"rows": [{"source": r["source_agency"], "last_import": r["last"],
                      "batches": r["n"], "latest_registration": latest_reg.get(r["source_agency"])}
                     for r in imports]}


def recent_imports(request: HttpRequest) -> dict[str, Any]:
    return {"batches": list(batches_for(request.user).defer("profile_text", "reasons")[:6])}


def open_problems(request: HttpRequest) -> dict[str, Any]:
    """Warnings and rejects per reason in active batches, with the batches holding the most
    (of the viewer's agency only, for a reporter: the cache is per agency)."""
    agency = own_agency(request.user)
    return memo.per_state("open_problems", lambda: _open_problems(request.user),
                          scope="*" if agency is None else f"agency={agency}", request=request)


def _open_problems(user: Any) -> dict[str, Any]:
    active = batches_for(user).filter(status=ImportBatch.ACTIVE)
    per_reason = (RowIssue.objects.filter(batch__in=active).values("code", "severity")
                  .annotate(n=Count("id"), batches=Count("batch", distinct=True))
                  .order_by("-n")[:10])
    rows = []
    for r in per_reason:
        worst = (RowIssue.objects.filter(batch__in=active, code=r["code"])
                 .values("batch__batch_id").annotate(n=Count("id")).order_by("-n").first())
        rows.append({**r, "worst_batch": worst["batch__batch_id"] if worst else None})
    return {"rows": rows}


#: the pages under "Data intake" (and "Submit data") in the menu
INTAKE_PAGES = ("cases:intake_*", "cases:batches", "cases:batch", "cases:batch_*")


def register() -> None:
    nav.register(nav.NavItem(key="intake", label=_("Data intake"), url_name="cases:intake",
                             capability="cases.import", order=10, also=INTAKE_PAGES))
    nav.register(nav.NavItem(key="submit", label=_("Submit data"), url_name="cases:intake",
                             capability="submissions.create", order=11, also=INTAKE_PAGES))
    nav.register(nav.NavItem(key="cases", label=_("Cases"), url_name="cases:list",
                             capability="cases.view", order=20,
                             also=("cases:detail", "cases:reveal")))
    nav.register(nav.NavItem(key="submissions", label=_("Submissions to review"),
                             url_name="cases:submissions", capability="submissions.review",
                             order=12))
    panels.register(panels.Panel(
        key="submissions_to_review", title=_("Submissions to review"),
        template="cases/panels/submissions.html", capability="submissions.review",
        context=lambda request: {"batches": list(review.pending()[:8]),
                                 "total": review.pending().count()}, order=8))
    panels.register(panels.Panel(
        key="records_by_source", title=_("Records by source and year"),
        template="cases/panels/records_by_source.html", capability="insights.view",
        context=records_by_source, order=10, width="wide"))
    panels.register(panels.Panel(
        key="data_freshness", title=_("Data freshness"),
        template="cases/panels/freshness.html", capability="insights.view",
        context=freshness, order=20))
    panels.register(panels.Panel(
        key="recent_imports", title=_("Recent imports"),
        template="cases/panels/recent_imports.html", capability="cases.import",
        context=recent_imports, order=30))
    panels.register(panels.Panel(
        key="my_submissions", title=_("Your agency's recent submissions"),
        template="cases/panels/recent_imports.html", capability="submissions.view_own",
        context=recent_imports, order=30))
    panels.register(panels.Panel(
        key="open_problems", title=_("Open validation problems"),
        template="cases/panels/open_problems.html", capability="cases.import",
        context=open_problems, order=40))
