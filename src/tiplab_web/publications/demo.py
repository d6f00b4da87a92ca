"""The demo's release: prepared by the demo analyst once the estimate of record exists,
approved by the demo steward, with an evidence brief written by the demo policy officer.

Chained after the demo's estimate (``setup_demo``): a background job, like the rest of the
demo's evidence, so ``make run`` shows it a minute or two after start-up.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

JOB_KIND = "publications.demo"

DEMO_TITLE = "Identified victims of trafficking, 2015–2024"
#: without an estimate of record (the estimate failed or was withdrawn) the brief says less
DEMO_NARRATIVE_NO_ESTIMATE = {
    "key_messages": "Agencies identified [[identified]] victims over the period.",
}
DEMO_NARRATIVE = {
    "key_messages": (
        "Agencies identified [[identified]] victims over the period. Multiple systems "
        "estimation puts the number of victims, identified or not, at [[estimated]]: about "
        "[[detection_gap]] were never identified by any agency.\n\n"
        "Labour exploitation is identified mostly by labour inspectors; where inspections "
        "were expanded, more victims were found."),
    "introduction": (
        "This brief draws on the case records of the police, the labour inspectorate, NGO "
        "shelters, the hotline, immigration and health services, linked so that a victim known "
        "to several agencies counts once."),
}


def load() -> dict[str, Any] | None:
    """Prepare, approve and brief the demo release (once); returns what was made."""
    from django.contrib.auth import get_user_model

    from tiplab.privacy import release as core

    from . import briefs, forms, services
    from .models import Release

    if Release.objects.filter(title=DEMO_TITLE).exists():
        return None
    users = get_user_model().objects
    analyst = users.filter(username="demo-analyst").first()
    steward = users.filter(username="demo-steward").first()
    policy = users.filter(username="demo-policy").first()
    if analyst is None or steward is None or policy is None:
        return None
    start, end = forms._data_years()
    items = tuple(
        core.ItemSpec(key=p["key"], kind=p["kind"], title=str(p["title"]),
                      dimensions=tuple(p.get("dimensions", ())),
                      columns=tuple(p.get("columns", ())), epsilon=float(p.get("epsilon", 0)),
                      delta=float(p.get("delta", 0)))
        for p in forms.PRESETS if p["key"] != "citizenship_year")
    spec = core.ReleaseSpec(title=DEMO_TITLE, items=items,
                            years=(int(start or 2015), int(end or 2024)),
                            description="Demo release of the synthetic country's case data.")
    rel = services.create_release(analyst, title=DEMO_TITLE, description=spec.description)
    v = services.new_version(analyst, rel, spec, note="First version (demo)",
                             background=False)
    if v.status != "checked":
        return {"release": rel.identifier, "status": v.status,
                "failed": [c["message"] for c in v.checks if not c["passed"]]}
    v = services.approve(steward, v)
    b = briefs.create(policy, v, kind="brief")
    problems = briefs.save_narrative(policy, b, DEMO_NARRATIVE, publish=True)
    if problems:
        problems = briefs.save_narrative(policy, b, DEMO_NARRATIVE_NO_ESTIMATE, publish=True)
    return {"release": rel.identifier, "version": v.number, "brief": b.pk,
            "brief_problems": problems}


def _run(ctx: Any) -> dict[str, Any]:
    return {"made": load()}


def then_release() -> dict[str, Any]:
    from tiplab_web.jobs.kernel import follow_up

    return follow_up(JOB_KIND, {}, label=str(gettext_lazy("Demo: publish the release")))


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=JOB_KIND, run=_run, label=gettext_lazy("Demo: publish the release"),
                     retry_safe=True, capability="publications.view"))
