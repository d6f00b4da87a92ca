"""Trends, Hotspots, Profiles and Routes: thin views over ``tiplab.analysis``.

Analysts and data stewards see the results as computed; policy officers (``insights.view``
without ``cases.view``) get every case-derived table through the disclosure rule (see
``services.aggregate_only``). Exports are audited as ``insights.export``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tiplab_web.core.access import capability_required
from tiplab_web.core.exports import download
from tiplab_web.insights import analyses, services
from tiplab_web.insights import gap as gaps
from tiplab_web.insights.forms import (
    GapForm,
    HotspotsForm,
    ProfilesForm,
    RoutesForm,
    TrendsForm,
    bind,
)

FIGURE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"protected": services.aggregate_only(request.user),
            "linkage_available": services.linkage_available(), **extra}


def _with_unit(p: dict[str, Any], form: Any) -> dict[str, Any]:
    """Add the unit counted (and the designated link run, for the cache key) to ``p``."""
    p["unit"], p["link_run"] = services.unit_choice(form.cleaned_data.get("unit"))
    return p


def _timing(timed: services.Timed) -> dict[str, Any]:
    return {"ms": round(timed.seconds * 1000), "from_cache": timed.cached}


def _figure_response(data: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=FIGURE_TYPES[fmt])
    # inline: the page shows the SVG as its chart without JavaScript; the name is what the
    # export links save
    response["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _csv_response(request: HttpRequest, page: str, text: str, result: Any,
                  params: dict[str, Any], protected: bool) -> HttpResponse:
    return download(request, text, filename=f"tiplab-{page}-{result.data_version}.csv",
                    action="insights.export", page=page, parameters=params,
                    data_version=result.data_version, protected=result.protected,
                    rows=text.count("\n") - 1)


def _or_404(parsed: tuple[Any, dict[str, Any] | None, bool],
            compute: Callable[[dict[str, Any], bool], Any]) -> tuple[Any, dict[str, Any], bool]:
    """For charts, maps and exports: (result, params, protected) of a valid query, else 404
    (an invalid query or no data to show)."""
    _form, p, protected = parsed
    if p is None:
        raise Http404
    try:
        return compute(p, protected), p, protected
    except analyses.NoData:
        raise Http404 from None


def _check_fmt(fmt: str) -> None:
    if fmt not in FIGURE_TYPES:
        raise Http404


# --- trends -------------------------------------------------------------------------------

def _trends(request: HttpRequest) -> tuple[Any, dict[str, Any] | None, bool]:
    choices = services.glotip_choices()
    form = bind(TrendsForm, request.GET, countries=choices["countries"],
                indicators=choices["indicators"])
    protected = services.aggregate_only(request.user)
    return form, (_with_unit(analyses.trend_params(form.cleaned_data), form)
                  if form.is_valid() else None), protected


@capability_required("insights.view")
def trends(request: HttpRequest) -> HttpResponse:
    form, p, protected = _trends(request)
    ctx = _context(request, form=form, params=p, query=request.GET.urlencode())
    if p is not None:
        try:
            timed = analyses.trend_result(p, protected)
        except analyses.NoData as exc:
            ctx["problem"] = str(exc)
        else:
            ctx.update(result=timed.value, **_timing(timed),
                       rows=analyses.trend_rows(timed.value, p),
                       grid=analyses.trend_grid(timed.value),
                       chart=analyses.trend_spec(timed.value, p, protected))
    return render(request, "insights/trends.html", ctx)


@capability_required("insights.view")
def trends_chart(request: HttpRequest, fmt: str) -> HttpResponse:
    _check_fmt(fmt)
    result, p, protected = _or_404(_trends(request),
                                   lambda q, pr: analyses.trend_result(q, pr).value)
    try:
        data = analyses.trend_chart_bytes(result, p, protected, fmt)
    except analyses.NoData:
        raise Http404 from None
    return _figure_response(data, fmt, f"tiplab-trends-{result.data_version}")


@capability_required("insights.view")
def trends_export(request: HttpRequest) -> HttpResponse:
    result, p, protected = _or_404(_trends(request),
                                   lambda q, pr: analyses.trend_result(q, pr).value)
    return _csv_response(request, "trends", analyses.trend_csv(result), result, p, protected)


# --- hotspots -----------------------------------------------------------------------------

def _hotspots(request: HttpRequest) -> tuple[Any, dict[str, Any] | None, bool]:
    form = bind(HotspotsForm, request.GET, years=services.case_years())
    p = None
    if form.is_valid():
        cd = form.cleaned_data
        p = _with_unit({"year": cd.get("year"), "trend_start": cd.get("trend_start"),
                        "trend_end": cd.get("trend_end")}, form)
    return form, p, services.aggregate_only(request.user)


def _single_year(p: dict[str, Any]) -> dict[str, Any]:
    """The single-period analysis depends on ``year`` and the unit only (its cache key too)."""
    return {"year": p["year"], "unit": p["unit"], "link_run": p["link_run"]}


@capability_required("insights.view")
def hotspots(request: HttpRequest) -> HttpResponse:
    form, p, protected = _hotspots(request)
    ctx = _context(request, form=form, params=p, query=request.GET.urlencode())
    if p is not None:
        try:
            timed = analyses.hotspot_result(_single_year(p), protected)
        except analyses.NoData as exc:
            ctx["problem"] = str(exc)
        else:
            ctx.update(result=timed.value, **_timing(timed),
                       rows=analyses.hotspot_rows(timed.value),
                       moran=timed.value.extra.get("global_moran"))
            try:
                emerging = analyses.emerging_result(p, protected).value
            except analyses.NoData as exc:
                ctx["emerging_problem"] = str(exc)
            else:
                years, rows = analyses.emerging_rows(emerging)
                ctx.update(emerging=emerging, emerging_years=years, emerging_rows=rows)
    return render(request, "insights/hotspots.html", ctx)


def _hotspot_result(request: HttpRequest) -> tuple[Any, dict[str, Any], bool]:
    result, p, protected = _or_404(
        _hotspots(request), lambda q, pr: analyses.hotspot_result(_single_year(q), pr).value)
    return result, _single_year(p), protected


@capability_required("insights.view")
def hotspots_geojson(request: HttpRequest) -> JsonResponse:
    result, p, protected = _hotspot_result(request)
    return JsonResponse(analyses.hotspot_geojson(result, p, protected))


@capability_required("insights.view")
def hotspots_map(request: HttpRequest, fmt: str) -> HttpResponse:
    _check_fmt(fmt)
    result, p, protected = _hotspot_result(request)
    return _figure_response(analyses.hotspot_map_bytes(result, p, protected, fmt), fmt,
                            f"tiplab-hotspots-{result.data_version}")


@capability_required("insights.view")
def hotspots_export(request: HttpRequest) -> HttpResponse:
    result, p, protected = _hotspot_result(request)
    return _csv_response(request, "hotspots", analyses.to_csv(result.table,
                                                               result.data_version,
                                                               unit=analyses.case_unit(result)),
                         result, p, protected)


@capability_required("insights.view")
def hotspots_emerging_export(request: HttpRequest) -> HttpResponse:
    result, p, protected = _or_404(_hotspots(request),
                                   lambda q, pr: analyses.emerging_result(q, pr).value)
    return _csv_response(request, "hotspots-emerging", analyses.emerging_csv(result), result,
                         analyses.emerging_params(p), protected)


# --- profiles -----------------------------------------------------------------------------

def _profiles(request: HttpRequest) -> tuple[Any, dict[str, Any] | None, bool]:
    form = bind(ProfilesForm, request.GET)
    p = None
    if form.is_valid():
        cd = form.cleaned_data
        p = _with_unit({"group": cd["group"], "by": list(cd.get("by") or []),
                        "start": cd.get("start"), "end": cd.get("end")}, form)
    return form, p, services.aggregate_only(request.user)


@capability_required("insights.view")
def profiles(request: HttpRequest) -> HttpResponse:
    form, p, protected = _profiles(request)
    ctx = _context(request, form=form, params=p, query=request.GET.urlencode())
    if p is not None:
        try:
            timed = analyses.profile_result(p, protected)
        except analyses.NoData as exc:
            ctx["problem"] = str(exc)
        else:
            ctx.update(result=timed.value, **_timing(timed),
                       rows=analyses.profile_rows(timed.value),
                       by_labels=[dict(form.fields["by"].choices)[b] for b in p["by"]])
    return render(request, "insights/profiles.html", ctx)


@capability_required("insights.view")
def profiles_export(request: HttpRequest) -> HttpResponse:
    result, p, protected = _or_404(_profiles(request),
                                   lambda q, pr: analyses.profile_result(q, pr).value)
    return _csv_response(request, "profiles", analyses.to_csv(result.table,
                                                               result.data_version,
                                                               unit=analyses.case_unit(result)),
                         result, p, protected)


# --- routes -------------------------------------------------------------------------------

def _routes(request: HttpRequest) -> tuple[Any, dict[str, Any] | None, bool]:
    form = bind(RoutesForm, request.GET)
    p = None
    if form.is_valid():
        cd = form.cleaned_data
        periods = form.periods()  # type: ignore[attr-defined]
        p = _with_unit({"dataset": cd["dataset"], "start": cd.get("start"),
                        "end": cd.get("end"), "top": int(cd.get("top") or 20),
                        "periods": [list(periods[0]), list(periods[1])] if periods else None},
                       form)
    return form, p, services.aggregate_only(request.user)


def _route_result(request: HttpRequest) -> tuple[Any, dict[str, Any], bool]:
    return _or_404(_routes(request),
                   lambda q, pr: analyses.route_result(_result_params(q), pr).value)


def _result_params(p: dict[str, Any]) -> dict[str, Any]:
    """``top`` only changes the map, not the analysis: keep it out of the result's key."""
    return {k: v for k, v in p.items() if k != "top"}


