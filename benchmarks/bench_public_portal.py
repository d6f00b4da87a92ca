"""Server time of the public portal and the open-data API, first view and cached.

Usage: .venv/bin/python benchmarks/bench_public_portal.py [--regions 20] [--runs 5] [--json]

Builds the state of ``tests/web/test_public_portal.py`` (a published version with a
differentially private table region × year × form, a suppressed table region × year,
k-anonymous microdata and key figures; a withdrawn and a draft version; an adopted plan) on a
throw-away test database, with ``--regions`` regions, 10 years and 12 forms of exploitation
(20 regions: 2,400 cells). Reported, around ``client.get`` (the whole request, no login):

* **first view** (the baseline): the page or answer is built — files read and their sha256
  checked, charts made with Altair, the static chart drawn by vl-convert;
* **cached**: the same address again (Django's cache, keyed by the publication generation);
* **304**: the same again with ``If-None-Match`` (no body sent).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--regions", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiplab_web.settings.test")
    data_dir = tempfile.mkdtemp(prefix="tiplab-bench-portal-")
    os.environ.setdefault("TIPLAB_DATA_DIR", data_dir)
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with override_settings(DATA_DIR=Path(data_dir), TIPLAB_RELEASE_THRESHOLD=5):
            rows = run(args, Client(), cache)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"public portal, {args.regions} regions × 10 years × 12 forms, "
          f"median of {args.runs} (ms)")
    print(f"{'address':58} {'first':>8} {'cached':>8} {'304':>8} {'bytes':>9}")
    for r in rows:
        print(f"{r['what']:58} {r['first_ms']:8.1f} {r['cached_ms']:8.2f} "
              f"{r['not_modified_ms']:8.2f} {r['bytes']:9,d}")


def run(args: argparse.Namespace, client: Any, cache: Any) -> list[dict[str, Any]]:
    from tests.web import test_public_portal as portal
    from tests.web.conftest import make_user

    from tiplab_web.accounts.models import Organisation
    from tiplab_web.evaluation import services as evaluation
    from tiplab_web.publications import public_views

    portal.REGIONS = [f"R{i:02d}" for i in range(1, args.regions + 1)]
    portal.YEARS = [str(y) for y in range(2014, 2024)]
    portal.FORMS = [f"F{i:02d}" for i in range(12)]
    org = Organisation.objects.create(name="National Rapporteur's Office",
                                      kind=Organisation.Kind.COORDINATOR, country="ZZ")
    users = {r: make_user(r, [r], org) for r in ("analyst", "data_steward",
                                                 "policy_officer", "administrator")}
    state = portal.build_state(users, org)
    evaluation.approved_values = lambda plan: portal.VALUES  # type: ignore[assignment]
    evaluation.computed_values = lambda plan, doc=None: {}  # type: ignore[assignment]
    v, ident = state.published, state.release.identifier
    targets = [
        ("/public/ (list)", "/public/"),
        ("/public/releases/<id>/ (latest version, 4 charts)", f"/public/releases/{ident}/"),
        ("chart SVG (static fallback)", f"/public/releases/{ident}/v3/charts/"
                                        "region_year_form-year.svg"),
        ("chart PNG (export)", f"/public/releases/{ident}/v3/charts/"
                               "region_year_form-region.png"),
        ("download CSV (sha256 checked)", public_views.file_url(v, "region_year_form", "csv")),
        ("/api/open/releases/<id>/versions/3", f"/api/open/releases/{ident}/versions/3"),
        ("/api/open/.../items/region_year_form?limit=500",
         f"/api/open/releases/{ident}/versions/3/items/region_year_form?limit=500"),
        ("/public/plans/<id>/ (protected scorecard)", f"/public/plans/{state.plan.pk}/"),
        ("/api/open/plans/<id>/progress", f"/api/open/plans/{state.plan.pk}/progress"),
    ]
    out = []
    for what, url in targets:
        first = []
        for _ in range(args.runs):
            cache.clear()
            t0 = time.perf_counter()
            r = client.get(url)
            first.append(time.perf_counter() - t0)
            assert r.status_code == 200, (url, r.status_code)
        body = r.content
        warm, revalidate = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = client.get(url)
            warm.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = client.get(url, HTTP_IF_NONE_MATCH=r["ETag"])
            revalidate.append(time.perf_counter() - t0)
            assert again.status_code == 304
        out.append({"what": what, "url": url, "bytes": len(body),
                    "first_ms": 1000 * statistics.median(first),
                    "cached_ms": 1000 * statistics.median(warm),
                    "not_modified_ms": 1000 * statistics.median(revalidate)})
    return out


if __name__ == "__main__":
    main()
