"""Plans in the JSON API: read a plan's current document and revisions; replace a draft's
document (a new revision). An adopted version is refused here exactly as on the pages — the
check is in ``services.save``, which every path goes through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from tiplab.policy import plan as core
from tiplab_web.api import ERROR_RESPONSES, ErrorOut, require
from tiplab_web.api_errors import error_response
from tiplab_web.core.access import organisation_of

from . import services
from .models import Plan

router = Router(tags=["plans"])


class PlanOut(Schema):
    id: str
    title: str
    country: str
    status: str
    version: int
    revision: int
    saved_at: datetime
    document: dict[str, Any]


class RevisionOut(Schema):
    revision: int
    version: int
    status: str
    author: str
    saved_at: datetime
    comment: str


def _plan(request: HttpRequest, ident: str) -> Plan:
    from django.http import Http404

    found = Plan.objects.filter(organisation=organisation_of(request.user), ident=ident).first()
    if found is None:
        raise Http404
    return found


def _out(plan: Plan) -> dict[str, Any]:
    rev = services.latest(plan)
    return {"id": plan.ident, "title": plan.title, "country": plan.country,
            "status": rev.status, "version": rev.version, "revision": rev.number,
            "saved_at": rev.created_at, "document": rev.document}


@router.get("", response={200: list[PlanOut], **ERROR_RESPONSES},
            summary="Your organisation's plans with their current documents")
def list_plans(request: HttpRequest) -> Any:
    require(request, "plans.view")
    return [_out(p) for p in Plan.objects.filter(organisation=organisation_of(request.user))]


@router.get("/{ident}", response={200: PlanOut, **ERROR_RESPONSES},
            summary="One plan's current document")
def get_plan(request: HttpRequest, ident: str) -> Any:
    require(request, "plans.view")
    return _out(_plan(request, ident))


@router.get("/{ident}/revisions", response={200: list[RevisionOut], **ERROR_RESPONSES},
            summary="Every revision of a plan")
def plan_revisions(request: HttpRequest, ident: str) -> Any:
    require(request, "plans.view")
    return [{"revision": r.number, "version": r.version, "status": r.status,
             "author": r.author.get_username(), "saved_at": r.created_at,
             "comment": r.comment} for r in services.revisions(_plan(request, ident))]


@router.put("/{ident}", response={**ERROR_RESPONSES, 200: PlanOut, 409: ErrorOut},
            summary="Replace a draft plan's document (a new revision)")
def put_plan(request: HttpRequest, ident: str) -> Any:
    """The body is the plan document as JSON (as ``tiplab plan export --format json`` writes
    it); it is validated whole, and every problem is listed."""
    import json

    require(request, "plans.edit")
    plan = _plan(request, ident)
    try:
        document = json.loads(request.body or b"null")
    except ValueError as e:
        return error_response(422, "invalid_json", f"the body is not JSON: {e}")
    try:
        doc = core.plan_from_dict(document)
    except core.PlanError as e:
        return error_response(422, "invalid_plan", str(e))
    try:
        services.save(request, plan, doc, comment="saved through the API")
    except services.PlanServiceError as e:
        return error_response(409, "not_editable", str(e))
    return _out(plan)
