"""A consultation with 5,000 contributions on a plan of 200 measures: page server times and
the "you said, we did" report (Django test client, throw-away test database).

Usage: .venv/bin/python benchmarks/bench_consultation.py [--measures 200]
       [--contributions 5000] [--runs 5] [--json]

Contributions are spread over the measures from six stakeholder groups (a tenth are
amendments with suggested text, a tenth replies, a third answered, one in fifty hidden, two
reactions on every tenth). Reported, each the median of ``--runs`` requests around
``client.get`` (the whole request): the consultation's overview (every part with its counts
by group), one part's page with its threads (the median part: 25 contributions), the
contributions list (first page of the unanswered ones), participation by group; then the
report as CSV, HTML and PDF (one run each, PDF timed once more). ``--compare`` also renders
the HTML report to PDF with WeasyPrint, the engine of the other tiplab documents, in the same
run (why the report's PDF is drawn by ReportLab).
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
from typing import Any

from bench_plan_page import plan_document

GROUPS = ["law_enforcement", "judiciary", "ngo", "community", "survivor_board", "public"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--measures", type=int, default=200)
    ap.add_argument("--contributions", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--compare", action="store_true",
                    help="also time the HTML report rendered by WeasyPrint (the engine the "
                         "PDF used first), in the same run")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiplab_web.settings.test")
    os.environ.setdefault("TIPLAB_DATA_DIR", tempfile.mkdtemp(prefix="tiplab-bench-cons-"))
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
        from tiplab_web.consultations import services
        from tiplab_web.consultations.models import Contribution, Reaction, Response
        from tiplab_web.plans import services as plans

        rng = random.Random(7)
        org = Organisation.objects.create(name="Bench", kind="coordinator", country="ZZ")
        user = get_user_model().objects.create_user(username="bench-policy",
                                                    password="x" * 20)
        Profile.objects.create(user=user, organisation=org)
        set_roles(user, ["policy_officer"])
        orgs = [Organisation.objects.create(name=f"Org {i}", kind=k, country="ZZ")
                for i, k in enumerate(["police", "judiciary", "ngo", "other"] * 5)]
        voters = []
        for i in range(10):
            u = get_user_model().objects.create_user(username=f"voter{i}")
            Profile.objects.create(user=u, organisation=orgs[i])
            voters.append(u)
        plan = plans.create(user, org, core.plan_from_dict(plan_document(args.measures)))
        today = timezone.localdate()
        c = services.create(user, plan, title="Bench consultation",
                            opens_on=today - dt.timedelta(days=10),
                            closes_on=today + dt.timedelta(days=20),
                            invitations=[(o, "") for o in orgs])
        units = services.units(c)
        measures = [u for u in units if u.kind == "measure"]
        t = time.perf_counter()
        roots: list[Contribution] = []
        for i in range(args.contributions):
            u = measures[i % len(measures)]
            group = rng.choice(GROUPS)
            kind = "amendment" if i % 10 == 3 else "comment"
            o = None if group in ("survivor_board", "public") else rng.choice(orgs)
            roots.append(Contribution(
                consultation=c, unit=u.key, kind=kind, group=group, organisation=o,
                survivor=o is None, body=f"Contribution {i}: " + "words " * rng.randint(5, 60),
                suggested_text=(u.text + " Revised.") if kind == "amendment" else "",
                hidden=(i % 50 == 7)))
        Contribution.objects.bulk_create(roots, batch_size=1000)
        roots = list(Contribution.objects.filter(consultation=c).order_by("id"))
        replies = [Contribution(consultation=c, unit=x.unit, kind="reply", parent=x,
                                group="government", body="Thank you, noted.")
                   for x in roots[::10]]
        Contribution.objects.bulk_create(replies, batch_size=1000)
        rev = plans.latest(plan)
        Response.objects.bulk_create([
            Response(contribution=x, outcome=rng.choice(["accepted", "partly", "not_accepted"]),
                     reason="Because.", responded_by=user, revision=None)
            for x in roots[::3]], batch_size=1000)
        Reaction.objects.bulk_create([
            Reaction(contribution=x, user=v, stance=rng.choice(["support", "oppose"]))
            for x in roots[::10] for v in voters[:2]], batch_size=1000)
        seed = time.perf_counter() - t
        client = Client()
        client.force_login(user)
        out: dict[str, Any] = {"measures": args.measures, "parts": len(units),
                               "contributions": Contribution.objects.filter(
                                   consultation=c).count(),
                               "runs": args.runs, "seed_seconds": round(seed, 2),
                               "plan_revision": rev.number}
        counts = sorted(services.unit_counts(c).items(), key=lambda kv: kv[1]["n"])
        median_part = counts[len(counts) // 2][0]
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            def get(url: str) -> tuple[float, bytes]:
                t0 = time.perf_counter()
                r = client.get(url)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"{url}: {r.status_code}")
                return ms, r.content

            pages = {
                "overview": reverse("consultations:detail", args=[c.pk]),
                "part": reverse("consultations:unit", args=[c.pk, median_part]),
                "unanswered_list": reverse("consultations:contributions", args=[c.pk])
                + "?state=unanswered",
                "participation": reverse("consultations:participation", args=[c.pk]),
            }
            for name, url in pages.items():
                get(url)  # warm: templates compiled, units of the revision cached
                out[f"{name}_ms"] = round(statistics.median(
                    get(url)[0] for _ in range(args.runs)), 1)
            for fmt in ("csv", "html", "pdf"):
                url = reverse("consultations:report", args=[c.pk, fmt])
                ms, body = get(url)
                out[f"report_{fmt}_s"] = round(ms / 1000, 2)
                out[f"report_{fmt}_bytes"] = len(body)
            out["report_pdf_again_s"] = round(get(reverse(
                "consultations:report", args=[c.pk, "pdf"]))[0] / 1000, 2)
            if args.compare:
                from tiplab.policy import consultation as core
                from tiplab.policy.documents import html_to_pdf

                rows, meta = services.report_rows(c), services.report_meta(c)
                text = core.report_html(meta, rows, services.participation(c))
                t0 = time.perf_counter()
                html_to_pdf(text)
                out["report_pdf_weasyprint_s"] = round(time.perf_counter() - t0, 2)
        if args.json:
            print(json.dumps(out))
        else:
            for k, v in out.items():
                print(f"{k}: {v}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