@capability_required("insights.view")
def routes(request: HttpRequest) -> HttpResponse:
    form, p, protected = _routes(request)
    ctx = _context(request, form=form, params=p, query=request.GET.urlencode())
    if p is not None:
        try:
            timed = analyses.route_result(_result_params(p), protected)
        except analyses.NoData as exc:
            ctx["problem"] = str(exc)
        else:
            extra = analyses.extra_countries(p["dataset"])
            corridors, hubs = analyses.route_rows(timed.value, extra=extra)
            unmapped, unmapped_note = analyses.route_unmapped(timed.value, p["top"],
                                                              extra=extra)
            ctx.update(result=timed.value, **_timing(timed),
                       corridors=corridors, hubs=hubs, changes=analyses.change_rows(
                           timed.value), unmapped=unmapped, unmapped_note=unmapped_note,
                       total_changes=(timed.value.tables["changes"].num_rows
                                      if "changes" in timed.value.tables else 0),
                       total_corridors=timed.value.tables["corridors"].num_rows,
                       chart=analyses.route_map_spec(timed.value, p, protected))
    return render(request, "insights/routes.html", ctx)


@capability_required("insights.view")
def routes_map(request: HttpRequest, fmt: str) -> HttpResponse:
    _check_fmt(fmt)
    result, p, protected = _route_result(request)
    return _figure_response(analyses.route_map_bytes(result, p, protected, fmt), fmt,
                            f"tiplab-routes-{result.data_version}")


