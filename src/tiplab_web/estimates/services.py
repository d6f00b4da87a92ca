"""Multiple systems estimation behind the web pages: read the chosen input (a link run's
person table, a published pattern-count table, an uploaded one), run ``tiplab.estimation``
in the background, store the result JSON and the charts (SVG and PNG, rendered offline by
vl-convert) under ``DATA_DIR/estimates/<run>/``."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.errors import TiplabError
from tiplab.estimation import (
    METHODS,
    CaptureTable,
    estimate,
    estimate_strata,
    sensitivity_table,
    sparse_warnings,
)
from tiplab_web import audit
from tiplab_web.core.usererrors import for_page
from tiplab_web.jobs.kernel import JobFailure
from tiplab_web.linkage.services import persons_path

from .models import EstimationRun

log = logging.getLogger("tiplab.web.estimates")

JOB_KIND = "estimates.run"
FROM_LINK_KIND = "estimates.from_link_run"

STRATA = ("year", "region_of_exploitation", "sex", "age_band", "exploitation_form")
#: the methods offered on the form (``fixed`` needs a model formula: CLI only for now)
FORM_METHODS = tuple(m for m in METHODS if m != "fixed")
CHARTS = ("methods", "bootstrap", "strata")
#: what each method is called on pages (the code stays in exports and the API)
METHOD_LABELS = {
    "stepwise": gettext_lazy("Stepwise log-linear model (Chan, Silverman & Vincent 2021)"),
    "aic-stepwise": gettext_lazy("Stepwise log-linear model by AIC (UK Home Office 2014)"),
    "bic": gettext_lazy("Average of log-linear models by BIC"),
    "downhill": gettext_lazy("Downhill search over log-linear models"),
    "main": gettext_lazy("Independence model (main effects only)"),
    "lcmcr": gettext_lazy("Latent classes, LCMCR (Manrique-Vallier 2016; Bayesian)"),
    "dga": gettext_lazy("Average over decomposable graphs, dga (Madigan & York 1997; "
                        "Bayesian)"),
    "bayes-threshold": gettext_lazy("Bayesian thresholding of the pairwise model "
                                    "(Silverman 2020)"),
    "fixed": gettext_lazy("Log-linear model given by the user"),
    "rcapture-M0": gettext_lazy("Closed model M0 (equal capture probabilities)"),
    "rcapture-Mt": gettext_lazy("Closed model Mt (capture probability varies by list)"),
}


def method_label(code: str) -> str:
    """A person's name for an estimation method; Rcapture's heterogeneity models by family."""
    if code in METHOD_LABELS:
        return str(METHOD_LABELS[code])
    if code.startswith("rcapture-Mh-") or code.startswith("rcapture-Mth-"):
        family, _sep, form = code.removeprefix("rcapture-").partition("-")
        return _("Closed model %(family)s with %(form)s heterogeneity") % {
            "family": family, "form": form}
    return code


def method_choices() -> list[tuple[str, str]]:
    """The form's method choices, labelled in the language of the request."""
    return [(m, method_label(m)) for m in FORM_METHODS]
CHART_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def tables_dir() -> Path:
    """Where the published multiple-list tables are (``TIPLAB_MSE_TABLES_DIR``; default the
    shared ``data/mse`` folder next to the repository)."""
    configured = getattr(settings, "TIPLAB_MSE_TABLES_DIR", None)
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR).parents[2] / "shared" / "data" / "mse"


def shipped_tables() -> list[str]:
    folder = tables_dir()
    return sorted(p.name for p in folder.glob("*.csv")) if folder.is_dir() else []


def run_dir(run: EstimationRun) -> Path:
    return Path(settings.DATA_DIR) / "estimates" / str(run.pk)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_path(run: EstimationRun) -> Path:
    if run.input_kind == EstimationRun.LINK_RUN:
        return persons_path(run.link_run)
    if run.input_kind == EstimationRun.SHIPPED:
        return tables_dir() / run.input_name
    return run_dir(run) / "input.csv"


