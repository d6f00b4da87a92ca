"""Charts: cost of the interactive specs and of drawing them offline, against the
Matplotlib trend chart they replace (same results, same run).

    .venv/bin/python benchmarks/bench_charts.py [--victims 2500] [--repeat 5]

Prints, per trend result: building the Vega-Lite spec (Altair), its size as sent in the
page (JSON, and gzip), drawing it as SVG and PNG (vl-convert), and the old Matplotlib
PNG/SVG; then the vendored scripts' sizes (raw and gzip). Medians of --repeat runs, after
one warm-up (vl-convert starts its JS engine on the first call)."""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent
for candidate in (Path.cwd(), REPO.parent):
    if (candidate / "src" / "tiplab").exists():
        REPO = candidate
        break


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--victims", type=int, default=2500)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", type=Path, default=None,
                    help="the Matplotlib charts module to compare with "
                         "(git show HEAD~:src/tiplab/reports/charts.py > old_charts.py)")
    a = ap.parse_args()

    import pyarrow as pa

    from tiplab.analysis import TrendSettings, trends
    from tiplab.ingest import prepare_import
    from tiplab.privacy import DisclosureRule
    from tiplab.reports.charts import render_spec, trend_spec
    from tiplab.snapshot import analytic_table

    tmp = Path(tempfile.mkdtemp(prefix="bench-charts-"))
    subprocess.run([sys.executable, "-m", "tiplab", "simulate", "--seed", "7", "--victims",
                    str(a.victims), "--years", "2016-2023", "--agencies",
                    "police,ngo_shelters,immigration", "--out", str(tmp), "--json"],
                   check=True, stdout=subprocess.DEVNULL)
    tables = []
    for agency in ("police", "ngo_shelters", "immigration"):
        p = prepare_import(tmp / f"{agency}.csv", str(tmp / f"{agency}.profile.yaml"))
        tables.append(analytic_table(p.result.accepted, p.kind, agency))
    t = pa.concat_tables(tables, promote_options="default")
    results = {
        "by year, forecast 3": trends(t, TrendSettings(horizon=3)),
        "by year x region (protected)": trends(t, TrendSettings(by=("region_of_exploitation",)),
                                               protect=DisclosureRule()),
        "by month, forecast 6": trends(t, TrendSettings(time="month", horizon=6)),
    }
    old = None
    if a.baseline is not None:
        import importlib.util

        spec_ = importlib.util.spec_from_file_location("old_charts", a.baseline)
        old = importlib.util.module_from_spec(spec_)
        spec_.loader.exec_module(old)

    print(f"simulated victims: {a.victims}; records: {t.num_rows}; median of {a.repeat}")
    head = (f"{'result':32} {'spec ms':>8} {'spec kB':>8} {'gzip kB':>8} {'svg ms':>7} "
            f"{'png ms':>7} {'svg kB':>7}")
    if old is not None:
        head += f" {'mpl png ms':>10} {'mpl svg ms':>10} {'mpl svg kB':>10}"
    print(head)
    out = Path(tempfile.mkdtemp(prefix="bench-charts-out-"))
    for name, r in results.items():
        spec = trend_spec(r, title=name)
        text = json.dumps(spec, separators=(",", ":")).encode()
        row = (f"{name:32} {median_ms(lambda r=r: trend_spec(r, title='x'), a.repeat):8.1f} "
               f"{len(text) / 1000:8.1f} {len(gzip.compress(text)) / 1000:8.1f} "
               f"{median_ms(lambda s=spec: render_spec(s, 'svg'), a.repeat):7.1f} "
               f"{median_ms(lambda s=spec: render_spec(s, 'png'), a.repeat):7.1f} "
               f"{len(render_spec(spec, 'svg')) / 1000:7.1f}")
        if old is not None:
            png = median_ms(lambda r=r: old.trend_chart(r, out / "t.png"), a.repeat)
            svg = median_ms(lambda r=r: old.trend_chart(r, out / "t.svg"), a.repeat)
            row += f" {png:10.1f} {svg:10.1f} {(out / 't.svg').stat().st_size / 1000:10.1f}"
        print(row)

    vendor = REPO / "src" / "tiplab_web" / "core" / "static" / "vendor" / "vega"
    print("\nscripts a chart page loads (once; then from the browser cache)")
    total = gz = 0
    for f in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
        data = (vendor / f).read_bytes()
        total, gz = total + len(data), gz + len(gzip.compress(data))
        zipped = len(gzip.compress(data))
        print(f"  {f:20} {len(data) / 1000:7.1f} kB  gzip {zipped / 1000:6.1f} kB")
    print(f"  {'total':20} {total / 1000:7.1f} kB  gzip {gz / 1000:6.1f} kB")


if __name__ == "__main__":
    main()
