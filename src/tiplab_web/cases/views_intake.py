"""Data intake: upload, profile, preview, confirm (a background job), history, rejects,
supersede. Agency reporters work on their own agency's data only (404 for the rest)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab.errors import DuplicateBatchError, ProfileError, TiplabError
from tiplab.ingest.infer import infer_profile
from tiplab.store import run_import
from tiplab_web import audit
from tiplab_web.core.access import can
from tiplab_web.core.exports import download
from tiplab_web.core.reauth import require_recent_password
from tiplab_web.core.usererrors import for_page

from . import jobs, review, services
from .access import batches_for, get_batch_for, intake_required, own_agency
from .forms import INFER, UPLOAD, IntakeForm, ProfileTextForm, ReplaceFileForm
from .models import ImportBatch

log = logging.getLogger("tiplab.web.cases")


def _meta_or_404(request: HttpRequest, upload_id: str) -> dict[str, Any]:
    meta = services.read_meta(upload_id, request.user.pk)
    if meta is None:
        raise Http404
    return meta


def _source_for(request: HttpRequest, form: IntakeForm) -> str | None:
    agency = own_agency(request.user)
    if agency is not None:
        return agency
    return form.cleaned_data.get("source_agency") or None


def _start_upload(request: HttpRequest, form: IntakeForm) -> HttpResponse:
    data = form.cleaned_data
    choice = data["profile"]
    text: str | None = None
    label = ""
    if choice == UPLOAD:
        raw = data["profile_file"].read()
        text, label = raw.decode("utf-8", errors="replace"), data["profile_file"].name
    elif choice != INFER:
        known = services.known_profiles()[choice]
        text, label = known.text, known.key
    supersede = form.fixed_supersede or data.get("supersede") or None
    try:
        upload_id = services.new_upload(request.user.pk, data["file"], profile_text=text,
                                        profile_label=label, source=_source_for(request, form),
                                        supersede=supersede)
    except services.UploadError as e:
        form.add_error("file", str(e))
        return render(request, "cases/intake.html", {"form": form}, status=400)
    if choice in (UPLOAD, INFER):
        return redirect("cases:intake_profile", upload_id=upload_id)
    return redirect("cases:intake_preview", upload_id=upload_id)


@require_http_methods(["GET", "POST"])
@intake_required
def intake(request: HttpRequest) -> HttpResponse:
    form = IntakeForm(request.user, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        return _start_upload(request, form)
    return render(request, "cases/intake.html", {
        "form": form, "agency": own_agency(request.user),
        "recent": batches_for(request.user)[:5]}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@intake_required
def intake_profile(request: HttpRequest, upload_id: str) -> HttpResponse:
    """Edit (or draft from the file) the profile, and validate it."""
    meta = _meta_or_404(request, upload_id)
    error: ProfileError | None = None
    if request.method == "POST":
        form = ProfileTextForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["text"].replace("\r\n", "\n")
            try:
                services.parse(text, "edited profile")
            except ProfileError as e:
                error = e
            else:
                services.write_meta(upload_id, {**meta, "profile_text": text,
                                                "profile_label": "edited profile"})
                return redirect("cases:intake_preview", upload_id=upload_id)
    else:
        text = meta.get("profile_text")
        drafted = False
        if not text:
            try:
                text = infer_profile(meta["path"])
                drafted = True
            except TiplabError as e:
                messages.error(request, for_page(e, files=services.display_names(meta)))
                text = ""
        form = ProfileTextForm(initial={"text": text})
        if drafted:
            messages.info(request, _("A draft profile was inferred from the file. Check every "
                                     "mapping, then validate it."))
    return render(request, "cases/intake_profile.html", {
        "form": form, "meta": meta, "upload_id": upload_id, "error": error,
    }, status=422 if error else 200)


@require_GET
@intake_required
def intake_preview(request: HttpRequest, upload_id: str) -> HttpResponse:
    """Validate without storing anything and show the problems in context."""
    meta = _meta_or_404(request, upload_id)
    if not meta.get("profile_text"):
        return redirect("cases:intake_profile", upload_id=upload_id)
    ctx: dict[str, Any] = {"meta": meta, "upload_id": upload_id,
                           "replace_form": ReplaceFileForm()}
    names = services.display_names(meta)
    try:
        profile = services.parse(meta["profile_text"], meta["profile_label"])
        _, prepared = run_import(services.store(), meta["path"], profile, meta.get("source"),
                                 supersede=meta.get("supersede"), dry_run=True)
    except DuplicateBatchError as e:
        ctx["error"], ctx["earlier_batch"] = for_page(e, files=names), e.batch_id
    except ProfileError as e:
        ctx["error"], ctx["profile_error"] = for_page(e, files=names), e
    except TiplabError as e:
        ctx["error"] = for_page(e, files=names)
    else:
        ctx["preview"] = services.build_preview(prepared)
    return render(request, "cases/intake_preview.html", ctx, status=200)


@require_POST
@intake_required
def intake_replace(request: HttpRequest, upload_id: str) -> HttpResponse:
    """Upload a corrected file in place of the previewed one (same profile and options)."""
    meta = _meta_or_404(request, upload_id)
    form = ReplaceFileForm(request.POST, request.FILES)
    if form.is_valid():
        services.replace_file(upload_id, meta, form.cleaned_data["file"])
        messages.success(request, _("Corrected file uploaded; here is its new preview."))
    else:
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
    return redirect("cases:intake_preview", upload_id=upload_id)


@require_POST
@intake_required
def intake_confirm(request: HttpRequest, upload_id: str) -> HttpResponse:
    """Queue the import (all of the file or nothing) as a background job and follow it."""
    meta = _meta_or_404(request, upload_id)
    if not meta.get("profile_text"):
        return redirect("cases:intake_profile", upload_id=upload_id)
    if meta.get("supersede"):
        get_batch_for(request.user, meta["supersede"])  # still visible to this user?
    job = jobs.start(request, upload_id, meta)
    return redirect("jobs:detail", job_id=job.pk)


@require_GET
@intake_required
def batches(request: HttpRequest) -> HttpResponse:
    qs = batches_for(request.user).select_related("supersedes", "superseded_by")
    status = request.GET.get("status", "")
    if status in dict(ImportBatch.STATUS):
        qs = qs.filter(status=status)
    return render(request, "cases/batches.html", {"batches": qs[:500], "status": status,
                                                  "statuses": ImportBatch.STATUS})


@require_GET
@intake_required
def batch(request: HttpRequest, batch_id: str) -> HttpResponse:
    b = get_batch_for(request.user, batch_id)
    issues = list(b.issues.all()[:200])
    protected_fields = set(services.CASE_SCHEMA.protected)
    for i in issues:
        if i.field in protected_fields or i.column == "(line)":
            i.value = services.REDACTED if i.value else i.value
    audit.record(request, "cases.view", b, page="batch")
    try:
        superseded_by = b.superseded_by
    except ImportBatch.DoesNotExist:
        superseded_by = None
    top = max(b.reasons.values(), default=1) if b.reasons else 1
    reasons = [{"code": c, "count": n, "pct": round(100 * n / top),
                "description": services.REASONS.get(c, "")}
               for c, n in sorted(b.reasons.items(), key=lambda kv: -kv[1])]
    reviewing = b.status == ImportBatch.SUBMITTED and can(request.user, "submissions.review")
    return render(request, "cases/batch.html", {
        "batch": b, "issues": issues, "issue_total": b.issues.count(),
        "superseded_by": superseded_by, "reasons": reasons,
        "reviewing": reviewing, "impact": review.impact(b) if reviewing else None,
    })


@require_GET
@intake_required
@require_recent_password()
def batch_rejects(request: HttpRequest, batch_id: str) -> HttpResponse:
    """The rejected rows as CSV, identifier columns redacted (a bulk export: re-auth, audit)."""
    b = get_batch_for(request.user, batch_id)
    return download(request, services.rejects_csv(b), filename=f"rejects-{b.batch_id}.csv",
                    action="cases.export_rejects", obj=b, rows=b.rejected)


@require_http_methods(["GET", "POST"])
@intake_required
@require_recent_password()
def batch_supersede(request: HttpRequest, batch_id: str) -> HttpResponse:
    """Upload a corrected file that will replace this batch (preview first, then confirm)."""
    b = get_batch_for(request.user, batch_id)
    if b.status != ImportBatch.ACTIVE:
        messages.error(request, _("Only an active batch can be superseded."))
        return redirect("cases:batch", batch_id=b.batch_id)
    form = IntakeForm(request.user, request.POST or None, request.FILES or None,
                      fixed_supersede=b.batch_id,
                      initial={"source_agency": b.source_agency})
    if request.method == "GET":
        match = next((p.key for p in services.known_profiles().values()
                      if p.key.split(":", 1)[1] == b.profile_name), None)
        if match:
            form.initial["profile"] = match
    if request.method == "POST" and form.is_valid():
        return _start_upload(request, form)
    return render(request, "cases/supersede.html", {"form": form, "batch": b,
                                                    "action": reverse("cases:batch_supersede",
                                                                      args=[b.batch_id])},
                  status=400 if form.errors else 200)
