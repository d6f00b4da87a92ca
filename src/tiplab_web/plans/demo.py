"""The demo plan (2025-2028) of the synthetic country. It is loaded by ``setup_demo`` with
its citations pending (data version ``demo``); the job ``plans.cite_demo`` cites each one on
the demo's own data — the figure as the analysis pages compute it, its data version and its
parameters — once that evidence exists (trends and hotspots at once; the estimate, the
detection gap and the vulnerability index after their background jobs)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.utils.translation import gettext_lazy

from tiplab.policy import plan as core

from . import evidence, services
from .models import Plan

JOB_KIND = "plans.cite_demo"
#: the data version of a citation not made yet. A pending citation with an empty selector
#: cites the first figure offered (the largest); a selector picks the row whose fields match
PENDING = "demo"


def load(request: Any, org: Any) -> Plan | None:
    """Create the demo plan once (by the demo policy officer) and cite what exists now."""
    doc = core.demo_plan()
    if Plan.objects.filter(organisation=org, ident=doc.id).exists():
        return None
    plan = services.create(request, org, doc, comment="the demo plan", illustrative=True)
    cite_pending(request, plan)
    scenarios(request, plan)
    return plan


def scenarios(request_or_user: Any, plan: Plan) -> None:
    """The demo's two allocation scenarios: the baseline, and the same with at least 8% of
    the money for prosecution (the baseline funds none)."""
    import copy
    from importlib import resources

    import yaml

    from tiplab.policy.funding import allocate_plan

    from .models import AllocationScenario

    user = getattr(request_or_user, "user", request_or_user)
    base = yaml.safe_load(resources.files("tiplab.policy").joinpath(
        "plans", "demo-scenario.yaml").read_text("utf-8"))
    variant = copy.deepcopy(base)
    variant["title"] = "Demo: prosecution at least 8%"
    variant["constraints"]["pillar_shares"].append({"pillar": "prosecution",
                                                    "min_share": 0.08})
    doc = services.current(plan)
    for name, data in (("Baseline", base), ("Prosecution at least 8%", variant)):
        result = allocate_plan(doc, data)
        AllocationScenario.objects.create(
            plan=plan, name=name, yaml=yaml.safe_dump(data, sort_keys=False),
            result=result.to_dict(), created_by=user)


def _pick(c: core.Citation, user: Any) -> core.Citation | None:
    try:
        rows = evidence.candidates(c.kind, user, {k: v for k, v in c.params.items()
                                                  if k in ("by", "unit", "year", "group")})
    except evidence.NoEvidence:
        return None
    if c.kind == "legal_gap":  # the demo plan's legal measure closes a Japanese gap
        rows = [r for r in rows if r.selector.get("country") == "JPN"] or rows
    want = {k: str(v) for k, v in c.selector.items()}
    found = next((r for r in rows if all(str(r.selector.get(k)) == v
                                         for k, v in want.items())), None)
    if found is None:
        return None
    new = found.citation()
    return replace(new, label=f"{c.label}: {found.label}" if c.label else found.label)


def cite_pending(request_or_user: Any, plan: Plan) -> int:
    """Cite every pending demo citation whose evidence exists now; returns how many."""
    user = getattr(request_or_user, "user", request_or_user)
    doc = services.current(plan)
    if not core.editable(doc.status):
        return 0
    done = 0
    for _o, m in doc.measures():
        kept = []
        for c in m.evidence:
            if c.data_version == PENDING:
                new = _pick(c, user)
                if new is not None:
                    kept.append(new)
                    done += 1
                    continue
            kept.append(c)
        m.evidence = kept
    if done:
        services.save(request_or_user, plan, doc,
                      comment=f"{done} citation(s) made on the demo's data")
    return done


def run(ctx: Any) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=ctx.job.owner_id)
    n = 0
    for plan in Plan.objects.filter(illustrative=True):
        n += cite_pending(user, plan)
    return {"cited": n}


def then_cite() -> dict[str, Any]:
    from tiplab_web.jobs.kernel import follow_up

    return follow_up(JOB_KIND, {}, label=str(gettext_lazy("Cite the demo plan's evidence")))


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=JOB_KIND, run=run, label=gettext_lazy("Demo plan: cite evidence"),
                     retry_safe=True, capability="plans.view"))