@capability_required("insights.view")
def routes_export(request: HttpRequest) -> HttpResponse:
    result, p, protected = _route_result(request)
    return _csv_response(request, "routes", analyses.to_csv(result.tables["corridors"],
                                                             result.data_version,
                                                             unit=analyses.case_unit(result)),
                         result, p, protected)


@capability_required("insights.view")
def routes_changes_export(request: HttpRequest) -> HttpResponse:
    result, p, protected = _route_result(request)
    try:
        text = analyses.changes_csv(result)
    except analyses.NoData:
        raise Http404 from None
    return _csv_response(request, "routes-changes", text, result, p, protected)


# --- detection gap ------------------------------------------------------------------------

def _gap(request: HttpRequest) -> tuple[Any, dict[str, Any] | None]:
    form = bind(GapForm, request.GET)
    if not form.is_valid():
        return form, None
    return form, gaps.params_for(form.cleaned_data["by"], form.cleaned_data["nboot"],
                                 form.cleaned_data.get("method") or "stepwise")


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def gap(request: HttpRequest) -> HttpResponse:
    """Estimated minus identified victims per stratum: the latest computation for this data,
    linkage and choice of strata, or a button that starts one (a background job)."""
    form, p = _gap(request)
    if request.method == "POST" and p is not None and services.linkage_available():
        result, active = gaps.latest(p)
        if result is None and active is None:  # same data, same seed: the same answer
            gaps.start(request, p)
        return redirect(f"{request.path}?{request.GET.urlencode()}")
    ctx = _context(request, form=form, params=p, query=request.GET.urlencode())
    if p is not None and services.linkage_available():
        result, active = gaps.latest(p)
        ctx.update(active=active, gap=result)
        if result is not None:
            by_region = (p["by"] == ["region_of_exploitation"]
                         and (services.country_dir() / "regions.geojson").exists())
            ctx.update(rows=gaps.rows(result, ctx["protected"]),
                       strata_labels=[gaps.STRATA[b] for b in p["by"]], by_region=by_region,
                       chart=gaps.map_spec(result, ctx["protected"]) if by_region else None)
    return render(request, "insights/gap.html", ctx)


