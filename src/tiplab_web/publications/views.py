"""Internal pages of publications: releases, versions and their checks, the ledger, briefs.

The public portal is in :mod:`public_views`; views here need a signed-in role.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab.errors import TiplabError
from tiplab.privacy import release as core
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, capability_required

from . import forms, services
from .models import Brief, Release, ReleaseVersion


def _release(request: HttpRequest, number: int) -> Release:
    """A release of the user's organisation (404 for any other: existence does not leak)."""
    try:
        return (services.releases_for(request.user).select_related("ledger", "created_by")
                .get(number=number))
    except Release.DoesNotExist:
        raise Http404 from None


def _version(request: HttpRequest, number: int, version: int) -> ReleaseVersion:
    try:
        return (ReleaseVersion.objects.select_related("release__ledger", "prepared_by",
                                                      "approved_by")
                .get(release__in=services.releases_for(request.user),
                     release__number=number, number=version))
    except ReleaseVersion.DoesNotExist:
        raise Http404 from None


@require_GET
@capability_required("publications.view")
def index(request: HttpRequest) -> HttpResponse:
    releases = services.releases_for(request.user).prefetch_related("versions").select_related(
        "ledger")
    led = services.ledger()
    return render(request, "publications/index.html", {
        "releases": releases, "ledger": led, "spent": services.spent(led),
        "can_prepare": can(request.user, "publications.prepare")})


@require_http_methods(["GET", "POST"])
@capability_required("publications.prepare")
def new_release(request: HttpRequest) -> HttpResponse:
    form = forms.ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spec = form.spec()
            rel = services.create_release(request, title=form.cleaned_data["title"],
                                          description=form.cleaned_data["description"])
            v = services.new_version(request, rel, spec, note=_("First version"))
        except (TiplabError, services.PublicationError) as e:
            form.add_error(None, str(e))
        else:
            return redirect("publications:version", rel.number, v.number)
    return render(request, "publications/new.html", {"form": form, "release": None})


@require_http_methods(["GET", "POST"])
@capability_required("publications.prepare")
def new_version(request: HttpRequest, number: int) -> HttpResponse:
    rel = _release(request, number)
    last = rel.versions.order_by("-number").first()
    initial = forms.ReleaseForm.initial_from(last.spec, rel) if last else None
    form = forms.ReleaseForm(request.POST or None, initial=initial, release=rel)
    if request.method == "POST" and form.is_valid():
        try:
            v = services.new_version(request, rel, form.spec(),
                                     note=form.cleaned_data.get("note", ""))
        except (TiplabError, services.PublicationError) as e:
            form.add_error(None, str(e))
        else:
            return redirect("publications:version", rel.number, v.number)
    return render(request, "publications/new.html", {"form": form, "release": rel})


@require_GET
@capability_required("publications.view")
def release(request: HttpRequest, number: int) -> HttpResponse:
    rel = _release(request, number)
    return render(request, "publications/release.html", {
        "release": rel, "versions": rel.versions.select_related("prepared_by", "approved_by"),
        "can_prepare": can(request.user, "publications.prepare")})


def _preview(v: ReleaseVersion, limit: int = 12) -> list[dict[str, Any]]:
    out = []
    for item in v.items:
        try:
            t = services.item_table(v, item["key"]).slice(0, limit)
        except services.PublicationError as e:
            out.append({"item": item, "error": str(e)})
            continue
        out.append({"item": item, "columns": t.column_names,
                    "rows": [list(r.values()) for r in t.to_pylist()]})
    return out


@require_GET
@capability_required("publications.view")
def version(request: HttpRequest, number: int, version: int) -> HttpResponse:
    v = _version(request, number, version)
    from tiplab_web.jobs.access import job_for_target

    may_see_files = can(request.user, "publications.prepare") or can(
        request.user, "publications.approve") or v.status == "published"
    return render(request, "publications/version.html", {
        "v": v, "release": v.release, "job": job_for_target(request.user, v),
        "preview": _preview(v) if may_see_files and v.items and v.status != "discarded"
        else [],
        "may_see_files": may_see_files,
        "failed_checks": [c for c in v.checks if not c["passed"]],
        "can_approve": can(request.user, "publications.approve"),
        "can_prepare": can(request.user, "publications.prepare"),
        "can_brief": can(request.user, "publications.brief"),
        "four_eyes_blocked": v.prepared_by_id == request.user.pk,
        "briefs": Brief.objects.filter(version=v),
        "ledger_entries": v.ledger_entries.all(),
        "spent": services.spent(v.release.ledger)})


