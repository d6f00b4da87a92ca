"""Evidence a measure can cite, and the same figure on the current data.

Each kind reads a stored or cached result the analysis pages show — trends, hotspots, routes,
profiles (the analytics engine, cached per data version), the estimate of record and other
estimation runs, the detection gap and the vulnerability index (background-job results), the
legal gaps (the assessments) — and offers its figures as :class:`Candidate` rows. A citation
keeps the figure, its data version and the parameters; :func:`current_value` recomputes the
same figure on today's data so ``tiplab.policy.plan.check_evidence`` can flag a change.

The figures are aggregates: a user who may not see case records gets them through the same
disclosure rule as on the analysis pages (small cells withheld)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.policy.plan import EVIDENCE_KINDS, Citation
from tiplab_web.core.access import organisation_of

#: kinds offered in the picker, in its order
KINDS = ("trend", "hotspot", "route", "profile", "estimate", "gap", "vulnerability",
         "legal_gap", "theme", "quotation")
MAX_CANDIDATES = 40


@dataclass
class Candidate:
    kind: str
    label: str
    value: float | None
    unit: str
    data_version: str
    params: dict[str, Any] = field(default_factory=dict)
    selector: dict[str, Any] = field(default_factory=dict)
    ref: str = ""
    note: str = ""
    #: a legal gap's own fields (``tiplab.policy.legal.Gap``), for a measure drafted from it
    gap: dict[str, Any] = field(default_factory=dict)

    def citation(self) -> Citation:
        return Citation(kind=self.kind, label=self.label, value=self.value,
                        data_version=self.data_version, unit=self.unit, params=self.params,
                        selector=self.selector, cited_at=timezone.now().date().isoformat(),
                        ref=self.ref, note=self.note)


class NoEvidence(Exception):
    """The kind has nothing to offer yet (no data, no job result); the message says why."""


def _services() -> Any:
    from tiplab_web.insights import services

    return services


def _unit(asked: str | None) -> dict[str, Any]:
    unit, link_run = _services().unit_choice(asked)
    return {"unit": unit, "link_run": link_run}


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _match(row: dict[str, Any], selector: dict[str, Any]) -> bool:
    return all(str(row.get(k)) == str(v) for k, v in selector.items())


# --- the analytics results -------------------------------------------------------------------


def _trend(params: dict[str, Any], protected: bool) -> tuple[Any, list[dict[str, Any]]]:
    from tiplab_web.insights import analyses

    by = params.get("by") or ""
    if isinstance(by, list | tuple):  # one breakdown: the first
        by = by[0] if by else ""
    p = {"dataset": "cases", "start": None, "end": None, "horizon": 0, "by": str(by),
         **_unit(params.get("unit"))}
    result = analyses.trend_result(p, protected).value
    return result, result.table.to_pylist()


def _trend_candidates(params: dict[str, Any], protected: bool) -> list[Candidate]:
    result, rows = _trend(params, protected)
    by = params.get("by") or ""
    time = "year" if rows and "year" in rows[0] else "time"
    last = max((r[time] for r in rows), default=None)
    out = []
    column = "value" if rows and "value" in rows[0] else "n"
    for r in sorted((r for r in rows if r[time] == last),
                    key=lambda r: -(r.get(column) or 0)):
        what = (f", {r[by] if r[by] is not None else _('not recorded')}") if by else ""
        out.append(Candidate("trend", _("Identified, %(year)s%(what)s")
                             % {"year": last, "what": what}, _num(r.get(column)),
                             _unit(params.get("unit"))["unit"], result.data_version,
                             {"by": by, "unit": params.get("unit", "")},
                             {time: r[time], **({by: r[by]} if by else {})},
                             ref="insights:trends"))
    return out


def _hotspots(params: dict[str, Any], protected: bool) -> tuple[Any, list[dict[str, Any]]]:
    from tiplab_web.insights import analyses

    p = {"year": params.get("year"), **_unit(params.get("unit"))}
    result = analyses.hotspot_result(p, protected).value
    return result, analyses.hotspot_rows(result)


def _hotspot_candidates(params: dict[str, Any], protected: bool) -> list[Candidate]:
    result, rows = _hotspots(params, protected)
    return [Candidate("hotspot", _("%(name)s (%(region)s): Gi* z %(z)s, %(cls)s")
                      % {"name": r["name"] or r["region"], "region": r["region"],
                         "z": r["gi_z"], "cls": r["gi_class"]},
                      _num(r["gi_z"]), "Gi* z-score", result.data_version,
                      {"year": params.get("year"), "unit": params.get("unit", "")},
                      {"region": r["region"]}, ref="insights:hotspots")
            for r in rows if r["gi_z"] is not None]


def _routes(params: dict[str, Any], protected: bool) -> tuple[Any, list[dict[str, Any]]]:
    from tiplab_web.insights import analyses

    p = {"dataset": "cases", "start": None, "end": None, "periods": None,
         **_unit(params.get("unit"))}
    result = analyses.route_result(p, protected).value
    return result, result.tables["corridors"].to_pylist()


def _route_candidates(params: dict[str, Any], protected: bool) -> list[Candidate]:
    result, rows = _routes(params, protected)
    return [Candidate("route", _("%(o)s → %(d)s (rank %(rank)s)")
                      % {"o": r["origin_country"], "d": r["country_of_exploitation"],
                         "rank": r["rank"]}, _num(r["n"]), params.get("unit", ""),
                      result.data_version, {"unit": params.get("unit", "")},
                      {"origin_country": r["origin_country"],
                       "country_of_exploitation": r["country_of_exploitation"]},
                      ref="insights:routes")
            for r in rows if r.get("n") is not None]


def _profiles(params: dict[str, Any],
              protected: bool) -> tuple[Any, list[dict[str, Any]], list[str]]:
    from tiplab_web.insights import analyses

    by = list(params.get("by") or ["sex"])
    p = {"group": params.get("group") or "means_of_control", "by": by, "start": None,
         "end": None, **_unit(params.get("unit"))}
    result = analyses.profile_result(p, protected).value
    return result, result.table.to_pylist(), by


def _profile_candidates(params: dict[str, Any], protected: bool) -> list[Candidate]:
    result, rows, by = _profiles(params, protected)
    out = []
    for r in rows:
        if r.get("share") is None:
            continue
        cells = ", ".join(str(r[b]) for b in by)
        out.append(Candidate("profile", _("%(flag)s among %(cells)s: %(share).1f%%")
                             % {"flag": r["flag"], "cells": cells, "share": r["share"] * 100},
                             round(float(r["share"]) * 100, 2), "percent",
                             result.data_version,
                             {"group": params.get("group") or "means_of_control", "by": by,
                              "unit": params.get("unit", "")},
                             {"flag": r["flag"], **{b: r[b] for b in by}},
                             ref="insights:profiles"))
    out.sort(key=lambda c: -(c.value or 0))
    return out


# --- stored results ----------------------------------------------------------------------------


def _estimate_candidates(user: Any) -> list[Candidate]:
    from tiplab_web.estimates.models import EstimateOfRecord, EstimationRun

    org = organisation_of(user)
    record = EstimateOfRecord.objects.filter(organisation=org, ended_at=None) \
        .select_related("run").first()
    runs = list(EstimationRun.objects.filter(organisation=org, status=EstimationRun.DONE,
                                             input_kind=EstimationRun.LINK_RUN)[:10])
    if record is not None and record.run not in runs:
        runs.insert(0, record.run)
    out = []
    for run in runs:
        overall = run.overall
        if overall.get("estimate") is None:
            continue
        of_record = record is not None and record.run_id == run.pk
        label = (_("Estimate of record (run %(n)s): %(est)s hidden and identified victims")
                 if of_record else _("Estimation run %(n)s: %(est)s"))
        out.append(Candidate("estimate", label % {"n": run.pk,
                                                  "est": f"{overall['estimate']:,.0f}"},
                             float(overall["estimate"]), "persons", run.data_version,
                             {"method": run.parameters.get("method", ""),
                              "of_record": of_record}, {"run": run.pk},
                             ref=f"estimates:run:{run.pk}"))
    return out


def _estimate_now(c: Citation, user: Any) -> float | None:
    """The estimate of record now (when the citation was to the estimate of record), else
    the newest finished run with the same method on the current data."""
    from tiplab_web.estimates.models import EstimateOfRecord, EstimationRun

    org = organisation_of(user)
    if c.params.get("of_record"):
        record = EstimateOfRecord.objects.filter(organisation=org, ended_at=None) \
            .select_related("run").first()
        if record is None:
            return None
        return _num(record.run.overall.get("estimate"))
    version = _services().data_version()
    run = EstimationRun.objects.filter(
        organisation=org, status=EstimationRun.DONE, data_version=version,
        input_kind=EstimationRun.LINK_RUN,
        parameters__method=c.params.get("method", "stepwise")).first()
    if run is None:
        raise LookupError("no estimation run on the current data")
    return _num(run.overall.get("estimate"))


def _gap_result() -> dict[str, Any]:
    """The newest detection gap computed (the Detection gap page's background job)."""
    from tiplab_web.insights import gap
    from tiplab_web.jobs.models import Job

    job = Job.objects.filter(kind=gap.JOB_KIND, status=Job.SUCCEEDED) \
        .order_by("-finished_at").first()
    result = job.result.get("gap") if job is not None and job.result else None
    if result is None:
        raise NoEvidence(_("No detection gap has been computed yet (Detection gap page)."))
    return dict(result)


def _gap_candidates(protected: bool) -> list[Candidate]:
    from tiplab_web.insights import gap
    from tiplab_web.insights.analyses import region_names

    result = _gap_result()
    by = result["parameters"]["by"]
    names = region_names()
    out = []
    for r in gap.rows(result, protected):
        if r["gap"] is None or r["flag"]:
            continue
        cells = ", ".join(f"{names[v]} ({v})" if v in names else str(v)
                          for v, _label in r["cells"])
        out.append(Candidate("gap", _("Detection gap, %(cells)s: %(gap)s hidden")
                             % {"cells": cells, "gap": f"{r['gap']:,.0f}"}, _num(r["gap"]),
                             "persons", result.get("data_version", ""),
                             {"by": by, "method": result["parameters"].get("method",
                                                                           "stepwise")},
                             {b: v for b, (v, _label) in zip(by, r["cells"], strict=True)},
                             ref="insights:gap"))
    return out


def _gap_now(c: Citation, protected: bool) -> float | None:
    from tiplab_web.insights import gap

    result = _gap_result()
    by = result["parameters"]["by"]
    for r in gap.rows(result, protected):
        if {b: str(v) for b, (v, _label) in zip(by, r["cells"], strict=True)} == \
                {k: str(v) for k, v in c.selector.items()}:
            return _num(r["gap"])
    return None


def _vulnerability_result() -> dict[str, Any]:
    from tiplab_web.jobs.models import Job

    job = Job.objects.filter(kind="insights.vulnerability", status=Job.SUCCEEDED) \
        .order_by("-finished_at").first()
    if job is None or not job.result:
        raise NoEvidence(_("The vulnerability index has not been computed yet "
                           "(Vulnerability page)."))
    return dict(job.result)


def _vulnerability_candidates() -> list[Candidate]:
    from tiplab_web.insights import vulnerability

    result = _vulnerability_result()
    version = result["index"].get("data_version", "")
    return [Candidate("vulnerability", _("%(label)s: rank %(rank)s (90%% of ranks "
                                         "%(lo)s–%(hi)s)")
                      % {"label": r.get("label") or r["unit"], "rank": r["rank"],
                         "lo": r.get("rank_p05"), "hi": r.get("rank_p95")},
                      _num(r["rank"]), "rank (1 = most vulnerable)", version,
                      {"parameters": result["index"].get("parameters", {})},
                      {"unit": r["unit"]}, ref="insights:vulnerability")
            for r in vulnerability.rows(result)]


def _legal_candidates(user: Any) -> list[Candidate]:
    from tiplab.policy import legal
    from tiplab_web.assessment import services as assessment
    from tiplab_web.assessment.models import LegalAssessment

    out = []
    qs = LegalAssessment.objects.filter(organisation=organisation_of(user)) \
        .order_by("country", "-date")
    seen = set()
    for a in qs:
        if (a.country, a.instrument) in seen:
            continue  # the latest assessment of each country and instrument
        seen.add((a.country, a.instrument))
        inst = assessment.instrument_of(a)
        for g in legal.gaps(inst, assessment.as_core(a)):
            out.append(Candidate(
                "legal_gap", f"{a.country} · {inst.short_title} · {g.label}: "
                + (_("partly") if g.answer == "partial" else _("no")),
                {"no": 0.0, "partial": 0.5}[g.answer],
                "compliance (1 = yes, 0.5 = partly, 0 = no)", f"assessment-{a.pk}",
                {"instrument": g.instrument}, {"country": a.country, "item": g.item,
                                               "instrument": g.instrument},
                ref=f"{g.instrument}:{g.item}", note=g.why, gap=asdict(g)))
    return out


# --- qualitative evidence: coded themes and quotations of interview notes ----------------------


def _notes_version(user: Any) -> str:
    """The state of the organisation's coded notes: the newest coding and how many there are
    (a theme count cited on one state is compared with today's)."""
    from django.db.models import Count, Max

    from tiplab_web.evidence.models import Coding

    agg = Coding.objects.filter(note__organisation=organisation_of(user)) \
        .aggregate(m=Max("pk"), n=Count("pk"))
    return f"notes-{agg['m'] or 0}-{agg['n']}"


def _theme_candidates(user: Any) -> list[Candidate]:
    """Consented notes carrying each code; a count below the release threshold is not offered
    to a role that may not read the notes in full (as on the themes page)."""
    from tiplab_web.evidence import services as ev
    from tiplab_web.evidence import themes

    cb = ev.codebook(user)
    version = _notes_version(user)
    t, protect = themes.threshold(), themes.protected_for(user)
    out = []
    for code in cb.codes:
        n = themes.theme_total(user, code.key)
        if n == 0 or (protect and n < t):
            continue
        out.append(Candidate("theme", _("%(label)s: in %(n)s consented interview notes")
                             % {"label": code.label, "n": n}, float(n), "interview notes",
                             version, {"codebook": cb.content_hash()}, {"code": code.key},
                             ref=f"evidence:theme:{code.key}", note=code.description))
    out.sort(key=lambda c: -(c.value or 0))
    if not out:
        raise NoEvidence(_("No coded interview notes yet (Evidence › Notes)."))
    return out


def _theme_now(c: Citation, user: Any) -> float | None:
    from tiplab_web.evidence import themes

    n = themes.theme_total(user, str(c.selector.get("code", "")))
    if n == 0 or (themes.protected_for(user) and n < themes.threshold()):
        return None
    return float(n)


def _quotation_candidates(user: Any) -> list[Candidate]:
    """Redacted quotations from notes whose speakers agreed to be quoted; cited by their id
    (no figure: a quotation illustrates, it does not measure)."""
    from tiplab_web.evidence import services as ev

    version = _notes_version(user)
    out = []
    for q in ev.quotations_for(user).order_by("-number")[:MAX_CANDIDATES]:
        d = ev.quotation_dict(q)
        text = d["text"] if len(d["text"]) <= 160 else d["text"][:157] + "…"
        out.append(Candidate("quotation", f"“{text}”", None, "", version,
                             {"codes": d["codes"]}, {"quotation": d["id"]}, ref=d["id"],
                             note=d["reference"]))
    if not out:
        raise NoEvidence(_("No quotations yet: quote a passage of a note whose speaker agreed "
                           "to be quoted (Evidence › Notes)."))
    return out


def _legal_now(c: Citation, user: Any, memo: dict[Any, Any]) -> float | None:
    """The answer to the cited item in the latest assessment of the cited country."""
    from tiplab_web.assessment.models import LegalAssessment

    country = str(c.selector.get("country", ""))
    key = ("legal", country)
    if key not in memo:
        a = LegalAssessment.objects.filter(organisation=organisation_of(user),
                                           country=country).order_by("-date").first()
        memo[key] = None if a is None else dict(a.answers.values_list("item", "answer"))
    answers = memo[key]
    if answers is None:
        return None
    answer = answers.get(str(c.selector.get("item", "")), "unknown")
    return {"yes": 1.0, "partial": 0.5, "no": 0.0}.get(answer)


# --- the two entry points ----------------------------------------------------------------------


def candidates(kind: str, user: Any, params: dict[str, Any] | None = None) -> list[Candidate]:
    """The figures of ``kind`` a measure can cite now (at most 40, the largest first)."""
    from tiplab_web.insights.analyses import NoData

    protected = _services().aggregate_only(user)
    params = dict(params or {})
    try:
        if kind == "trend":
            found = _trend_candidates(params, protected)
        elif kind == "hotspot":
            found = _hotspot_candidates(params, protected)
        elif kind == "route":
            found = _route_candidates(params, protected)
        elif kind == "profile":
            found = _profile_candidates(params, protected)
        elif kind == "estimate":
            found = _estimate_candidates(user)
        elif kind == "gap":
            found = _gap_candidates(protected)
        elif kind == "vulnerability":
            found = _vulnerability_candidates()
        elif kind == "legal_gap":
            found = _legal_candidates(user)
        elif kind == "theme":
            found = _theme_candidates(user)
        elif kind == "quotation":
            found = _quotation_candidates(user)
        else:
            raise NoEvidence(_("Unknown kind of evidence: %(k)s") % {"k": kind})
    except NoData as e:
        raise NoEvidence(str(e)) from e
    return found[:MAX_CANDIDATES]


def current_value(c: Citation, user: Any, memo: dict[Any, Any] | None = None
                  ) -> float | None:
    """The cited figure on the current data; None when it no longer exists; LookupError
    when it cannot be computed now (no data, no job result yet). ``memo`` (one dict per
    check of a plan) keeps what several citations share: a result's rows, an assessment."""
    import json

    from tiplab_web.insights.analyses import NoData

    memo = {} if memo is None else memo
    if "protected" not in memo:
        memo["protected"] = _services().aggregate_only(user)
    protected = memo["protected"]
    try:
        if c.kind in ("trend", "hotspot", "route", "profile"):
            finder = {"trend": lambda: _trend(c.params, protected)[1],
                      "hotspot": lambda: _hotspots(c.params, protected)[1],
                      "route": lambda: _routes(c.params, protected)[1],
                      "profile": lambda: _profiles(c.params, protected)[1]}[c.kind]
            column = {"trend": "value", "hotspot": "gi_z", "route": "n",
                      "profile": "share"}[c.kind]
            key = ("rows", c.kind, json.dumps(c.params, sort_keys=True, default=str))
            if key not in memo:
                memo[key] = finder()
            found_rows = memo[key]
            if c.kind == "trend" and found_rows and "value" not in found_rows[0]:
                column = "n"
            row = next((r for r in found_rows if _match(r, c.selector)), None)
            if row is None or row.get(column) is None:
                return None
            value = float(row[column])
            return round(value * 100, 2) if c.kind == "profile" else value
        if c.kind == "estimate":
            return _estimate_now(c, user)
        if c.kind == "gap":
            return _gap_now(c, protected)
        if c.kind == "vulnerability":
            from tiplab_web.insights import vulnerability

            if ("vulnerability",) not in memo:
                memo[("vulnerability",)] = vulnerability.rows(_vulnerability_result())
            rows = memo[("vulnerability",)]
            row = next((r for r in rows if r["unit"] == c.selector.get("unit")), None)
            return None if row is None else float(row["rank"])
        if c.kind == "legal_gap":
            return _legal_now(c, user, memo)
        if c.kind == "theme":
            return _theme_now(c, user)
        if c.kind == "quotation":  # 1 while it may be shown (consent kept), else gone
            from tiplab_web.evidence import services as ev

            try:
                ev.find_quotation(user, str(c.selector.get("quotation", c.ref)))
            except ev.EvidenceError:
                return None
            return 1.0
    except (NoData, NoEvidence) as e:
        raise LookupError(str(e)) from e
    raise LookupError(f"{EVIDENCE_KINDS.get(c.kind, c.kind)} cannot be recomputed")


def state_stamp(user: Any) -> str:
    """What else than the data version moves cited figures: the assessments' answers, the
    finished background jobs (gap, vulnerability, estimates) and the estimate of record. Part
    of the evidence check's cache key, so a changed answer is seen at once."""
    from django.db.models import Count, Max

    from tiplab_web.assessment.models import LegalAnswer
    from tiplab_web.estimates.models import EstimateOfRecord
    from tiplab_web.jobs.models import Job

    org = organisation_of(user)
    answers = LegalAnswer.objects.filter(assessment__organisation=org) \
        .aggregate(m=Max("updated_at"), n=Count("pk"))
    jobs = Job.objects.filter(status=Job.SUCCEEDED).aggregate(m=Max("finished_at"))
    record = EstimateOfRecord.objects.filter(organisation=org).aggregate(m=Max("pk"))
    from tiplab_web.evidence.models import Quotation

    quotable = Quotation.objects.filter(organisation=org, note__consent_quote=True,
                                        note__consent_analysis=True).count()
    return (f"{answers['m']}|{answers['n']}|{jobs['m']}|{record['m']}|{_notes_version(user)}"
            f"|{quotable}")


def data_version() -> str:
    """The data version the analysis figures are computed on now (raises when there is no
    data at all)."""
    return str(_services().data_version())
