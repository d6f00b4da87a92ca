"""Review of agency submissions (data stewards): the list awaiting review, approve, return.
The batch page shows the submission's effect on the key figures (``review.impact``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tiplab_web.core.access import capability_required

from . import review
from .access import get_batch_for


@require_GET
@capability_required("submissions.review")
def submissions(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/submissions.html", {"batches": review.pending()[:500]})


@require_POST
@capability_required("submissions.review")
def approve(request: HttpRequest, batch_id: str) -> HttpResponse:
    b = get_batch_for(request.user, batch_id)
    try:
        job = review.approve(request, b)
    except review.ReviewError as e:
        messages.error(request, str(e))
        return redirect("cases:batch", batch_id=b.batch_id)
    return redirect("jobs:detail", job_id=job.pk)


@require_POST
@capability_required("submissions.review")
def return_batch(request: HttpRequest, batch_id: str) -> HttpResponse:
    b = get_batch_for(request.user, batch_id)
    try:
        review.return_to_reporter(request, b, request.POST.get("comment", "")[:4000])
    except review.ReviewError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Batch %(b)s was returned to %(who)s.")
                         % {"b": b.batch_id, "who": b.imported_by})
    return redirect("cases:batch", batch_id=b.batch_id)
