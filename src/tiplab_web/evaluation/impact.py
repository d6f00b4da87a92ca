"""Impact evaluations of plan measures, run on the job kernel: the panel of identified victims
(persons of the designated link run where there is one, else records) by region of
exploitation and year, from the analytics snapshot; the method of ``tiplab.policy.impact``;
the typed result kept as JSON on :class:`~.models.ImpactEvaluation`."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.policy import impact as core
from tiplab_web.audit.services import record

from .models import ImpactEvaluation

JOB_KIND = "evaluation.impact"
REGION = "region_of_exploitation"
METHOD_LABELS = {
    "did": gettext_lazy("Difference-in-differences (two-way fixed effects)"),
    "event": gettext_lazy("Event study (effects by year since the start)"),
    "cs": gettext_lazy("Callaway & Sant'Anna (staggered starts)"),
    "synth": gettext_lazy("Synthetic control (with placebo regions)"),
    "its": gettext_lazy("Interrupted time series (the treated regions only)"),
}


class ImpactRequestError(ValueError):
    """A request that cannot be evaluated, in words for the person who asked."""


def region_panel(unit: str = "persons") -> tuple[pd.DataFrame, str]:
    """``(frame with region, year, identified; data version)`` from the current snapshot."""
    from tiplab.analysis.trends import TrendSettings, trends
    from tiplab_web.insights import services as insights

    insights.require_records("case")
    eng = insights.engine(unit if insights.linkage_available() else "records")
    result = trends(eng, TrendSettings(by=(REGION,), changepoints=False, n_sim=0),
                    data_version=insights.data_version())
    series = result.tables["series"].to_pandas()
    frame = series.rename(columns={REGION: "region", "value": "identified"})[
        ["region", "year", "identified"]]
    frame = frame[frame["region"].notna() & (frame["region"].astype(str) != "")]
    return frame.astype({"year": int, "identified": float}), insights.data_version()


def regions() -> list[str]:
    try:
        frame, _v = region_panel()
    except Exception:
        return []
    return sorted(frame["region"].astype(str).unique())


@transaction.atomic
def start(request: Any, plan: Any, *, measure: str, method: str, treated: list[str],
          start_year: int, unit: str = "persons") -> ImpactEvaluation:
    from tiplab_web.jobs.kernel import submit
    from tiplab_web.plans import services as plans

    if method not in core.METHODS:
        raise ImpactRequestError(_("Choose a method."))
    try:
        plans.current(plan).measure(measure)
    except Exception:
        raise ImpactRequestError(_("The plan has no measure %(m)s.") % {"m": measure}) from None
    if not treated:
        raise ImpactRequestError(_("Choose the regions where the measure started."))
    user = getattr(request, "user", request)
    ev = ImpactEvaluation.objects.create(
        plan=plan, measure=measure, method=method, outcome="identified victims",
        treated=sorted(treated), start=start_year, params={"unit": unit}, created_by=user)
    job = submit(request, JOB_KIND, {"evaluation": ev.pk}, target=ev,
                 label=f"{METHOD_LABELS[method]}: {measure}")
    ImpactEvaluation.objects.filter(pk=ev.pk).update(job_id=str(job.pk))
    record(request, "evaluation.impact", ev, method=method, measure=measure,
           treated=ev.treated, start=start_year)
    ev.refresh_from_db()
    return ev


def run(ctx: Any) -> dict[str, Any]:
    ev = ImpactEvaluation.objects.get(pk=ctx.params["evaluation"])
    try:
        frame, version = region_panel(ev.params.get("unit", "persons"))
        settings = core.ImpactSettings(method=ev.method, unit="region", time="year",  # type: ignore[arg-type]
                                       outcome="identified", treated=tuple(ev.treated),
                                       start=ev.start)
        result = core.evaluate(frame, settings, data_version=version,
                               source="identified victims by region of exploitation")
    except (core.ImpactError, ValueError) as e:
        ImpactEvaluation.objects.filter(pk=ev.pk).update(status="failed", error=str(e))
        return {"evaluation": ev.pk, "error": str(e)}
    ImpactEvaluation.objects.filter(pk=ev.pk).update(
        status="done", result=result.to_dict(), data_version=version, error="")
    return {"evaluation": ev.pk, "estimate": result.estimate}


def _ended(job: Any) -> None:
    ev_id = (job.params or {}).get("evaluation")
    if ev_id:
        ImpactEvaluation.objects.filter(pk=ev_id, status="queued").update(
            status="failed", error=str(_("The job did not finish.")))


def _url(job: Any) -> str | None:
    from django.urls import reverse

    ev_id = (job.params or {}).get("evaluation")
    return reverse("evaluation:impact_detail", args=[ev_id]) if ev_id else None


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=JOB_KIND, run=run, label=gettext_lazy("Impact evaluation"),
                     retry_safe=True, on_end=_ended, result_url=_url,
                     capability="evaluation.view"))
