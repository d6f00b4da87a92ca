"""What the assessment pages do, away from the views: instruments of an organisation, the
assessment as ``tiplab.policy.legal`` objects, saving answers, review, re-assessment, imports,
harmonisation and the demo. Every change is audited and lands whole or not at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tiplab.policy import legal
from tiplab_web.audit.services import record

from .models import Instrument, LegalAnswer, LegalAssessment

EVIDENCE = ("statute", "article", "excerpt", "link", "comment")


class AssessmentError(Exception):
    """A request the assessment pages refuse, in words for the user."""


def instruments_for(org: Any) -> dict[str, legal.Instrument]:
    """The shipped instruments and the organisation's own (latest version of each)."""
    out = legal.builtin_instruments()
    if org is not None:
        for row in Instrument.objects.filter(organisation=org).order_by("ident", "version"):
            out[row.ident] = legal.load_instrument(row.yaml, name=str(row))
    return out


def instrument_of(assessment: LegalAssessment) -> legal.Instrument:
    """The instrument, at the version the assessment answers."""
    shipped = legal.builtin_instruments().get(assessment.instrument)
    if shipped is not None and shipped.version == assessment.instrument_version:
        return shipped
    row = Instrument.objects.filter(organisation=assessment.organisation,
                                    ident=assessment.instrument,
                                    version=assessment.instrument_version).first()
    if row is None:
        raise AssessmentError(f"instrument {assessment.instrument} version "
                              f"{assessment.instrument_version} is no longer available")
    return legal.load_instrument(row.yaml, name=str(row))


def as_core(assessment: LegalAssessment) -> legal.Assessment:
    answers = {a.item: legal.Answer(a.item, a.answer, *(getattr(a, f) for f in EVIDENCE))
               for a in assessment.answers.all()}
    return legal.Assessment(
        country=assessment.country, instrument=assessment.instrument,
        instrument_version=assessment.instrument_version, date=assessment.date,
        answers=answers, assessor=assessment.assessor.get_username(),
        reviewer=assessment.reviewer.get_username() if assessment.reviewer else "",
        illustrative=assessment.illustrative, note=assessment.note)


def create(request: Any, org: Any, *, country: str, instrument: str, date: dt.date,
           note: str = "") -> LegalAssessment:
    """A new assessment; when the country was assessed against the instrument before, the
    latest earlier assessment's answers are the starting point (and it stays as history)."""
    known = instruments_for(org)
    if instrument not in known:
        raise AssessmentError(f"unknown instrument {instrument!r}")
    try:
        code = legal.country_code(country)
    except ValueError as e:
        raise AssessmentError(str(e)) from e
    inst = known[instrument]
    previous = (LegalAssessment.objects.filter(organisation=org, country=code,
                                               instrument=instrument, date__lt=date)
                .order_by("-date", "-id").first())
    try:
        with transaction.atomic():
            a = LegalAssessment.objects.create(
                organisation=org, country=code, instrument=instrument,
                instrument_version=inst.version, date=date, note=note,
                assessor=request.user, previous=previous)
            items = {i.id for i in inst.items}
            if previous is not None:
                LegalAnswer.objects.bulk_create(
                    LegalAnswer(assessment=a, item=p.item, answer=p.answer,
                                **{f: getattr(p, f) for f in EVIDENCE}, updated_by=request.user)
                    for p in previous.answers.all() if p.item in items)
    except IntegrityError:
        raise AssessmentError(f"{code} already has an assessment against {inst.short_title} "
                              f"dated {date}; open it, or choose another date") from None
    record(request, "assessment.create", a, country=code, instrument=inst.key,
           date=date.isoformat(), previous=previous.pk if previous else None)
    return a


def save_answer(request: Any, assessment: LegalAssessment, item: str,
                data: dict[str, str]) -> LegalAnswer:
    """Save one item's answer and evidence (checked against the instrument first)."""
    if not assessment.editable:
        raise AssessmentError("this assessment has been reviewed: re-assess to change it")
    inst = instrument_of(assessment)
    answer = legal.Answer(item, (data.get("answer") or "unknown").strip(),
                          *((data.get(f) or "").strip() for f in EVIDENCE))
    problems = legal.check_answer(inst, answer)
    if problems:
        raise AssessmentError("; ".join(problems))
    row, _created = LegalAnswer.objects.update_or_create(
        assessment=assessment, item=item,
        defaults={"answer": answer.answer, **{f: getattr(answer, f) for f in EVIDENCE},
                  "updated_by": request.user})
    record(request, "assessment.answer", assessment, item=item, answer=answer.answer,
           evidence=answer.has_evidence)
    return row


def review(request: Any, assessment: LegalAssessment, note: str) -> None:
    """A second person confirms the assessment; it is then read-only (re-assess to change)."""
    if not assessment.editable:
        raise AssessmentError("this assessment has already been reviewed")
    if assessment.assessor_id == request.user.pk:
        raise AssessmentError("the reviewer must be someone other than the assessor")
    if not assessment.answers.exclude(answer="unknown").exists():
        raise AssessmentError("nothing has been answered yet")
    assessment.status = LegalAssessment.REVIEWED
    assessment.reviewer = request.user
    assessment.reviewed_at = timezone.now()
    assessment.review_note = note
    assessment.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
    record(request, "assessment.review", assessment, note=note[:200])


