from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def latest_estimate_context(request: Any) -> dict[str, Any]:
    """The estimate of record (a data steward's designation, never simply the last run), as
    identified / estimated / not yet identified (each with its interval); whether newer data
    exist that it does not include; and any linkage or estimation still computing."""
    from tiplab_web.core.access import can, organisation_of
    from tiplab_web.jobs.access import jobs_for
    from tiplab_web.jobs.models import Job
    from tiplab_web.linkage.services import JOB_KIND as LINK_KIND

    from . import record
    from .services import FROM_LINK_KIND, JOB_KIND, method_label

    designation, o = record.headline(organisation_of(request.user))
    run = designation.run if designation is not None else None
    # that a linkage or an estimate is computing is not case data: everyone who sees the
    # estimate hears of it; the Jobs page is linked for those who may follow the job there
    org = organisation_of(request.user)
    pending = [] if org is None else list(
        Job.objects.filter(organisation=org, status__in=Job.ACTIVE,
                           kind__in=(LINK_KIND, JOB_KIND, FROM_LINK_KIND))
        .order_by("created_at")[:3])
    followable = {j.pk for j in jobs_for(request.user).filter(pk__in=[j.pk for j in pending])}
    ctx: dict[str, Any] = {"run": run, "pending": pending, "designation": designation,
                           "jobs_link": bool(pending) and bool(followable),
                           "can_designate": can(request.user, "estimates.designate")}
    if o.get("estimate") is None or not o.get("interval"):
        return {**ctx, "run": None}
    observed, est = o["observed"], o["estimate"]
    lo, hi = o["interval"]
    ctx.update(
        observed=observed, estimate=est, lo=lo, hi=hi,
        hidden=est - observed, hidden_lo=max(lo - observed, 0), hidden_hi=hi - observed,
        level=round(100 * o.get("level", 0.95)), lists=len(o.get("lists", [])),
        share=round(100 * observed / est) if est else None,
        method=method_label(o.get("method", "")),
        freshness=record.freshness(designation) if designation is not None else None,
    )
    return ctx


class EstimatesConfig(AppConfig):
    name = "tiplab_web.estimates"
    label = "estimates"
    verbose_name = "Estimates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav, panels

        from .services import register_jobs

        register_jobs()

        nav.register(nav.NavItem(key="estimates", label=_("Estimates"),
                                 url_name="estimates:runs", capability="insights.view",
                                 order=40, also=("estimates:*",)))
        panels.register(panels.Panel(
            key="latest_estimate", title=_("Latest estimate of the hidden number"),
            template="estimates/panels/latest.html", capability="insights.view",
            context=latest_estimate_context, order=5))
