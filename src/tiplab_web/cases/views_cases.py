"""The case browser: pseudonymised records with filters, every view audited; data stewards
may reveal one record's identifiers after re-entering their password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from tiplab.config import key_dir
from tiplab.keys import load_keyring
from tiplab.records.protect import unseal
from tiplab_web import audit
from tiplab_web.core.access import capability_required
from tiplab_web.core.reauth import require_recent_password

from . import memo
from .access import get_record_for, records_for
from .forms import CaseFilterForm
from .models import CaseRecord, ImportBatch

PAGE_SIZE = 50
#: Fields shown on a record's page, in order (identifiers are sealed and never listed).
RECORD_FIELDS = [
    "record_id", "source_agency", "registration_date", "sex", "age", "age_band",
    "majority_status", "citizenship", "country_of_exploitation", "region_of_exploitation",
    "origin_country", "origin_region", "transit_countries", "exploitation_forms",
    "labour_sectors", "sexual_exploitation_types", "means_of_control", "recruiter_relation",
    "trafficking_status", "case_status",
]
FORMS = ["SexualExploitation", "ForcedLabour", "ForcedCriminality", "ForcedBegging",
         "Servitude", "ForcedMarriage", "OrganRemoval", "Other"]


def _choices(request: HttpRequest) -> dict[str, list[str]]:
    """The filters' choices: the values present in the approved records (per data state)."""
    return memo.per_state("case_filter_choices", _distinct_values, request=request)


def _distinct_values() -> dict[str, list[str]]:
    active = CaseRecord.objects.filter(batch__status=ImportBatch.ACTIVE)

    def distinct(field: str) -> list[str]:
        return sorted(v for v in active.values_list(field, flat=True).distinct() if v)

    return {"source": distinct("source_agency"), "sex": distinct("sex"),
            "age_band": distinct("age_band"), "form": FORMS}


#: what the list shows (``case_list.html``)
LIST_FIELDS = ("record_id", "source_agency", "registration_date", "sex", "age_band",
               "citizenship", "region_of_exploitation", "exploitation_forms", "warnings",
               "batch__batch_id")


class _CountedOnce:
    """A queryset for the paginator whose ``count()`` is cached per data state and filter
    (the total over every approved record costs more than the page itself)."""

    def __init__(self, qs: QuerySet[CaseRecord], request: HttpRequest,
                 data: dict[str, Any]) -> None:
        self.qs, self.request = qs, request
        self.scope = repr(sorted((k, str(v)) for k, v in data.items()))

    def count(self) -> int:
        return memo.per_state("case_count", self.qs.count, scope=self.scope,
                              request=self.request)

    def __getitem__(self, index: Any) -> Any:
        return self.qs[index]

    def __len__(self) -> int:
        return self.count()

    @property
    def ordered(self) -> bool:
        return True


def _filtered(qs: QuerySet[CaseRecord], data: dict[str, Any]) -> QuerySet[CaseRecord]:
    if data.get("batch"):
        qs = qs.filter(batch__batch_id=data["batch"])
    else:
        qs = qs.filter(batch__status=ImportBatch.ACTIVE)
    if data.get("source"):
        qs = qs.filter(source_agency=data["source"])
    if data.get("year"):
        qs = qs.filter(registration_date__year=data["year"])
    if data.get("sex"):
        qs = qs.filter(sex=data["sex"])
    if data.get("age_band"):
        qs = qs.filter(age_band=data["age_band"])
    if data.get("citizenship"):
        qs = qs.filter(citizenship__iexact=data["citizenship"])
    if data.get("region"):
        qs = qs.filter(region_of_exploitation__iexact=data["region"])
    if data.get("form"):
        # JSON list stored as text: match the quoted code (works on SQLite and PostgreSQL).
        qs = qs.filter(exploitation_forms__icontains=f'"{data["form"]}"')
    if data.get("has_warnings"):
        qs = qs.exclude(Q(warnings=[]) | Q(warnings__isnull=True))
    return qs.order_by(data.get("sort") or "-registration_date", "id")


@require_GET
@capability_required("cases.view")
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None, choices=_choices(request))
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound and valid else {}
    qs = _filtered(records_for(request.user), data)
    if not valid:
        qs = qs.none()  # an unknown filter value matches nothing (the form shows why)
    # the listed columns only: not the sealed identifiers, of no use here
    qs = qs.only(*LIST_FIELDS)
    page = Paginator(_CountedOnce(qs, request, data), PAGE_SIZE).get_page(request.GET.get("page"))
    used = {k: v for k, v in data.items() if v not in (None, "", False)}
    audit.record(request, "cases.view", None, page="list", filter=used,
                 page_number=page.number, shown=len(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "cases/case_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "total": page.paginator.count,
    })


def _record_context(record: CaseRecord) -> dict[str, Any]:
    from tiplab_web.core.labels import label

    fields = []
    for name in RECORD_FIELDS:
        value = getattr(record, name)
        words = label(value, name)
        code = ", ".join(str(v) for v in value) if isinstance(value, list) else value
        # the words, and the stored code beside them where they differ
        shown = words if code in (None, "", words) else f"{words} ({code})"
        fields.append((CaseRecord._meta.get_field(name).verbose_name, shown))
    return {"record": record, "fields": fields, "batch": record.batch,
            "warnings": record.warnings or []}


@require_GET
@capability_required("cases.view")
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_record_for(request.user, pk)
    audit.record(request, "cases.view", record, page="record", batch=record.batch.batch_id)
    return render(request, "cases/case_detail.html", _record_context(record))


@never_cache
@require_http_methods(["GET", "POST"])
@capability_required("cases.reveal_identifiers")
@require_recent_password()
def case_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirmation page. POST: unseal this record's identifiers in memory and show them
    once (never cached), audited with the record id."""
    record = get_record_for(request.user, pk)
    if request.method == "GET":
        return render(request, "cases/case_reveal_confirm.html", {"record": record})
    keyring = load_keyring(key_dir(Path(settings.DATA_DIR)))
    identifiers = unseal(bytes(record.identity_sealed) if record.identity_sealed else None,
                         keyring, record.source_agency, record.record_id)
    audit.record(request, "cases.reveal_identifiers", record, record_id=record.record_id,
                 source=record.source_agency, fields=sorted(identifiers))
    ctx = _record_context(record)
    ctx["identifiers"] = sorted(identifiers.items())
    ctx["revealed"] = True
    response = render(request, "cases/case_detail.html", ctx)
    response["Cache-Control"] = "no-store, max-age=0"
    response["Pragma"] = "no-cache"
    return response
