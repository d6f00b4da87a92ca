"""Background work of publications: preparing a release version (DP tables, microdata)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.errors import TiplabError

from .models import ReleaseVersion

PREPARE_KIND = "publications.prepare"


def run(ctx: Any) -> dict[str, Any]:
    from . import services

    v = ReleaseVersion.objects.select_related("release__ledger", "prepared_by").get(
        pk=ctx.params["version"])
    if v.status != ReleaseVersion.Status.PREPARING:
        return {"version": v.pk, "status": v.status}
    try:
        v = services.prepare(v)
    except TiplabError as e:
        ReleaseVersion.objects.filter(pk=v.pk).update(status="failed", error=str(e))
        return {"version": v.pk, "error": str(e)}
    return {"version": v.pk, "status": v.status,
            "checks_failed": sum(1 for c in v.checks if not c["passed"])}


def _ended(job: Any) -> None:
    vid = (job.params or {}).get("version")
    if vid:
        ReleaseVersion.objects.filter(pk=vid, status="preparing").update(
            status="failed", error=str(_("The preparation did not finish.")))


def _url(job: Any) -> str | None:
    from django.urls import reverse

    vid = (job.params or {}).get("version")
    v = ReleaseVersion.objects.filter(pk=vid).select_related("release").first()
    return reverse("publications:version", args=[v.release.number, v.number]) if v else None


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=PREPARE_KIND, run=run, label=gettext_lazy("Prepare a release"),
                     retry_safe=True, on_end=_ended, result_url=_url,
                     capability="publications.view"))