def _gap_result(request: HttpRequest) -> dict[str, Any]:
    _form, p = _gap(request)
    result = gaps.latest(p)[0] if p is not None else None
    if result is None:
        raise Http404
    return result


@capability_required("insights.view")
def gap_export(request: HttpRequest) -> HttpResponse:
    result = _gap_result(request)
    protected = services.aggregate_only(request.user)
    text = gaps.csv_text(result, protected)
    return download(request, text, filename=f"tiplab-gap-{result['data_version']}.csv",
                    action="insights.export", page="gap", parameters=result["parameters"],
                    data_version=result["data_version"], protected=protected,
                    rows=text.count("\n") - 1)


@capability_required("insights.view")
def gap_map(request: HttpRequest, fmt: str) -> HttpResponse:
    _check_fmt(fmt)
    result = _gap_result(request)
    if (result["parameters"]["by"] != ["region_of_exploitation"]
            or not (services.country_dir() / "regions.geojson").exists()):
        raise Http404
    data = gaps.map_bytes(result, services.aggregate_only(request.user), fmt)
    return _figure_response(data, fmt, f"tiplab-gap-{result['data_version']}")


# --- vulnerability --------------------------------------------------------------------------

def _vulnerability(request: HttpRequest) -> tuple[Any, dict[str, Any] | None]:
    from tiplab_web.insights import vulnerability as vul
    from tiplab_web.insights.forms import VulnerabilityForm

    available = vul.sources()
    data = request.GET if request.GET else None
    form = VulnerabilityForm(data, sources=available)
    if data is None:
        if not available:
            return form, None
        form = VulnerabilityForm({"source": available[0]["key"], "replications": 1000},
                                 sources=available)
    if not form.is_valid():
        return form, None
    return form, vul.params_for(form.cleaned_data["source"], form.choices(),
                                form.cleaned_data["replications"])


