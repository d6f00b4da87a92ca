"""The single gate for writes to reviews and impact evaluations, and the scorecard read from
the approved values of the reporting rounds (``tiplab_web.monitoring``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.policy import plan as core
from tiplab.policy import scorecard as sc
from tiplab_web.audit.services import record
from tiplab_web.plans import services as plans
from tiplab_web.plans.models import Plan

from .models import Recommendation, Review


class EvaluationError(ValidationError):
    """A change refused, with a message for the person who asked."""


def _user(request_or_user: Any) -> Any:
    return getattr(request_or_user, "user", request_or_user)


def today() -> dt.date:
    return timezone.localdate()


# --- scorecards ------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _parsed(revision_id: int, content_hash: str) -> core.Plan:
    from tiplab_web.plans.models import PlanRevision

    return core.plan_from_dict(PlanRevision.objects.values_list("document", flat=True)
                               .get(pk=revision_id))


def current_doc(plan: Plan) -> core.Plan:
    """The plan's current document, parsed once per revision (revisions never change; the
    key includes the content hash, so another database's revision of the same id is not
    mistaken for it). Shared: read it, never change it (``plans.services.mutate`` works on a
    copy)."""
    rev = plans.latest(plan)
    return _parsed(rev.pk, rev.content_hash)


def approved_values(plan: Plan) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """``{(measure, indicator): [(period, value)]}``: the approved values of the plan's
    reporting rounds (only approved values count)."""
    from tiplab_web.monitoring import services as monitoring

    out: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for key, rows in monitoring.approved_values(plan).items():
        out[key] = [(str(r[0]), float(r[1])) for r in rows]
    return out


def computed_values(plan: Plan, doc: core.Plan | None = None
                    ) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """``{(measure, indicator): [(year, value)]}`` for the plan's indicators that tiplab
    computes from the case records and aggregate statistics (``tiplab.policy.indicators``),
    on the current data version (cached per version: recomputed when the data change)."""
    from tiplab.policy.indicators import COMPUTED, IndicatorError, compute, how_obtained
    from tiplab_web.insights import services as insights

    doc = doc or current_doc(plan)
    wanted: dict[str, list[str]] = {}
    for _o, m in doc.measures():
        for mi in m.indicators:
            try:
                computed = how_obtained(mi.indicator).how == COMPUTED
            except IndicatorError:  # a custom indicator: submitted
                computed = False
            if computed:
                wanted.setdefault(mi.indicator, []).append(m.id)
    if not wanted:
        return {}
    try:
        insights.require_records("case")
        version = insights.data_version()
    except insights.NoData:  # no case data yet: nothing computed
        return {}

    unit = "persons" if insights.linkage_available() else "records"
    snap = insights.snapshot()
    link = snap.linkage.tag if snap.linkage else ""

    def run() -> dict[str, list[tuple[str, float]]]:
        result = compute(insights.engine(unit), indicators=sorted(wanted),
                         data_version=version)
        out: dict[str, list[tuple[str, float]]] = {}
        for v in result.values:
            if v.dimension is None and v.value is not None:
                out.setdefault(v.indicator, []).append((str(v.year), float(v.value)))
        return out

    by_indicator = insights.per_version(
        f"indicators:{unit}:{link}:{','.join(sorted(wanted))}", run)
    return {(m, ind): list(vals) for ind, vals in by_indicator.items()
            for m in wanted.get(ind, [])}


def scorecard(plan: Plan, year: int | None = None, doc: core.Plan | None = None
              ) -> sc.Scorecard:
    """Approved values of the reporting rounds, and the values tiplab computes itself (a
    submitted value for the same period wins: an agency may correct what the records say)."""
    doc = doc or current_doc(plan)
    values = computed_values(plan, doc)
    for key, rows in approved_values(plan).items():
        have = {p for p, _v in rows}
        values[key] = [*rows, *[(p, v) for p, v in values.get(key, []) if p not in have]]
    return sc.scorecard(doc, values, year=year, today=today())


# --- reviews ---------------------------------------------------------------------------------


def _due(kind: str, year: int) -> dt.date:
    # the review of a year looks at it once its data are in: by the end of the next March
    return dt.date(year + 1, 3, 31)


@transaction.atomic
def schedule(request: Any, plan: Plan) -> list[Review]:
    """The plan's review schedule: an annual review of each year, the mid-term review (the
    middle year) and the final evaluation (the last year). Existing reviews are kept."""
    doc = current_doc(plan)
    years = list(range(doc.start_year, doc.end_year + 1))
    wanted = [("annual", y) for y in years[:-1]]
    wanted.append(("mid_term", years[(len(years) - 1) // 2]))
    wanted.append(("final", years[-1]))
    made = []
    for kind, year in wanted:
        review, created = Review.objects.get_or_create(
            plan=plan, kind=kind, year=year,
            defaults={"due_on": _due(kind, year), "created_by": _user(request)})
        if created:
            made.append(review)
    if made:
        record(request, "evaluation.schedule", plan, reviews=len(made))
    return made


@transaction.atomic
def hold(request: Any, review: Review, findings: str = "") -> Review:
    """Hold the review: keep the scorecard and the evidence's data version as the reviewers
    see them now (a later reader sees what they saw)."""
    if review.status == Review.Status.COMPLETED:
        raise EvaluationError(_("This review is completed; its snapshot does not change."))
    card = scorecard(review.plan, review.year)
    try:
        from tiplab_web.plans.evidence import data_version

        version = data_version()
    except Exception:
        version = ""
    review.snapshot = {"scorecard": card.to_dict(), "data_version": version,
                       "taken_at": timezone.now().isoformat(timespec="seconds")}
    review.revision = plans.latest(review.plan)
    review.status = Review.Status.HELD
    review.held_on = today()
    if findings.strip():
        review.findings = findings.strip()
    review.save()
    record(request, "evaluation.hold", review, year=review.year, revision=review.revision.number)
    return review


@transaction.atomic
def save_findings(request: Any, review: Review, findings: str) -> Review:
    if review.status == Review.Status.COMPLETED:
        raise EvaluationError(_("This review is completed; its findings do not change."))
    review.findings = findings.strip()
    review.save(update_fields=["findings"])
    record(request, "evaluation.findings", review)
    return review


def _check_proposal(doc: core.Plan, measure: str, change: str,
                    proposal: dict[str, Any]) -> dict[str, Any]:
    if not change:
        return {}
    try:
        m = doc.measure(measure)
    except (KeyError, core.PlanError):
        raise EvaluationError(_("The plan has no measure %(m)s.") % {"m": measure}) from None
    if change == "target":
        ind = str(proposal.get("indicator", ""))
        if ind not in {mi.indicator for mi in m.indicators}:
            raise EvaluationError(_("Measure %(m)s has no indicator %(i)s.")
                                  % {"m": measure, "i": ind})
        try:
            year, value = int(proposal.get("year", 0)), float(proposal.get("value", ""))
        except (TypeError, ValueError):
            raise EvaluationError(_("A target needs a year and a number.")) from None
        if not doc.start_year <= year <= doc.end_year:
            raise EvaluationError(_("%(y)s is outside the plan's period (%(a)s–%(b)s).")
                                  % {"y": year, "a": doc.start_year, "b": doc.end_year})
        return {"indicator": ind, "year": year, "value": value}
    if change == "description":
        text = str(proposal.get("description", "")).strip()
        if not text:
            raise EvaluationError(_("Write the new description."))
        return {"description": text}
    if change == "status":
        status = str(proposal.get("status", ""))
        if status not in core.MEASURE_STATUSES:
            raise EvaluationError(_("Unknown measure status."))
        return {"status": status}
    raise EvaluationError(_("Unknown kind of change."))


@transaction.atomic
def recommend(request: Any, review: Review, text: str, *, measure: str = "", change: str = "",
              proposal: dict[str, Any] | None = None) -> Recommendation:
    if review.status == Review.Status.SCHEDULED:
        raise EvaluationError(_("Hold the review first: its recommendations rest on the "
                                "scorecard it keeps."))
    if review.status == Review.Status.COMPLETED:
        raise EvaluationError(_("This review is completed."))
    text = (text or "").strip()
    if not text:
        raise EvaluationError(_("Write the recommendation."))
    checked = _check_proposal(current_doc(review.plan), measure, change, proposal or {})
    number = (review.recommendations.order_by("-number").values_list("number", flat=True)
              .first() or 0) + 1
    rec = Recommendation.objects.create(review=review, number=number, text=text,
                                        measure=measure if change or measure else "",
                                        change=change, proposal=checked)
    record(request, "evaluation.recommend", rec, review=review.pk, change=change or None)
    return rec


def _apply(rec: Recommendation) -> Any:
    p = rec.proposal

    def change(doc: core.Plan) -> None:
        m = doc.measure(rec.measure)
        if rec.change == "target":
            mi = next(x for x in m.indicators if x.indicator == p["indicator"])
            mi.targets[int(p["year"])] = float(p["value"])
            problems = core.direction_problems(mi)
            if problems:
                raise core.PlanError(problems)
        elif rec.change == "description":
            m.description = p["description"]
        elif rec.change == "status":
            m.status = p["status"]

    return change


@transaction.atomic
def decide(request: Any, rec: Recommendation, accept: bool, reason: str = "") -> Recommendation:
    """Accept (a proposal is applied to the plan as a new revision whose comment names the
    review) or decline a recommendation."""
    if rec.status != Recommendation.Status.PROPOSED:
        raise EvaluationError(_("This recommendation has been decided."))
    review = rec.review
    if accept and rec.change:
        plan = review.plan
        if not core.editable(plan.status):
            raise EvaluationError(_(
                "Version %(v)s of the plan is %(s)s and cannot change. Start its next "
                "version (the plan page: “Start a new version”), then accept the proposal: "
                "it goes into that version.") % {
                    "v": plan.version, "s": core.PLAN_STATUSES[plan.status].lower()})
        comment = (f"{review.get_kind_display()} {review.year}, recommendation "
                   f"{rec.number}: {rec.get_change_display().lower()} of {rec.measure}")
        try:
            rec.applied_revision = plans.mutate(request, plan, _apply(rec), comment)
        except ValidationError as e:
            raise EvaluationError(" ".join(e.messages)) from None
    if not accept and not reason.strip():
        raise EvaluationError(_("Say why the recommendation is not taken up."))
    rec.status = Recommendation.Status.ACCEPTED if accept else Recommendation.Status.REJECTED
    rec.reason = reason.strip()[:500]
    rec.decided_by = _user(request)
    rec.decided_at = timezone.now()
    rec.save()
    record(request, "evaluation.decide", rec, accepted=accept,
           revision=rec.applied_revision.number if rec.applied_revision else None)
    return rec


@transaction.atomic
def complete(request: Any, review: Review) -> Review:
    if review.status != Review.Status.HELD:
        raise EvaluationError(_("Only a review that was held can be completed."))
    open_ = review.recommendations.filter(status="proposed").count()
    if open_:
        raise EvaluationError(_("%(n)d recommendations are still undecided.") % {"n": open_})
    if not review.findings.strip():
        raise EvaluationError(_("Write the review's findings before completing it."))
    review.status = Review.Status.COMPLETED
    review.completed_at = timezone.now()
    review.save(update_fields=["status", "completed_at"])
    record(request, "evaluation.complete", review)
    return review