@require_POST
@capability_required("publications.view")
def version_action(request: HttpRequest, number: int, version: int,
                   action: str) -> HttpResponse:
    v = _version(request, number, version)
    try:
        if action == "approve":
            services.approve(request, v)
            messages.success(request, _("Approved and published: %(label)s.")
                             % {"label": v.label})
        elif action == "withdraw":
            services.withdraw(request, v, request.POST.get("reason", ""))
            messages.success(request, _("Withdrawn from the public portal."))
        elif action == "discard":
            services.discard(request, v)
            messages.success(request, _("Discarded."))
        else:
            raise Http404
    except services.PublicationError as e:
        messages.error(request, str(e))
    return redirect("publications:version", number, version)


@require_GET
@capability_required("publications.view")
def download(request: HttpRequest, number: int, version: int, key: str,
             fmt: str) -> HttpResponse:
    v = _version(request, number, version)
    if fmt not in services.FORMATS:
        raise Http404
    if v.status != "published" and not (can(request.user, "publications.prepare")
                                        or can(request.user, "publications.approve")):
        raise PermissionDenied
    try:
        path = services.item_file(v, key, fmt)
    except services.PublicationError:
        raise Http404 from None
    kind = next(i["kind"] for i in v.items if i["key"] == key)
    if kind in ("kanon", "synthetic") or v.status != "published":
        # microdata is one row per person, and drafts have not passed the checks
        record(request, "publications.file_download", v, item=key, format=fmt,
               status=v.status)
    name = f"{v.release.identifier.replace(':', '-')}-v{v.number}-{path.name}"
    return FileResponse(path.open("rb"), content_type=services.FORMATS[fmt], as_attachment=True,
                        filename=name)


@require_GET
@capability_required("publications.view")
def ledger(request: HttpRequest) -> HttpResponse:
    led = services.ledger()
    return render(request, "publications/ledger.html", {
        "ledger": led, "spent": services.spent(led),
        "entries": led.entries.select_related("version__release", "approved_by"),
        "problems": services.verify_ledger(led)})


@require_http_methods(["GET", "POST"])
@capability_required("publications.brief")
def new_brief(request: HttpRequest, number: int, version: int) -> HttpResponse:
    from . import briefs

    v = _version(request, number, version)
    if v.status != "published":
        messages.error(request, _("A brief is written from a published version only: its "
                                  "figures must have passed the disclosure checks."))
        return redirect("publications:version", number, version)
    kind = request.POST.get("kind") or request.GET.get("kind") or "brief"
    b = briefs.create(request, v, kind=kind if kind in Brief.Kind.values else "brief")
    return redirect("publications:brief", b.pk)


def _brief(request: HttpRequest, pk: int) -> Brief:
    try:
        b = Brief.objects.select_related("version__release").get(
            pk=pk, version__release__in=services.releases_for(request.user))
    except Brief.DoesNotExist:
        raise Http404 from None
    return b


@require_http_methods(["GET", "POST"])
@capability_required("publications.view")
def brief(request: HttpRequest, pk: int) -> HttpResponse:
    from . import briefs

    b = _brief(request, pk)
    may_edit = can(request.user, "publications.brief")
    form = forms.NarrativeForm(request.POST or None, brief=b)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            problems = briefs.save_narrative(request, b, form.narrative(),
                                             publish=form.cleaned_data["published"])
            if problems:
                for p in problems:
                    form.add_error(None, p)
            else:
                messages.success(request, _("Saved."))
                return redirect("publications:brief", b.pk)
    return render(request, "publications/brief.html", {
        "brief": b, "v": b.version, "form": form, "may_edit": may_edit,
        "tokens": briefs.tokens(b),
        "filled": [(label, b.narrative.get(key, "")) for key, label in briefs.sections(b.kind)]})


@require_GET
@capability_required("publications.view")
def brief_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    from . import briefs

    b = _brief(request, pk)
    if fmt not in ("pdf", "docx", "html"):
        raise Http404
    try:
        data = briefs.render(b, fmt)
    except TiplabError as e:
        messages.error(request, str(e))
        return redirect("publications:brief", b.pk)
    types = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    resp = HttpResponse(data, content_type=types[fmt])
    if fmt != "html":
        resp["Content-Disposition"] = (f'attachment; filename="{b.get_kind_display()}-'
                                       f'{b.version.label.replace(":", "-")}.{fmt}"')
    else:
        # the brief's own stylesheet and SVG charts are inline: allow inline styles on this
        # response only, in a sandbox (no script, no form, no same-origin access)
        resp._csp_update = {"style-src": "'self' 'unsafe-inline'",  # type: ignore[attr-defined]
                            "sandbox": ""}
    record(request, "publications.brief_render", b, format=fmt)
    return resp


__all__ = ["core"]
