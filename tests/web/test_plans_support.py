"""Objects the plans ladder rows and tests need (no tests here)."""

from __future__ import annotations

from typing import Any

from tiplab.policy import plan as core

SMALL = {
    "id": "nap", "title": "Test plan", "country": "Utopia", "period": [2025, 2027],
    "objectives": [{"id": "O1", "pillar": "protection", "title": "Support victims",
                    "measures": [{"id": "M1", "title": "Shelter places", "type": "protection",
                                  "lead": "Shelter NGO",
                                  "budget": [{"year": 2025, "source": "government",
                                              "amount": 100000}],
                                  "indicators": [{"indicator": "PROT-10", "baseline": 10,
                                                  "targets": {2026: 20}}]}]}],
}


def make_plan(user: Any, ident: str = "nap", status: str = "draft") -> Any:
    from tiplab_web.core.access import organisation_of
    from tiplab_web.plans import services
    from tiplab_web.plans.models import Plan

    org = organisation_of(user)
    found = Plan.objects.filter(organisation=org, ident=ident).first()
    if found is not None:
        return found
    doc = core.plan_from_dict({**SMALL, "id": ident, "status": status})
    return services.create(user, org, doc)


def plan_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_plan(user).pk}


def measure_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**plan_kwargs(world, user), "measure": "M1"}


def export_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**plan_kwargs(world, user), "fmt": "yaml"}
