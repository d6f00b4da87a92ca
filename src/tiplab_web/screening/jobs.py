"""Background work of screening: one job screens one batch (``screening.run``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.errors import TiplabError

RUN_KIND = "screening.run"


def run(ctx: Any) -> dict[str, Any]:
    from tiplab_web.jobs.kernel import JobFailure

    from . import services
    from .models import ScreeningBatch

    batch = ScreeningBatch.objects.filter(pk=ctx.params["batch"]).first()
    if batch is None:
        raise JobFailure(_("This screening batch no longer exists."))
    if batch.status == ScreeningBatch.Status.DONE:
        return {"batch": batch.pk, "status": batch.status}
    try:
        batch = services.run_batch(batch, progress=ctx.progress)
    except (TiplabError, services.ScreeningError) as e:
        services.fail_batch(batch.pk, str(e))
        raise JobFailure(str(e), batch=batch.pk) from e
    return {"batch": batch.pk, "status": batch.status, "texts": batch.screened,
            "flagged": batch.flagged, "rejected": batch.rejected, "method": batch.method}


def _ended(job: Any) -> None:
    from . import services

    bid = (job.params or {}).get("batch")
    if bid:
        services.fail_batch(bid, job.error or str(_("The screening did not finish.")))


def _url(job: Any) -> str | None:
    from django.urls import reverse

    from .models import ScreeningBatch

    bid = (job.params or {}).get("batch")
    return reverse("screening:batch", args=[bid]) if ScreeningBatch.objects.filter(
        pk=bid).exists() else None


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=RUN_KIND, run=run, label=gettext_lazy("Screen texts"),
                     retry_safe=True, on_end=_ended, result_url=_url,
                     capability="screening.view"))
