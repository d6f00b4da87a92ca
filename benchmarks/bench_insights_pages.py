"""Server time of the analytics web pages on 1,000,000 case records (Django test client).

Usage: .venv/bin/python benchmarks/bench_insights_pages.py [--rows 1000000] [--runs 5]

Builds a data directory as after imports: a simulated country's regions and adjacency
(``tiplab simulate``, seed 7) and ``--rows`` seeded synthetic case records whose regions are
that country's (``write_snapshot``, 4 batches). Signs in an analyst and a policy officer on a
throw-away test database and requests each page. Three times are reported per page, all
measured around ``client.get`` (the whole request: middleware, form, analysis, template):

* **first view**: the first request after the import (flat tables built, nothing cached);
* **uncached**: Django's cache cleared before each request, so the analysis is recomputed on
  the flat tables that now exist - what any new filter combination costs;
* **cached**: a repeat view of the same page (the result comes from the cache).

Figures (map PNG/SVG, GeoJSON) are separate requests and not included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _data_dir(rows: int) -> Path:
    from tiplab.analysis.synthetic import synthetic_cases, write_snapshot
    from tiplab.simulate import SimulationSettings, simulate

    d = Path(tempfile.mkdtemp(prefix="tiplab-bench-pages-"))
    sim = d / "sim"
    simulate(SimulationSettings(seed=7, victims=2000), sim)
    (d / "demo").mkdir()
    shutil.copytree(sim / "country", d / "demo" / "country")
    codes = pa.csv.read_csv(sim / "truth" / "regions.csv").column("code").to_pylist()
    table = synthetic_cases(rows, seed=1, regions=len(codes))
    idx = pc.cast(pc.utf8_slice_codeunits(table.column("region_of_exploitation"), 2),
                  pa.int64()).to_numpy()
    regions = pa.array(np.asarray(codes, dtype=object)[idx], pa.string())
    table = table.set_column(table.column_names.index("region_of_exploitation"),
                             "region_of_exploitation", regions)
    write_snapshot(d, table, batches=4)
    shutil.rmtree(sim)
    return d


PAGES = [
    ("trends", {}),
    ("trends", {"by": "exploitation_forms", "horizon": "0"}),
    ("trends", {"by": "region_of_exploitation", "horizon": "0"}),
    ("profiles", {"group": "means_of_control", "by": ["sex", "age_band"]}),
    ("profiles", {"group": "exploitation_forms", "by": ["sex"]}),
    ("routes", {}),
    ("routes", {"a_start": "2015", "a_end": "2019", "b_start": "2020", "b_end": "2024"}),
    ("routes", {"dataset": "denver"}),
    ("hotspots", {}),
    ("hotspots", {"year": "2020", "trend_start": "2017", "trend_end": "2024"}),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    data = _data_dir(args.rows)
    setup = time.perf_counter() - t0

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiplab_web.settings.test")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    # No setup_test_environment(): its template instrumentation would inflate render times.
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.contrib.auth import get_user_model

        from tiplab_web.accounts.models import Organisation, Profile
        from tiplab_web.accounts.services import set_roles

        org = Organisation.objects.create(name="Bench", kind=Organisation.Kind.COORDINATOR,
                                          country="ZZ")
        clients = {}
        for role in ("analyst", "policy_officer"):
            user = get_user_model().objects.create_user(username=f"bench-{role}",
                                                        password="x" * 20)
            Profile.objects.create(user=user, organisation=org)
            set_roles(user, [role])
            c = Client()
            c.force_login(user)
            clients[role] = c
        with override_settings(DATA_DIR=data, ALLOWED_HOSTS=["testserver"]):
            print(f"rows {args.rows:,}; data directory built in {setup:.1f} s; runs "
                  f"{args.runs}; times are whole requests in ms (median of runs)")
            print("| page | role | first view | uncached | cached |")
            print("|---|---|---:|---:|---:|")
            for name, query in PAGES:
                for role, client in clients.items():
                    url = reverse(f"insights:{name}")

                    def get(client: Client = client, url: str = url,
                            query: dict[str, object] = query) -> float:
                        t = time.perf_counter()
                        response = client.get(url, query)
                        elapsed = (time.perf_counter() - t) * 1000
                        body = response.content.decode()
                        if response.status_code != 200 or "Nothing to show" in body:
                            raise SystemExit(f"{url} {query}: {response.status_code}")
                        return elapsed

                    cache.clear()
                    first = get()
                    uncached = []
                    for _ in range(args.runs):
                        cache.clear()
                        uncached.append(get())
                    cached = [get() for _ in range(args.runs)]
                    label = name + (f" {query}" if query else "")
                    print(f"| {label} | {role} | {first:.0f} | "
                          f"{statistics.median(uncached):.0f} | "
                          f"{statistics.median(cached):.0f} |", flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
