"""Screening pages: the batches, an upload, a batch's counts, its review queue, review
actions (htmx) and the flags export. Thin: the rules are in :mod:`services`."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab.errors import TiplabError
from tiplab_web.core.access import can, capability_required
from tiplab_web.core.reauth import require_recent_password

from . import forms, services
from .models import ScreeningBatch, ScreeningItem

PAGE = 25


@require_GET
@capability_required("screening.view")
def index(request: HttpRequest) -> HttpResponse:
    batches = services.batches_for(request.user).select_related("created_by")
    return render(request, "screening/index.html", {
        "batches": batches, "can_run": can(request.user, "screening.run")})


@require_http_methods(["GET", "POST"])
@capability_required("screening.run")
def new(request: HttpRequest) -> HttpResponse:
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        f = d["file"]
        try:
            batch = services.create_batch(
                request, title=d["title"] or "", kind=d["kind"], file_name=f.name,
                data=f.read(), id_column=d["id_column"] or "", text_column=d["text_column"]
                or "", threshold=d["threshold"])
        except services.UploadError as e:
            form.add_error("file", str(e))
        except (TiplabError, services.ScreeningError) as e:
            form.add_error(None, str(e))
        else:
            return redirect("screening:batch", batch.pk)
    return render(request, "screening/new.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


@require_GET
@capability_required("screening.view")
def batch(request: HttpRequest, pk: int) -> HttpResponse:
    from tiplab_web.jobs.access import job_for_target

    b = services.get_batch_for(request.user, pk)
    return render(request, "screening/batch.html", {
        "batch": b, "job": job_for_target(request.user, b),
        "summary": services.summary(b) if b.status == ScreeningBatch.Status.DONE else None,
        "rejected": b.report.get("rejected", [])[:200],
        "can_review": can(request.user, "screening.review")})


@never_cache
@require_GET
@capability_required("screening.view")
def review_queue(request: HttpRequest, pk: int) -> HttpResponse:
    b = services.get_batch_for(request.user, pk)
    code = request.GET.get("code", "").strip()
    status = request.GET.get("status", "").strip()
    page = Paginator(services.queue(b, code=code, status=status), PAGE).get_page(
        request.GET.get("page"))
    items = list(page.object_list)
    texts = services.read_texts(request, b, items)
    links = services.case_links(request.user, items)
    labels = services.code_labels(b)
    rows = [_row(it, texts, links, labels) for it in items]
    summary = services.summary(b)
    return render(request, "screening/queue.html", {
        "batch": b, "page": page, "rows": rows, "code": code, "status": status,
        "codes": summary["by_code"], "statuses": ScreeningItem.Review.choices,
        "can_review": can(request.user, "screening.review"),
        "full_text": services.may_read_full(request.user)})


def _row(it: ScreeningItem, texts: dict[int, str], links: dict[int, int],
         labels: dict[str, str]) -> dict[str, object]:
    return {"item": it, "text": texts.get(it.pk), "case": links.get(it.pk),
            "tags": [{"code": c, "label": labels.get(c, c),
                      "confidence": float(it.confidences.get(c, 0.0))}
                     for c in sorted(it.codes, key=lambda c: -float(it.confidences.get(c, 0)))]}


@require_POST
@capability_required("screening.review")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, dismiss or escalate one flag (htmx: the item's card comes back; without
    JavaScript, the queue)."""
    item = services.get_item_for(request.user, pk)
    form = forms.ReviewForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("Unknown review action.")
    else:
        try:
            services.review(request, item, form.cleaned_data["action"],
                            form.cleaned_data["note"] or "")
        except services.ScreeningError as e:
            error = str(e)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Saved: %(id)s is %(status)s.") % {
                "id": item.external_id, "status": item.get_review_status_display()})
        return redirect(f"{_queue_url(item)}#item-{item.pk}")
    item.refresh_from_db()
    texts = services.read_texts(request, item.batch, [item])
    links = services.case_links(request.user, [item])
    return render(request, "screening/_item.html", {
        "r": _row(item, texts, links, services.code_labels(item.batch)), "batch": item.batch,
        "can_review": True, "full_text": services.may_read_full(request.user),
        "error": error}, status=400 if error else 200)


def _queue_url(item: ScreeningItem) -> str:
    from django.urls import reverse

    return reverse("screening:queue", args=[item.batch_id])


@require_GET
@capability_required("screening.view")
@require_recent_password()
def export(request: HttpRequest, pk: int) -> HttpResponse:
    b = services.get_batch_for(request.user, pk)
    if b.status != ScreeningBatch.Status.DONE:
        raise Http404(_("This batch has not been screened."))
    resp = HttpResponse(services.export_csv(request, b), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="screening-{b.pk}-flags.csv"'
    return resp