def create_run(request_or_user: Any, *, input_kind: str, parameters: dict[str, Any],
               link_run: Any = None, shipped: str | None = None, upload: Any = None
               ) -> EstimationRun:
    """Create the run with its input provenance and audit it (nothing is estimated yet)."""
    from tiplab_web.core.access import organisation_of

    user = getattr(request_or_user, "user", request_or_user)
    run = EstimationRun(organisation=organisation_of(user), created_by=user,
                        input_kind=input_kind, parameters=parameters, link_run=link_run)
    if input_kind == EstimationRun.LINK_RUN:
        run.input_name = f"link run #{link_run.pk}: persons.parquet"
        run.data_version = link_run.data_version
    elif input_kind == EstimationRun.SHIPPED:
        run.input_name = str(shipped)
    else:
        run.input_name = Path(upload.name).name[:300]
    run.input_sha256 = "0" * 64
    run.save()
    if input_kind == EstimationRun.UPLOAD:
        run_dir(run).mkdir(parents=True, exist_ok=True)
        with input_path(run).open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
    run.input_sha256 = sha256_of(input_path(run))
    run.save(update_fields=["input_sha256"])
    audit.record(request_or_user, "estimates.run", run, input=run.input_kind,
                 name=run.input_name, sha256=run.input_sha256,
                 link_run=link_run.pk if link_run else None, data_version=run.data_version,
                 **parameters)
    return run


def _label(run: EstimationRun) -> str:
    return _("Estimation #%(n)d (%(input)s)") % {"n": run.pk, "input": run.input_name}


def start_run(request: Any, **kw: Any) -> EstimationRun:
    """Create the run, audit it, estimate in the background."""
    from tiplab_web.jobs.kernel import submit

    run = create_run(request, **kw)
    submit(request, JOB_KIND, {"run": run.pk}, target=run, label=_label(run))
    return run


def then_estimate(parameters: dict[str, Any], *, designate_by: str | None = None,
                  note: str = "") -> dict[str, Any]:
    """A follow-up for a linkage job: estimate from the persons its run found; with
    ``designate_by`` (a data steward's username) that estimate becomes the estimate of record
    (the demo's set-up: the steward's decision, audited as theirs)."""
    from tiplab_web.jobs.kernel import follow_up

    params: dict[str, Any] = {"parameters": parameters}
    if designate_by:
        params.update(designate_by=designate_by, designate_note=note)
    return follow_up(FROM_LINK_KIND, params, label=_("Estimation from the new link run"))


def execute(run: EstimationRun, ctx: Any) -> None:
    p = run.parameters
    kw = {"nboot": int(p.get("nboot", 1000)), "seed": p.get("seed")}
    ctx.progress("reading the input", 0.0)
    path = input_path(run)
    notes: list[str] = []
    try:
        if run.input_kind == EstimationRun.LINK_RUN:
            by = list(p.get("by") or [])
            tables = CaptureTable.from_person_table(path, by=by,
                                                    pool_below=int(p.get("pool_below") or 0))
            table = tables.total()
            notes += list(tables.warnings)
        else:
            table = CaptureTable.from_csv(path)
            tables, by = None, []
    except (TiplabError, UnicodeError, ValueError) as e:  # a file the user gave us, unreadable
        problem = for_page(e, files={path: run.input_name})
        if not problem.startswith(run.input_name):
            problem = _("%(name)s cannot be used: %(problem)s") % {
                "name": run.input_name, "problem": problem}
        raise JobFailure(problem) from e
    table, dropped = table.remove_noninformative_lists()
    notes += [f"list dropped: {d}" for d in dropped]
    ctx.progress("estimating" + (" with the bootstrap" if kw["nboot"] else ""), 0.1)
    overall = estimate(table, p.get("method", "stepwise"), **kw)
    overall.source = run.input_name
    if run.data_version:  # else keep the table's own fingerprint
        overall.data_version = run.data_version
    result: dict[str, Any] = {
        "overall": overall.to_dict(),
        "warnings": notes + [w for w in sparse_warnings(table) if w not in overall.warnings],
        "lists": list(table.names),
        "list_sizes": table.list_sizes(),
    }
    charts: dict[str, Any] = {}
    if overall.bootstrap is not None:
        from tiplab.estimation.charts import bootstrap_chart

        charts["bootstrap"] = bootstrap_chart(overall)
    if tables is not None and by:
        ctx.progress("estimating each stratum", 0.4)
        strat = estimate_strata(tables, p.get("method", "stepwise"), **kw)
        result["strata"] = strat.to_dict()
        if strat.results():
            from tiplab.estimation.charts import strata_chart

            charts["strata"] = strata_chart(strat)
    if p.get("sensitivity"):
        ctx.progress("sensitivity across methods", 0.7)
        sens = sensitivity_table(table)
        result["sensitivity"] = sens.to_dict()
        result["sensitivity_range"] = list(sens.range())
        from tiplab.estimation.charts import estimates_chart

        charts["methods"] = estimates_chart(sens)
    if p.get("compare"):
        from tiplab.estimation.compare import compare_methods

        ctx.progress("every method, and a recommendation", 0.8)
        result["comparison"] = compare_methods(table, seed=int(p.get("seed") or 1234)).to_dict()
    ctx.progress("drawing the charts", 0.9)
    write_charts(run, charts)
    result["charts"] = sorted(charts)
    run.result = result
    ctx.report("saving", 0.95)
    run.save(update_fields=["result"])


