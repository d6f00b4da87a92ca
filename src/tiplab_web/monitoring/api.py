"""Reporting rounds in the JSON API: an agency's systems read the forms their organisation
owes, ``PUT`` values (a draft, checked against every validation rule, all or nothing) and
``POST`` the submission; the plan's organisation reads a round's completeness.

Errors: a value that breaks a rule → 422 ``invalid_values`` with every problem in
``details``; a closed round or a form no longer editable → 409 ``conflict``; another
organisation's form → 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from tiplab_web.api import ERROR_RESPONSES, ErrorOut, require
from tiplab_web.api_errors import error_response

from . import services
from .models import AgencyForm

router = Router(tags=["monitoring"])


class ItemOut(Schema):
    measure: str
    indicator: str
    name: str
    unit: str
    kind: str
    by_sex: bool
    value: float | None
    comment: str
    sex: dict[str, float]
    last_approved: float | None
    last_approved_period: str | None


class FormOut(Schema):
    id: int
    round: int
    plan: str
    period: str
    organisation: str
    opens_on: date
    deadline: date
    round_closed: bool
    status: str
    version: int
    editable: bool
    first_submitted_at: datetime | None
    items: list[ItemOut]


class ValueIn(Schema):
    measure: str
    indicator: str
    #: a number, or null / "" to clear the value
    value: int | float | str | None = None
    comment: str = ""
    #: ``{"female": 3, "male": 5, "other": 0}`` where the indicator is broken down by sex
    by_sex: dict[str, int | float | str | None] = {}


class ValuesIn(Schema):
    values: list[ValueIn]


class SavedOut(Schema):
    form: int
    changed: int
    status: str


class StatusOut(Schema):
    round: int
    plan: str
    period: str
    deadline: date
    closed: bool
    expected: int
    submitted: int
    on_time: int
    approved: int
    returned: int
    completeness: float | None
    timeliness: float | None
    agencies: list[dict[str, Any]]


def _form(request: HttpRequest, pk: int) -> AgencyForm:
    found = services.forms_for(request.user).select_related(
        "round", "round__plan", "organisation").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _out(form: AgencyForm) -> dict[str, Any]:
    items = []
    for r in services.item_rows(form):
        v = r.value
        items.append({
            "measure": r.item.measure_id, "indicator": r.item.indicator_id, "name": r.item.name,
            "unit": r.item.unit, "kind": r.item.kind, "by_sex": r.item.by_sex,
            "value": float(v.value) if v is not None else None,
            "comment": v.comment if v is not None else "",
            "sex": {k: float(x) for k, x in (v.sex if v is not None else {}).items()},
            "last_approved": float(r.previous[1]) if r.previous else None,
            "last_approved_period": r.previous[0] if r.previous else None})
    rnd = form.round
    return {"id": form.pk, "round": rnd.pk, "plan": rnd.plan.ident, "period": rnd.period,
            "organisation": form.organisation.name, "opens_on": rnd.opens_on,
            "deadline": rnd.deadline, "round_closed": rnd.is_closed, "status": form.status,
            "version": form.version, "editable": form.editable and not rnd.is_closed,
            "first_submitted_at": form.first_submitted_at, "items": items}


def _refused(e: services.MonitoringError) -> Any:
    if isinstance(e, services.StateError):
        return error_response(409, message=" ".join(e.messages))
    return error_response(422, "invalid_values", " ".join(e.messages), details=e.messages)


@router.get("/forms", response={200: list[FormOut], **ERROR_RESPONSES},
            summary="The reporting forms you may see (an agency: its own)")
def monitoring_forms(request: HttpRequest) -> Any:
    require(request, "monitoring.view")
    forms = services.forms_for(request.user).select_related(
        "round", "round__plan", "organisation").order_by("round__deadline", "pk")
    return [_out(f) for f in forms]


@router.get("/forms/{pk}", response={200: FormOut, **ERROR_RESPONSES},
            summary="One reporting form: what is owed, the values entered, the state")
def monitoring_form(request: HttpRequest, pk: int) -> Any:
    require(request, "monitoring.view")
    return _out(_form(request, pk))


@router.put("/forms/{pk}/values", response={200: SavedOut, 409: ErrorOut, **ERROR_RESPONSES},
            summary="Save values as a draft (checked whole: all or nothing)")
def monitoring_put_values(request: HttpRequest, pk: int, body: ValuesIn) -> Any:
    require(request, "indicators.submit")
    form = _form(request, pk)
    if not services.may_enter(request.user, form):
        raise Http404
    entries = [services.Entry(v.measure, v.indicator, v.value, v.comment, dict(v.by_sex))
               for v in body.values]
    try:
        changed = services.save_values(request, form, entries, via="api")
    except services.MonitoringError as e:
        return _refused(e)
    form.refresh_from_db()
    return {"form": form.pk, "changed": changed, "status": form.status}


@router.post("/forms/{pk}/submit", response={200: FormOut, 409: ErrorOut, **ERROR_RESPONSES},
             summary="Submit the form for review (read-only until a data steward returns it)")
def monitoring_submit(request: HttpRequest, pk: int) -> Any:
    require(request, "indicators.submit")
    form = _form(request, pk)
    if not services.may_enter(request.user, form):
        raise Http404
    try:
        form = services.submit(request, form, via="api")
    except services.MonitoringError as e:
        return _refused(e)
    return _out(form)


@router.get("/rounds/{pk}/status", response={200: StatusOut, **ERROR_RESPONSES},
            summary="A round's completeness and timeliness, by agency")
def monitoring_round_status(request: HttpRequest, pk: int) -> Any:
    require(request, "monitoring.view")
    rnd = services.rounds_for(request.user).select_related("plan").filter(pk=pk).first()
    if rnd is None:
        raise Http404
    return {"round": rnd.pk, "plan": rnd.plan.ident, "period": rnd.period,
            "deadline": rnd.deadline, "closed": rnd.is_closed,
            **services.completeness(rnd).as_dict()}
