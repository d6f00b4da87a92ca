"""Server time of a plan's scorecard: 200 measures and 400 indicators with approved values
(Django test client, throw-away test database).

Usage: .venv/bin/python benchmarks/bench_scorecard.py [--measures 200] [--rounds 6]
       [--runs 5] [--json]

The plan is ``bench_plan_page``'s (each measure with two library indicators, baselines and
targets); ``--rounds`` approved reporting rounds (2025, 2026-Q1 … ) each hold a value for every
indicator of every measure (one agency form per round, written through the models as an
approved form would be). Reported, the median of ``--runs`` requests around ``client.get``
after one warm-up: the scorecard page, its CSV, and the evaluation index; and the scorecard
page's first view of a plan revision in a process (its document parsed, then kept: revisions
never change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
from decimal import Decimal
from typing import Any

from bench_plan_page import plan_document


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--measures", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiplab_web.settings.test")
    os.environ.setdefault("TIPLAB_DATA_DIR", tempfile.mkdtemp(prefix="tiplab-bench-card-"))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from tiplab.policy import plan as core
        from tiplab_web.accounts.models import Organisation, Profile
        from tiplab_web.accounts.services import set_roles
        from tiplab_web.monitoring.models import AgencyForm, FormItem, Round, Value
        from tiplab_web.plans import services as plans

        rng = random.Random(3)
        org = Organisation.objects.create(name="Bench", kind="coordinator", country="ZZ")
        police = Organisation.objects.create(name="National Police", kind="police",
                                             country="ZZ")
        user = get_user_model().objects.create_user(username="bench-policy",
                                                    password="x" * 20)
        Profile.objects.create(user=user, organisation=org)
        set_roles(user, ["policy_officer"])
        plan = plans.create(user, org, core.plan_from_dict(plan_document(args.measures)))
        doc = plans.current(plan)
        pairs = [(m.id, mi.indicator) for _o, m in doc.measures() for mi in m.indicators]
        periods = ["2025", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026",
                   "2027-Q1", "2027-Q2"][:args.rounds]
        now = timezone.now()
        t = time.perf_counter()
        for i, period in enumerate(periods):
            rnd = Round.objects.create(plan=plan, period=period, opens_on=dt.date(2025, 1, 1),
                                       deadline=dt.date(2025, 1, 31) + dt.timedelta(days=i),
                                       created_by=user)
            form = AgencyForm.objects.create(round=rnd, organisation=police,
                                             status="approved", decided_at=now,
                                             decided_by=user, first_submitted_at=now,
                                             submitted_at=now, submitted_by=user)
            items = FormItem.objects.bulk_create([
                FormItem(form=form, measure_id=m, indicator_id=ind, name=ind, kind="count")
                for m, ind in pairs])
            Value.objects.bulk_create([
                Value(item=it, value=Decimal(str(round(10 + i * 2 + rng.random() * 5, 2))),
                      updated_by=user, updated_at=now) for it in items])
        seed = time.perf_counter() - t
        client = Client()
        client.force_login(user)
        out: dict[str, Any] = {"measures": args.measures, "indicators": len(pairs),
                               "approved_values": len(pairs) * len(periods),
                               "runs": args.runs, "seed_seconds": round(seed, 2)}
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            def get(url: str) -> float:
                t0 = time.perf_counter()
                r = client.get(url)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"{url}: {r.status_code}")
                return ms

            from tiplab_web.evaluation import services

            card = reverse("evaluation:scorecard", args=[plan.pk])
            firsts = []
            for _ in range(args.runs):  # the plan's revision not parsed yet in this process
                services._parsed.cache_clear()
                firsts.append(get(card + "?year=2026"))
            out["scorecard_first_view_ms"] = round(statistics.median(firsts), 1)
            for name, url in (("scorecard", card + "?year=2026"),
                              ("scorecard_csv", card + "?year=2026&format=csv"),
                              ("index", reverse("evaluation:index"))):
                get(url)
                out[f"{name}_ms"] = round(statistics.median(get(url) for _ in
                                                             range(args.runs)), 1)
        if args.json:
            print(json.dumps(out))
        else:
            for k, v in out.items():
                print(f"{k}: {v}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