@require_http_methods(["GET", "POST"])
@capability_required("insights.view")
def vulnerability(request: HttpRequest) -> HttpResponse:
    """Regions ranked by a composite vulnerability index, each rank with its 5-95% interval
    over the Monte Carlo of the index's choices, and what the ranks are sensitive to."""
    from tiplab_web.insights import vulnerability as vul
    from tiplab_web.insights.forms import IndicatorUploadForm

    form, p = _vulnerability(request)
    if request.method == "POST" and p is not None:
        result, active = vul.latest(p)
        if result is None and active is None:
            vul.start(request, p)
        return redirect(request.get_full_path())
    ctx = _context(request, form=form, params=p, upload=IndicatorUploadForm(),
                   can_upload=_can_upload(request),
                   query=request.GET.urlencode())
    if p is not None:
        result, active = vul.latest(p)
        ctx.update(active=active, result=result)
        if result is not None:
            regions = bool(result["regions"]
                           and (services.country_dir() / "regions.geojson").exists())
            ctx.update(rows=vul.rows(result), dimensions=result["dimensions"],
                       sensitivity=result["uncertainty"]["sensitivity"], regions=regions,
                       map_chart=vul.map_spec(result) if regions else None,
                       sensitivity_chart=vul.sensitivity_spec(result))
    return render(request, "insights/vulnerability.html", ctx)


def _can_upload(request: HttpRequest) -> bool:
    from tiplab_web.core.access import can

    return can(request.user, "cases.import")


@require_http_methods(["POST"])
@capability_required("cases.import")
def vulnerability_upload(request: HttpRequest) -> HttpResponse:
    """An indicator table (and its index configuration): checked by building the index once,
    kept only if that works."""
    from django.contrib import messages
    from django.urls import reverse
    from django.utils.http import urlencode
    from django.utils.translation import gettext as _

    from tiplab_web.audit.services import record
    from tiplab_web.insights import vulnerability as vul
    from tiplab_web.insights.forms import IndicatorUploadForm

    form = IndicatorUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values()
                                         for e in errs))
        return redirect("insights:vulnerability")
    table = form.cleaned_data["table"]
    cfg = form.cleaned_data.get("config")
    try:
        config_text = cfg.read().decode("utf-8-sig") if cfg is not None else None
        key = vul.store_upload(table.name, table.read(), config_text)
    except (vul.VulnerabilityError, UnicodeDecodeError) as e:
        messages.error(request, str(e))
        return redirect("insights:vulnerability")
    record(request, "insights.vulnerability_upload", None, file=table.name, key=key)
    messages.success(request, _("Indicator table %(name)s added.") % {"name": table.name})
    return redirect(f"{reverse('insights:vulnerability')}?"
                    f"{urlencode({'source': key, 'replications': 1000})}")


def _vulnerability_result(request: HttpRequest) -> dict[str, Any]:
    from tiplab_web.insights import vulnerability as vul

    _form, p = _vulnerability(request)
    result = vul.latest(p)[0] if p is not None else None
    if result is None:
        raise Http404
    return dict(result)


@capability_required("insights.view")
def vulnerability_export(request: HttpRequest) -> HttpResponse:
    from tiplab_web.insights import vulnerability as vul

    result = _vulnerability_result(request)
    text = vul.csv_text(result)
    version = result["index"]["data_version"]
    return download(request, text, filename=f"tiplab-vulnerability-{version}.csv",
                    action="insights.export", page="vulnerability",
                    parameters=result["uncertainty"]["parameters"], data_version=version,
                    rows=text.count("\n") - 1)


@capability_required("insights.view")
def vulnerability_figure(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    from tiplab_web.insights import vulnerability as vul

    _check_fmt(fmt)
    result = _vulnerability_result(request)
    if name == "map":
        if not result["regions"] or not (services.country_dir() / "regions.geojson").exists():
            raise Http404
        data = vul.map_bytes(result, fmt)
    elif name == "sensitivity":
        try:
            data = vul.sensitivity_bytes(result, fmt)
        except services.NoData:
            raise Http404 from None
    else:
        raise Http404
    return _figure_response(data, fmt, f"tiplab-vulnerability-{name}")
