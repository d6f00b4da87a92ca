"""Server time of a plan's page with 200 measures (Django test client).

Usage: .venv/bin/python benchmarks/bench_plan_page.py [--measures 200] [--runs 5] [--json]

Builds a plan of ``--measures`` measures (4 pillars, 10 objectives each; every measure with a
budget line per year and source, two library indicators with targets and one citation of a
legal gap of a stored assessment) on a throw-away test database, signs in a policy officer and
requests the plan page. Reported, around ``client.get`` (the whole request):

* **first view**: the evidence check runs (each citation recomputed against the current
  assessment: one query per citation), then cached;
* **repeat view**: the evidence flags come from the cache (per revision and data version);
* **budget page** and **versions page** (the diff of the last two revisions).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any


def plan_document(measures: int) -> dict[str, Any]:
    pillars = ["prevention", "protection", "prosecution", "partnership"]
    per_objective = max(1, measures // 40)
    objectives, n = [], 0
    for p in pillars:
        for k in range(10):
            ms = []
            for _j in range(per_objective):
                if n >= measures:
                    break
                n += 1
                ms.append({
                    "id": f"M{n}", "title": f"Measure {n}", "type": "training",
                    "lead": "National Police", "partners": ["Shelter NGO"],
                    "start": "2025-01-01", "end": "2028-12-31",
                    "budget": [{"year": y, "source": s, "amount": 10_000 + n}
                               for y in (2025, 2026, 2027, 2028)
                               for s in ("government", "international_aid")],
                    "indicators": [{"indicator": "PROS-03", "baseline": 10,
                                    "targets": {2026: 12, 2028: 15}},
                                   {"indicator": "PART-10", "baseline": 50,
                                    "targets": {2026: 60, 2028: 70}}],
                    "evidence": [{"kind": "legal_gap", "label": "JPN act.recruitment",
                                  "value": 0.0, "data_version": "assessment-old",
                                  "selector": {"country": "JPN", "item": "act.recruitment"}}]})
            objectives.append({"id": f"{p[:4].upper()}{k}", "pillar": p,
                               "title": f"Objective {k} of {p}", "measures": ms})
    return {"id": "bench", "title": "Bench plan", "country": "Utopia", "period": [2025, 2028],
            "objectives": objectives}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--measures", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiplab_web.settings.test")
    os.environ.setdefault("TIPLAB_DATA_DIR", tempfile.mkdtemp(prefix="tiplab-bench-plan-"))
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        import datetime as dt

        from django.contrib.auth import get_user_model

        from tiplab.policy import plan as core
        from tiplab_web.accounts.models import Organisation, Profile
        from tiplab_web.accounts.services import set_roles
        from tiplab_web.assessment.models import LegalAnswer, LegalAssessment
        from tiplab_web.plans import services

        org = Organisation.objects.create(name="Bench", kind=Organisation.Kind.COORDINATOR,
                                          country="ZZ")
        user = get_user_model().objects.create_user(username="bench-policy",
                                                    password="x" * 20)
        Profile.objects.create(user=user, organisation=org)
        set_roles(user, ["policy_officer"])
        a = LegalAssessment.objects.create(organisation=org, country="JPN",
                                           instrument="palermo", instrument_version=1,
                                           date=dt.date(2026, 1, 1), assessor=user)
        LegalAnswer.objects.create(assessment=a, item="act.recruitment", answer="partial")
        t = time.perf_counter()
        doc = core.plan_from_dict(plan_document(args.measures))
        plan = services.create(user, org, doc)
        build = time.perf_counter() - t
        changed = core.load_plan(core.dump_plan(doc))
        changed.measure("M1").title = "Measure 1, revised"
        services.save(user, plan, changed, comment="bench revision")
        client = Client()
        client.force_login(user)
        out: dict[str, Any] = {"measures": args.measures, "runs": args.runs,
                               "build_seconds": round(build, 3)}
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            def get(url: str) -> float:
                t0 = time.perf_counter()
                r = client.get(url)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"{url}: {r.status_code}")
                return ms

            page = reverse("plans:detail", args=[plan.pk])
            firsts, repeats = [], []
            for _ in range(args.runs):
                cache.clear()
                firsts.append(get(page))
                repeats.append(get(page))
            out["plan_page_first_ms"] = round(statistics.median(firsts), 1)
            out["plan_page_repeat_ms"] = round(statistics.median(repeats), 1)
            for name in ("budget", "versions"):
                url = reverse(f"plans:{name}", args=[plan.pk])
                get(url)
                out[f"{name}_page_ms"] = round(statistics.median(
                    get(url) for _ in range(args.runs)), 1)
        if args.json:
            print(json.dumps(out))
        else:
            for k, v in out.items():
                print(f"{k}: {v}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
