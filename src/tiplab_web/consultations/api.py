"""Consultations in the JSON API (read-only): the consultations the token's owner may see,
one consultation's published contributions with their answers ("you said, we did" as data),
and participation by stakeholder group. Anonymous input appears only once reviewed and
published, as the pages show it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from tiplab.policy import consultation as core
from tiplab_web.api import ERROR_RESPONSES, require

from . import services
from .models import Consultation

router = Router(tags=["consultations"])


class ConsultationOut(Schema):
    id: int
    title: str
    plan: str
    plan_version: int
    plan_revision: int
    opens_on: date
    closes_on: date
    state: str
    parts: list[str]


class ContributionOut(Schema):
    id: int
    part: str
    kind: str
    stakeholder_group: str
    organisation: str | None
    survivor_input: bool
    text: str
    suggested_text: str
    support: int
    oppose: int
    reply_to: int | None
    submitted_at: datetime
    answer: str | None
    reason: str | None
    plan_revision: int | None


def _get(request: HttpRequest, pk: int) -> Consultation:
    found = services.visible_to(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _out(c: Consultation) -> dict[str, Any]:
    return {"id": c.pk, "title": c.title, "plan": c.plan.ident,
            "plan_version": c.revision.version, "plan_revision": c.revision.number,
            "opens_on": c.opens_on, "closes_on": c.closes_on, "state": c.state,
            "parts": [u.key for u in services.units(c)]}


@router.get("", response={200: list[ConsultationOut], **ERROR_RESPONSES},
            summary="The consultations you may see")
def list_consultations(request: HttpRequest) -> Any:
    require(request, "consultations.view")
    return [_out(c) for c in services.visible_to(request.user).select_related("plan",
                                                                               "revision")]


@router.get("/{pk}/contributions", response={200: list[ContributionOut], **ERROR_RESPONSES},
            summary="A consultation's published contributions and their answers")
def contributions(request: HttpRequest, pk: int) -> Any:
    require(request, "consultations.view")
    c = _get(request, pk)
    out = []
    for x in services.published(c).select_related("organisation", "response",
                                                  "response__revision"):
        resp = getattr(x, "response", None)
        out.append({
            "id": x.pk, "part": x.unit, "kind": x.kind, "stakeholder_group": x.group,
            "organisation": x.organisation.name if x.organisation else None,
            "survivor_input": x.survivor, "text": x.body, "suggested_text": x.suggested_text,
            "support": x.support, "oppose": x.oppose, "reply_to": x.parent_id,
            "submitted_at": x.created_at, "answer": resp.outcome if resp else None,
            "reason": resp.reason if resp else None,
            "plan_revision": resp.revision.number if resp and resp.revision else None})
    return out


@router.get("/{pk}/participation", response={200: dict[str, Any], **ERROR_RESPONSES},
            summary="Participation by stakeholder group: who was heard, who was not")
def participation(request: HttpRequest, pk: int) -> Any:
    require(request, "consultations.view")
    return core.as_dict(services.participation(_get(request, pk)))
