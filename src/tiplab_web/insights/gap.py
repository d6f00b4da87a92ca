"""The detection gap page's work: a background job per (data version, designated link run,
parameters) that estimates every stratum (``tiplab.analysis.gap``) and keeps the result in the
job; the page shows the latest finished one, or follows the running one.

Estimating 30 regions x 6 forms with bootstrap intervals takes seconds to minutes, so it never
runs inside a request. The result belongs to the data, not to whoever asked: any user who may
see the analytics reads it, policy officers through the disclosure rule (identified counts
under the threshold are withheld with the figures derived from them).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab_web.insights import services

JOB_KIND = "insights.gap"
NOT_RECORDED = "not recorded"  # tiplab.analysis.gap's name of a missing stratum value
#: the field whose labels a stratum column uses
LABEL_FIELD = {"exploitation_form": "exploitation_forms"}
STRATA = {
    "region_of_exploitation": gettext_lazy("Region"),
    "exploitation_form": gettext_lazy("Form of exploitation"),
    "sex": gettext_lazy("Sex"),
    "age_band": gettext_lazy("Age band"),
    "year": gettext_lazy("Year"),
}


def params_for(by: list[str], nboot: int, method: str = "stepwise") -> dict[str, Any]:
    """What the result depends on: the strata, the method and its bootstrap, the data and
    the linkage (the method is left out for stepwise, the key results were first kept by)."""
    snap = services.snapshot()
    out = {"by": [b for b in STRATA if b in by], "nboot": int(nboot),
           "data_version": snap.data_version,
           "linkage": snap.linkage.tag if snap.linkage else ""}
    if method != "stepwise":
        out["method"] = method
    return out


def key_of(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:24]


def jobs_for(params: dict[str, Any]) -> Any:
    from tiplab_web.jobs.models import Job

    return Job.objects.filter(kind=JOB_KIND, params__key=key_of(params)).order_by("-created_at")


def latest(params: dict[str, Any]) -> tuple[Any, Any]:
    """(the newest finished job's result dict or None, a queued/running job or None)."""
    from tiplab_web.jobs.models import Job

    qs = jobs_for(params)
    done = qs.filter(status=Job.SUCCEEDED).only("result", "finished_at").first()
    active = qs.filter(status__in=[Job.QUEUED, Job.RUNNING]).first()
    return (done.result.get("gap") if done is not None else None), active


def start(request: Any, params: dict[str, Any]) -> Any:
    from tiplab_web.jobs.kernel import submit

    words = ", ".join(str(STRATA[b]) for b in params["by"])
    return submit(request, JOB_KIND, {**params, "key": key_of(params)},
                  label=_("Detection gap by %(by)s") % {"by": words})


def population() -> Any:
    """Residents per region of the demo country (its regions file), else None."""
    regions = services.country_dir() / "regions.geojson"
    if not regions.exists():
        return None
    from tiplab.analysis.population import population_from_regions

    return population_from_regions(regions)


def compute(ctx: Any) -> dict[str, Any]:
    """The job: estimate every stratum of the designated linkage's persons."""
    from tiplab.analysis.gap import GapSettings, detection_gap
    from tiplab.engine import capture_persons
    from tiplab_web.jobs.kernel import JobFailure

    p = dict(ctx.params)
    if not p.get("key"):  # queued before the linkage existed (the demo's set-up): the key
        from tiplab_web.jobs.models import Job  # of the data and linkage it runs on

        p = params_for(p["by"], int(p["nboot"]))
        p["key"] = key_of(p)
        Job.objects.filter(pk=ctx.job.pk).update(params={**ctx.params, **p})
    if services.snapshot().data_version != p["data_version"]:
        raise JobFailure(_("The data changed since this was asked; open the page again."))
    ctx.progress("reading the persons of the designated linkage", 0.05)
    try:
        engine = services.engine("persons")
        persons = capture_persons(engine)
        unit = engine.unit_info()
    except Exception as e:  # no designation, no records: said on the page
        raise JobFailure(str(e)) from e
    ctx.progress("estimating every stratum", 0.15)
    settings = GapSettings(by=tuple(p["by"]), nboot=int(p["nboot"]),
                           method=p.get("method", "stepwise"))
    result = detection_gap(persons, settings,
                           population=population(), data_version=engine.data_version,
                           unit=unit)
    return {"gap": result.to_dict(), "strata": result.table.num_rows}


def rows(gap: dict[str, Any], protected: bool) -> list[dict[str, Any]]:
    """Table rows, largest reliable gap first, flagged strata after; for protected users an
    identified count under the disclosure threshold is withheld with what derives from it."""
    threshold = services.disclosure_rule().threshold
    by = gap["parameters"]["by"]
    out = []
    for r in gap["gaps"]:
        hide = protected and r["identified"] < threshold
        out.append({
            "cells": [(None if r[b] == NOT_RECORDED else r[b], LABEL_FIELD.get(b, b))
                      for b in by],
            "identified": None if hide else r["identified"],
            "estimate": None if hide else r.get("estimate"),
            "estimate_low": None if hide else r.get("estimate_low"),
            "estimate_high": None if hide else r.get("estimate_high"),
            "gap": None if hide else r.get("gap"),
            "gap_low": None if hide else r.get("gap_low"),
            "gap_high": None if hide else r.get("gap_high"),
            "gap_rate": None if hide else r.get("gap_rate"),
            "rank_gap": r.get("rank_gap"), "rank_rate": r.get("rank_rate"),
            "flag": r.get("flag") or "", "suppressed": hide,
            "region": r.get("region_of_exploitation")})
    out.sort(key=lambda r: (r["rank_gap"] is None, r["rank_gap"] or 0))
    return out


def csv_text(gap: dict[str, Any], protected: bool) -> str:
    import pyarrow as pa

    from tiplab_web.insights.analyses import to_csv

    by = gap["parameters"]["by"]
    table_rows = []
    for r in rows(gap, protected):
        row = {b: v for b, (v, _f) in zip(by, r["cells"], strict=True)}
        row.update({k: r[k] for k in ("identified", "estimate", "estimate_low",
                                      "estimate_high", "gap", "gap_low", "gap_high",
                                      "gap_rate", "rank_gap", "rank_rate", "flag")})
        table_rows.append(row)
    return to_csv(pa.Table.from_pylist(table_rows), gap["data_version"], unit=gap.get("unit"))


def _map_values(gap: dict[str, Any], protected: bool) -> Any:
    """Gap per 100,000 residents of the regions that are ranked (none withheld)."""
    import pyarrow as pa

    return pa.Table.from_pylist(
        [{"region": r["region"], "gap_rate": r["gap_rate"]} for r in rows(gap, protected)
         if r["rank_rate"] is not None],
        schema=pa.schema([("region", pa.string()), ("gap_rate", pa.float64())]))


def _map_title(gap: dict[str, Any]) -> str:
    return f"Victims not identified per 100,000 residents (data {gap['data_version']})"


def _map_key(gap: dict[str, Any]) -> dict[str, Any]:
    return {"parameters": gap["parameters"], "unit": gap.get("unit")}


def map_bytes(gap: dict[str, Any], protected: bool, fmt: str) -> bytes:
    """Regions coloured by gap per 100,000 residents (by region only)."""
    from tiplab.reports import choropleth, regions_layer
    from tiplab_web.insights.analyses import figure

    regions = services.country_dir() / "regions.geojson"
    values = _map_values(gap, protected)
    return figure("gap_map", _map_key(gap), protected, fmt,
                  lambda path: choropleth(regions_layer(regions), values, key="region",
                                          layer_key="code", value="gap_rate", path=path,
                                          title=_map_title(gap)))


def map_spec(gap: dict[str, Any], protected: bool) -> dict[str, Any] | None:
    """The same map as :func:`map_bytes` as a Vega-Lite spec: each region's name and gap
    per 100,000 residents on hover (the page's interactive map)."""
    from tiplab.reports import leaflet_geojson, regions_layer
    from tiplab.reports.charts import region_map_spec
    from tiplab_web.insights.analyses import chart_spec

    regions = services.country_dir() / "regions.geojson"

    def build() -> dict[str, Any]:
        fc = leaflet_geojson(regions_layer(regions), _map_values(gap, protected),
                             layer_key="code", key="region", columns=("gap_rate",))
        return region_map_spec(fc, value="gap_rate",
                               value_title="not identified per 100,000 residents",
                               title=_map_title(gap),
                               provenance={"kind": "gap", "data_version": gap["data_version"],
                                           "parameters": gap["parameters"],
                                           "unit": gap.get("unit")})

    return chart_spec("gap_map", _map_key(gap), protected, build)


def then_gap(by: list[str], nboot: int) -> dict[str, Any]:
    """A follow-up job computing the gap once a link run is designated (the demo)."""
    from tiplab_web.jobs.kernel import follow_up

    return follow_up(JOB_KIND, {"by": by, "nboot": nboot},
                     label=_("Detection gap by %(by)s")
                     % {"by": ", ".join(str(STRATA[b]) for b in by)})


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    def result_url(job: Any) -> str:
        query = urlencode({"by": job.params.get("by", []), "nboot": job.params.get("nboot"),
                           "method": job.params.get("method", "stepwise")}, doseq=True)
        return f"{reverse('insights:gap')}?{query}"

    register(JobKind(name=JOB_KIND, run=compute, label=gettext_lazy("Detection gap"),
                     retry_safe=True, result_url=result_url, capability="insights.view"))