def register_jobs() -> None:
    from dataclasses import replace

    from tiplab_web.jobs.kernel import JobContext, register
    from tiplab_web.jobs.models import Job
    from tiplab_web.jobs.runs import run_kind
    from tiplab_web.linkage.models import LinkRun

    kind = register(run_kind(JOB_KIND, EstimationRun, execute,
                             label=gettext_lazy("Estimation"), url_name="estimates:run",
                             capability="insights.view"))

    def from_link_run(ctx: JobContext) -> dict[str, Any]:
        """Create the estimation of the link run the previous job made, then run it."""
        if "run" not in ctx.params:  # a retry reuses the run made by the first attempt
            link_run = LinkRun.objects.get(pk=ctx.params["after"]["result"]["run"])
            run = create_run(ctx.request, input_kind=EstimationRun.LINK_RUN,
                             parameters=ctx.params["parameters"], link_run=link_run)
            ctx.remember(run=run.pk)
            Job.objects.filter(pk=ctx.job.pk).update(
                target_type=run._meta.label_lower, target_id=str(run.pk), label=_label(run))
        out = kind.run(ctx) or {}
        if ctx.params.get("designate_by"):  # set by code (setup_demo), never by a form
            from django.contrib.auth import get_user_model

            from . import record

            steward = get_user_model().objects.get(username=ctx.params["designate_by"])
            record.designate(steward, EstimationRun.objects.get(pk=ctx.params["run"]),
                             ctx.params.get("designate_note", ""))
        return out

    register(replace(kind, name=FROM_LINK_KIND, run=from_link_run,
                     label=gettext_lazy("Estimation from a link run")))


def write_charts(run: EstimationRun, charts: dict[str, Any]) -> None:
    if not charts:
        return
    import vl_convert as vlc

    out = run_dir(run)
    out.mkdir(parents=True, exist_ok=True)
    from tiplab.reports.charts import vegalite_spec

    for name, chart in charts.items():
        try:
            spec = vegalite_spec(chart)  # data inline: what the page draws interactively
            (out / f"{name}.vl.json").write_text(json.dumps(spec), encoding="utf-8")
            (out / f"{name}.svg").write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
            (out / f"{name}.png").write_bytes(vlc.vegalite_to_png(spec, scale=2))
        except Exception as e:  # a chart must not lose a finished estimate
            log.warning("chart %s of run %s not written: %s", name, run.pk, e)


def chart_specs(run: EstimationRun) -> dict[str, Any]:
    """The Vega-Lite specs of a run's charts (runs made before interactive charts have
    none: their pages show the static images)."""
    out: dict[str, Any] = {}
    for name in CHARTS:
        path = run_dir(run) / f"{name}.vl.json"
        if path.exists():
            out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def chart_path(run: EstimationRun, name: str, fmt: str) -> Path | None:
    if name not in CHARTS or fmt not in CHART_FORMATS:
        return None
    path = run_dir(run) / f"{name}.{fmt}"
    return path if path.exists() else None