def import_answers_csv(request: Any, assessment: LegalAssessment, text: str) -> int:
    """Replace the answers with those of a filled-in CSV template (all or nothing)."""
    if not assessment.editable:
        raise AssessmentError("this assessment has been reviewed: re-assess to change it")
    try:
        answers = legal.answers_from_csv(instrument_of(assessment), text)
    except legal.LegalError as e:
        raise AssessmentError(str(e)) from e
    with transaction.atomic():
        assessment.answers.all().delete()
        LegalAnswer.objects.bulk_create(
            LegalAnswer(assessment=assessment, item=a.item, answer=a.answer,
                        **{f: getattr(a, f) for f in EVIDENCE}, updated_by=request.user)
            for a in answers.values())
    record(request, "assessment.import_csv", assessment, answers=len(answers))
    return len(answers)


def import_yaml(request: Any, org: Any, text: str, name: str,
                illustrative: bool | None = None) -> LegalAssessment:
    """An assessment file (``tiplab assess legal export`` layout) as a new assessment."""
    try:
        core = legal.load_assessment(text, instruments_for(org), name=name)
    except legal.LegalError as e:
        raise AssessmentError(str(e)) from e
    try:
        with transaction.atomic():
            a = LegalAssessment.objects.create(
                organisation=org, country=core.country, instrument=core.instrument,
                instrument_version=core.instrument_version, date=core.date,
                illustrative=core.illustrative if illustrative is None else illustrative,
                note=core.note, assessor=request.user if hasattr(request, "user") else request,
                previous=LegalAssessment.objects.filter(
                    organisation=org, country=core.country, instrument=core.instrument,
                    date__lt=core.date).order_by("-date", "-id").first())
            LegalAnswer.objects.bulk_create(
                LegalAnswer(assessment=a, item=x.item, answer=x.answer,
                            **{f: getattr(x, f) for f in EVIDENCE})
                for x in core.answers.values())
    except IntegrityError:
        raise AssessmentError(f"{core.country} already has an assessment against "
                              f"{core.instrument} dated {core.date}") from None
    record(request, "assessment.import", a, country=core.country, instrument=core.instrument,
           date=core.date.isoformat(), answers=len(core.answers))
    return a


def add_instrument(request: Any, org: Any, text: str, name: str) -> Instrument:
    try:
        inst = legal.load_instrument(text, name=name)
    except legal.LegalError as e:
        raise AssessmentError(str(e)) from e
    if inst.id in legal.builtin_instruments():
        raise AssessmentError(f"{name}: instrument id {inst.id!r} is shipped with tiplab; give "
                              "your own instrument another id")
    current = Instrument.objects.filter(organisation=org, ident=inst.id).order_by(
        "-version").first()
    if current is not None and current.version >= inst.version:
        raise AssessmentError(f"{name}: {inst.id} version {current.version} is already here; "
                              f"raise the version (to {current.version + 1}) for a changed "
                              "instrument")
    row = Instrument.objects.create(organisation=org, ident=inst.id, version=inst.version,
                                    title=inst.title, yaml=inst.to_yaml(), digest=inst.digest,
                                    created_by=request.user)
    record(request, "assessment.instrument_add", row, instrument=inst.key,
           items=len(inst.items))
    return row


def harmonise(org: Any, instrument: str) -> legal.Harmonisation | None:
    """The latest assessment of each country against ``instrument`` compared, with the
    shipped external ratings; None with fewer than two countries."""
    rows = (LegalAssessment.objects.filter(organisation=org, instrument=instrument)
            .select_related("assessor", "reviewer").prefetch_related("answers"))
    if len({r.country for r in rows}) < 2:
        return None
    inst = instruments_for(org)[instrument]
    found = [as_core(r) for r in rows if r.instrument_version == inst.version]
    if len({a.country for a in found}) < 2:
        return None
    return legal.harmonisation(inst, found, legal.shipped_ratings())


def load_demo(assessor: Any, reviewer: Any, org: Any) -> int:
    """The illustrative assessments shipped with tiplab (three countries against the Palermo
    Protocol; the United Kingdom twice, so that the changes since the last assessment show),
    once. The latest of each country is reviewed by ``reviewer``, the earlier one is left as
    it was: a draft that was superseded."""
    if LegalAssessment.objects.filter(organisation=org).exists():
        return 0
    made = [import_yaml(assessor, org, p.read_text(encoding="utf-8"), p.name, illustrative=True)
            for p in legal.demo_assessments()]
    latest: dict[str, LegalAssessment] = {}
    for a in made:
        if a.country not in latest or a.date > latest[a.country].date:
            latest[a.country] = a
    for a in latest.values():
        a.status = LegalAssessment.REVIEWED
        a.reviewer = reviewer
        a.reviewed_at = timezone.now()
        a.review_note = "Demo: illustrative answers, reviewed for the demonstration only."
        a.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
    return len(made)
