"""The audit log page (administrators) and its CSV export (re-authenticated, audited)."""

from __future__ import annotations

import csv
import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tiplab_web.audit import actions
from tiplab_web.audit.forms import AuditFilterForm
from tiplab_web.audit.queries import search
from tiplab_web.core.access import capability_required
from tiplab_web.core.exports import download
from tiplab_web.core.reauth import require_recent_password

PAGE_SIZE = 50
CSV_COLUMNS = [
    "id",
    "created_at",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "ip_address",
    "user_agent",
    "details",
    "prev_hash",
    "hash",
]


def _filters(request: HttpRequest) -> tuple[AuditFilterForm, dict[str, object]]:
    form = AuditFilterForm(request.GET or None)
    return form, (form.cleaned_data if form.is_valid() else {})


@require_GET
@capability_required("audit.view")
def audit_log(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = Paginator(search(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit/log.html", {"form": form, "page": page, "query": query.urlencode()}
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@capability_required("audit.view")
@require_recent_password()
def audit_export(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if request.GET and not form.is_valid():
        return render(request, "audit/log.html", {"form": form, "page": None}, status=400)
    rows = search(filters).order_by("id")
    writer = csv.writer(_Echo())

    def lines():  # streamed: the log can be long
        yield writer.writerow(CSV_COLUMNS)
        for e in rows.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.pk,
                    e.created_at.isoformat(),
                    e.actor_username,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.ip_address or "",
                    e.user_agent,
                    json.dumps(e.details, sort_keys=True),
                    e.prev_hash,
                    e.hash,
                ]
            )

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return download(request, lines(), filename=f"tiplab-audit-{stamp}.csv",
                    action=actions.AUDIT_EXPORTED,
                    filters={k: str(v) for k, v in filters.items() if v}, rows=rows.count())
