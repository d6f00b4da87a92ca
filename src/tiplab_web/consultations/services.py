"""The single gate for writes to consultations and anonymous input: every change goes
through a function here, which checks it, saves it in one transaction and writes the audit
entry. Views, the API, the CLI and the demo call these; none writes the models itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.config import key_dir
from tiplab.keys import load_or_create_secret
from tiplab.policy import consultation as core
from tiplab.policy import questionnaires as qs
from tiplab.policy.plan import plan_from_dict
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, organisation_of
from tiplab_web.core.sealed import open_text, seal_text
from tiplab_web.plans.models import Plan, PlanRevision

from .models import (
    Consultation,
    Contribution,
    Invitation,
    Reaction,
    Response,
    VoiceAnswer,
    VoiceCode,
)

MAX_BODY = 5000
MAX_CODES = 1000
#: Crockford's base32: no I, L, O, U (nothing to confuse when typed from paper)
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 12  #: 60 bits
RECEIPT_CHARS = 16  #: 80 bits
RECEIPT_DAYS = 180
_TYPO = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


class ConsultationError(ValidationError):
    """A change refused, with a message for the person who asked."""


def _user(request_or_user: Any) -> Any:
    return getattr(request_or_user, "user", request_or_user)


# --- reading ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _units_cached(revision_id: int, content_hash: str) -> tuple[core.Unit, ...]:
    doc = PlanRevision.objects.values_list("document", flat=True).get(pk=revision_id)
    return tuple(core.units(plan_from_dict(doc)))


def _units_of(revision_id: int) -> tuple[core.Unit, ...]:
    """The units of a revision (revisions never change: cached by id and content hash, so a
    revision of the same id in another database is not mistaken for it)."""
    content_hash = PlanRevision.objects.values_list("content_hash", flat=True).get(
        pk=revision_id)
    return _units_cached(revision_id, content_hash)


def units(c: Consultation) -> list[core.Unit]:
    """The parts of the plan this consultation is about, in the plan's order."""
    # the revision is loaded once per consultation object (most views select it with it)
    all_units = _units_cached(c.revision_id, c.revision.content_hash)
    if not c.scope:
        return list(all_units)
    keep = set(c.scope)
    return [u for u in all_units if u.key in keep]


def unit(c: Consultation, key: str) -> core.Unit | None:
    return next((u for u in units(c) if u.key == key), None)


def visible_to(user: Any) -> QuerySet[Consultation]:
    """The consultations ``user`` may see: the drafting organisation's own (its policy
    officers and evidence roles), and those their organisation is invited to."""
    org = organisation_of(user)
    if org is None or not can(user, "consultations.view"):
        return Consultation.objects.none()
    own = Q(organisation=org) if can(user, "plans.view") or can(
        user, "consultations.manage") else Q(pk__in=[])
    return Consultation.objects.filter(own | Q(invitations__organisation=org)).distinct()


def manages(user: Any, c: Consultation) -> bool:
    return can(user, "consultations.manage") and organisation_of(user) == c.organisation


def group_of(user: Any, c: Consultation) -> str | None:
    """The stakeholder group ``user`` speaks for in ``c`` (None: not invited)."""
    org = organisation_of(user)
    if org is None:
        return None
    if org == c.organisation:
        return "government"
    inv = c.invitations.filter(organisation=org).first()
    return inv.group if inv is not None else None


def may_contribute(user: Any, c: Consultation) -> bool:
    return (can(user, "consultations.comment") and c.is_open
            and group_of(user, c) is not None)


def published(c: Consultation) -> QuerySet[Contribution]:
    return c.contributions.filter(hidden=False)


def unit_counts(c: Consultation) -> dict[str, dict[str, int]]:
    """Per unit: published contributions, amendments and unanswered ones (one query)."""
    rows = (c.contributions.filter(hidden=False).values("unit")
            .annotate(n=Count("id"), amendments=Count("id", filter=Q(kind="amendment")),
                      unanswered=Count("id", filter=Q(response__isnull=True)
                                       & ~Q(kind="reply")),
                      survivor=Count("id", filter=Q(survivor=True))))
    return {r["unit"]: r for r in rows}


# --- consultations ---------------------------------------------------------------------------


def group_for_organisation(org: Any) -> str:
    return core.GROUP_OF_KIND.get(getattr(org, "kind", "other"), "community")


@transaction.atomic
def create(request: Any, plan: Plan, *, title: str, opens_on: dt.date, closes_on: dt.date,
           description: str = "", scope: Sequence[str] = (),
           invitations: Iterable[tuple[Any, str]] = (), revision: PlanRevision | None = None,
           illustrative: bool = False) -> Consultation:
    user = _user(request)
    rev = revision or plan.revisions.order_by("-number").first()
    if rev is None or rev.plan_id != plan.pk:
        raise ConsultationError(_("Choose a revision of this plan to consult on."))
    if closes_on < opens_on:
        raise ConsultationError(_("The consultation closes (%(c)s) before it opens (%(o)s).")
                                % {"c": closes_on, "o": opens_on})
    keys = {u.key for u in _units_of(rev.pk)}
    unknown = [k for k in scope if k not in keys]
    if unknown:
        raise ConsultationError(_("Not part of the plan: %(keys)s.")
                                % {"keys": ", ".join(unknown)})
    if not title.strip():
        raise ConsultationError(_("Give the consultation a title."))
    c = Consultation.objects.create(
        organisation=plan.organisation, plan=plan, revision=rev, title=title.strip(),
        description=description.strip(), scope=list(scope), opens_on=opens_on,
        closes_on=closes_on, created_by=user, illustrative=illustrative)
    for org, group in invitations:
        invite(request, c, org, group)
    record(request, "consultations.create", c, plan=plan.ident, revision=rev.number,
           units=len(scope) or "all")
    return c


def invite(request: Any, c: Consultation, org: Any, group: str = "") -> Invitation:
    group = group or group_for_organisation(org)
    if group not in core.GROUPS:
        raise ConsultationError(_("Unknown stakeholder group: %(g)s") % {"g": group})
    if org == c.organisation:
        raise ConsultationError(_("The drafting organisation takes part without an "
                                  "invitation."))
    inv, created = Invitation.objects.update_or_create(
        consultation=c, organisation=org, defaults={"group": group})
    record(request, "consultations.invite", c, organisation=org.name, group=group,
           new=created)
    return inv


@transaction.atomic
def close(request: Any, c: Consultation) -> None:
    if c.closed_at is None:
        c.closed_at = timezone.now()
        c.save(update_fields=["closed_at"])
        record(request, "consultations.close", c)


# --- contributions ---------------------------------------------------------------------------


def _clean_text(text: str, what: str) -> str:
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise ConsultationError(_("Write your %(what)s before sending it.") % {"what": what})
    if len(text) > MAX_BODY:
        raise ConsultationError(_("Your %(what)s is %(n)d characters long; the limit is "
                                  "%(max)d.") % {"what": what, "n": len(text), "max": MAX_BODY})
    return text


@transaction.atomic
def contribute(request: Any, c: Consultation, unit_key: str, kind: str, body: str, *,
               suggested_text: str = "", parent: Contribution | None = None) -> Contribution:
    user = _user(request)
    if not c.is_open:
        raise ConsultationError(_("This consultation is %(state)s: contributions are no longer "
                                  "accepted.") % {"state": _state_word(c.state)})
    group = group_of(user, c)
    if group is None or not can(user, "consultations.comment"):
        raise ConsultationError(_("Your organisation is not invited to this consultation."))
    u = unit(c, unit_key)
    if u is None:
        raise ConsultationError(_("This part of the plan is not open for comments."))
    if kind not in Contribution.Kind.values:
        raise ConsultationError(_("Unknown kind of contribution."))
    body = _clean_text(body, _("comment"))
    suggested = ""
    if kind == Contribution.Kind.AMENDMENT:
        suggested = _clean_text(suggested_text, _("suggested text"))
        if suggested == u.text.strip():
            raise ConsultationError(_("The suggested text is the same as the plan's."))
    if kind == Contribution.Kind.REPLY:
        if parent is None or parent.consultation_id != c.pk or parent.hidden:
            raise ConsultationError(_("The contribution you reply to is not available."))
        unit_key = parent.unit
    elif parent is not None:
        raise ConsultationError(_("Only a reply answers another contribution."))
    obj = Contribution.objects.create(
        consultation=c, unit=unit_key, kind=kind, parent=parent, author=user,
        organisation=organisation_of(user), group=group, body=body, suggested_text=suggested)
    record(request, "consultations.contribute", obj, consultation=c.pk, unit=unit_key,
           kind=kind)
    return obj


def _state_word(state: str) -> str:
    return {"closed": _("closed"), "upcoming": _("not open yet"), "open": _("open")}[state]


@transaction.atomic
def react(request: Any, contribution: Contribution, stance: str) -> Contribution:
    """Support or oppose; the same choice again withdraws it."""
    user = _user(request)
    c = contribution.consultation
    if not may_contribute(user, c):
        raise ConsultationError(_("Only invited participants of an open consultation can "
                                  "support or oppose."))
    if stance not in Reaction.Stance.values:
        raise ConsultationError(_("Choose support or oppose."))
    if contribution.hidden:
        raise ConsultationError(_("The contribution you reply to is not available."))
    existing = Reaction.objects.filter(contribution=contribution, user=user).first()
    if existing is not None and existing.stance == stance:
        existing.delete()
    elif existing is not None:
        existing.stance = stance
        existing.save(update_fields=["stance"])
    else:
        Reaction.objects.create(contribution=contribution, user=user, stance=stance)
    counts = contribution.reactions.aggregate(
        s=Count("id", filter=Q(stance="support")), o=Count("id", filter=Q(stance="oppose")))
    contribution.support, contribution.oppose = counts["s"], counts["o"]
    contribution.save(update_fields=["support", "oppose"])
    return contribution


@transaction.atomic
def hide(request: Any, contribution: Contribution, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ConsultationError(_("Say why the contribution is hidden (the reason is kept)."))
    contribution.hidden = True
    contribution.hidden_reason = reason[:300]
    contribution.hidden_by = _user(request)
    contribution.hidden_at = timezone.now()
    contribution.save(update_fields=["hidden", "hidden_reason", "hidden_by", "hidden_at"])
    record(request, "consultations.hide", contribution, reason=reason[:300])


@transaction.atomic
def unhide(request: Any, contribution: Contribution) -> None:
    contribution.hidden = False
    contribution.save(update_fields=["hidden"])
    record(request, "consultations.unhide", contribution, reason=contribution.hidden_reason)


@transaction.atomic
def respond(request: Any, contribution: Contribution, outcome: str, reason: str,
            revision_number: int | None = None) -> Response:
    c = contribution.consultation
    if outcome not in core.OUTCOMES:
        raise ConsultationError(_("Choose accepted, partly accepted or not accepted."))
    reason = (reason or "").strip()
    if not reason:
        raise ConsultationError(_("Give the reason for the answer: it is published in the "
                                  "“you said, we did” report."))
    rev = None
    if revision_number is not None:
        rev = c.plan.revisions.filter(number=revision_number).first()
        if rev is None:
            raise ConsultationError(_("The plan has no revision %(n)s.") % {"n": revision_number})
        if rev.number <= c.revision.number:
            raise ConsultationError(_("Revision %(n)s is not later than the text consulted on "
                                      "(revision %(c)s).")
                                    % {"n": rev.number, "c": c.revision.number})
        if outcome == "not_accepted":
            raise ConsultationError(_("A contribution that was not accepted changed no text: "
                                      "leave the revision empty."))
    resp, _created = Response.objects.update_or_create(
        contribution=contribution,
        defaults={"outcome": outcome, "reason": reason, "revision": rev,
                  "responded_by": _user(request), "responded_at": timezone.now()})
    record(request, "consultations.respond", contribution, outcome=outcome,
           revision=rev.number if rev else None)
    return resp


# --- one-time codes --------------------------------------------------------------------------


def _secret() -> bytes:
    return load_or_create_secret(key_dir(Path(settings.DATA_DIR)) / "voice.key").encode()


def normalise(code: str) -> str:
    """Upper case, without spaces and dashes, with the letters Crockford's base32 reads as
    digits (I, L -> 1; O -> 0)."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum()).translate(_TYPO)


def digest(code: str) -> str:
    return hmac.new(_secret(), normalise(code).encode(), hashlib.sha256).hexdigest()


def _new_code(chars: int) -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(chars))
    return "-".join(raw[i:i + 4] for i in range(0, chars, 4))


@dataclass(frozen=True)
class IssuedBatch:
    batch: str
    codes: list[str]
    expires_on: dt.date
    consultation: Consultation | None
    questionnaire: str
    group: str


@transaction.atomic
def issue_codes(request: Any, *, n: int, consultation: Consultation | None = None,
                questionnaire: str = "", days: int = 60, group: str = "survivor_board",
                note: str = "") -> IssuedBatch:
    """``n`` one-time codes for a consultation or a questionnaire. The codes are returned
    once, to be printed; only their keyed hashes are stored."""
    user = _user(request)
    org = organisation_of(user)
    if org is None:
        raise ConsultationError(_("Your account has no organisation."))
    if (consultation is None) == (not questionnaire):
        raise ConsultationError(_("Codes are for one consultation or one questionnaire."))
    if questionnaire:
        try:
            qs.get(questionnaire)
        except qs.QuestionnaireError as e:
            raise ConsultationError(str(e)) from None
        if not can(user, "voice.review"):
            raise ConsultationError(_("Codes for a questionnaire are issued by the drafting "
                                      "team, who review the answers; caseworkers issue codes "
                                      "for a consultation."))
    if consultation is not None and consultation.organisation != org and not \
            consultation.invitations.filter(organisation=org).exists():
        raise ConsultationError(_("Your organisation is not invited to this consultation."))
    if consultation is not None and consultation.state == "closed":
        raise ConsultationError(_("This consultation is closed: codes for it would not work."))
    if not 1 <= n <= MAX_CODES:
        raise ConsultationError(_("Issue between 1 and %(max)d codes at a time.")
                                % {"max": MAX_CODES})
    if not 1 <= days <= 366:
        raise ConsultationError(_("Codes stay valid between 1 and 366 days."))
    if group not in ("survivor_board", "public"):
        raise ConsultationError(_("Codes are for survivors or the public."))
    expires = timezone.localdate() + dt.timedelta(days=days)
    if consultation is not None:
        expires = min(expires, consultation.closes_on)
    batch = secrets.token_hex(6)
    codes = [_new_code(CODE_CHARS) for _ in range(n)]
    VoiceCode.objects.bulk_create([
        VoiceCode(digest=digest(code), consultation=consultation, questionnaire=questionnaire,
                  organisation=org, group=group, batch=batch, note=note[:200], issued_by=user,
                  expires_on=expires) for code in codes])
    record(request, "voice.issue_codes", ("consultations.voicebatch", batch), n=n,
           consultation=consultation.pk if consultation else None, questionnaire=questionnaire,
           group=group, expires=expires.isoformat())
    return IssuedBatch(batch, codes, expires, consultation, questionnaire, group)


@transaction.atomic
def revoke_batch(request: Any, batch: str) -> int:
    org = organisation_of(_user(request))
    n = VoiceCode.objects.filter(batch=batch, organisation=org, used_on__isnull=True,
                                 revoked=False).update(revoked=True)
    record(request, "voice.revoke_codes", ("consultations.voicebatch", batch), n=n)
    return n


def batches(org: Any) -> list[dict[str, Any]]:
    today = timezone.localdate()
    rows = (VoiceCode.objects.filter(organisation=org, purpose="code")
            .values("batch", "consultation__title", "questionnaire", "group", "note",
                    "issued_on", "expires_on")
            .annotate(n=Count("id"), n_used=Count("id", filter=Q(used_on__isnull=False)),
                      n_revoked=Count("id", filter=Q(revoked=True)),
                      n_expired=Count("id", filter=Q(used_on__isnull=True, revoked=False,
                                                     expires_on__lt=today)))
            .order_by("-issued_on", "batch"))
    return list(rows)


def redeem(code: str) -> VoiceCode | None:
    """The usable code or receipt matching ``code``; None whatever the reason (unknown,
    used, expired, revoked, consultation closed) — the visitor sees one neutral message."""
    if len(normalise(code)) not in (CODE_CHARS, RECEIPT_CHARS):
        return None
    vc = (VoiceCode.objects.select_related("consultation", "answer")
          .filter(digest=digest(code)).first())
    if vc is None or vc.state != "unused":
        return None
    if vc.consultation is not None and vc.consultation.state == "closed":
        return None
    return vc


def _redact(text: str) -> tuple[str, dict[str, int]]:
    from tiplab.privacy.redact import redact

    r = redact(text)
    return r.text, r.counts()


@dataclass(frozen=True)
class Submitted:
    answer: VoiceAnswer
    receipt: str


@transaction.atomic
def submit(code: VoiceCode, *, text: str = "", answers: dict[str, Any] | None = None,
           unit_key: str = "", consent: bool) -> Submitted:
    """Store one anonymous input: redacted, both versions sealed, the code spent (a code
    works once: two submissions racing with one code store one input). Returns the receipt
    for one follow-up. Writes no address, agent or time finer than the day."""
    if not consent:
        raise ConsultationError(_("We can only keep your answer if you agree to how it will "
                                  "be used."))
    answers = answers or {}
    text = (text or "").replace("\x00", "").strip()
    if len(text) > MAX_BODY:
        raise ConsultationError(_("Your answer is %(n)d characters long; the limit is %(max)d.")
                                % {"n": len(text), "max": MAX_BODY})
    if not text and not answers:
        raise ConsultationError(_("There is nothing to send yet: write something or answer a "
                                  "question."))
    consultation = code.consultation
    if code.purpose == VoiceCode.Purpose.RECEIPT and code.answer is not None:
        consultation = code.answer.consultation
        unit_key = unit_key or code.answer.unit
    if consultation is not None and unit_key and unit(consultation, unit_key) is None:
        raise ConsultationError(_("Choose a part of the plan from the list."))
    today = timezone.localdate()
    spent = VoiceCode.objects.filter(pk=code.pk, used_on__isnull=True, revoked=False).update(
        used_on=today)
    if spent != 1:
        raise ConsultationError(_("This code has already been used."))
    redacted_text, found = _redact(text) if text else ("", {})
    redacted_answers = dict(answers)
    for key, value in answers.items():
        if isinstance(value, str):
            redacted_answers[key], more = _redact(value)
            for k, n in more.items():
                found[k] = found.get(k, 0) + n
    group = code.group if code.purpose == VoiceCode.Purpose.CODE or code.answer is None \
        else code.answer.group
    answer = VoiceAnswer(code=code, consultation=consultation,
                         questionnaire=code.questionnaire or (
                             code.answer.questionnaire if code.answer else ""),
                         unit=unit_key, group=group, submitted_on=today, consent=True,
                         findings=found, follows=code.answer if code.answer else None,
                         sealed_redacted=b"")
    answer.sealed_original = seal_text(json.dumps({"text": text, "answers": answers}),
                                       answer.purpose("original"))
    answer.sealed_redacted = seal_text(json.dumps({"text": redacted_text,
                                                   "answers": redacted_answers}),
                                       answer.purpose("redacted"))
    answer.save()
    receipt = _new_code(RECEIPT_CHARS)
    VoiceCode.objects.create(
        digest=digest(receipt), purpose=VoiceCode.Purpose.RECEIPT, consultation=consultation,
        questionnaire=answer.questionnaire, organisation=code.organisation, group=group,
        batch=code.batch, issued_by=None, expires_on=today + dt.timedelta(days=RECEIPT_DAYS),
        answer=answer)
    # no audit entry: an entry is timed to the second, and the time of an input could tie it
    # to a visit; the review (approve / reject) is audited
    return Submitted(answer, receipt)


def read(answer: VoiceAnswer, which: str = "redacted") -> dict[str, Any]:
    blob = answer.sealed_redacted if which == "redacted" else answer.sealed_original
    if not blob:
        return {}
    data: dict[str, Any] = json.loads(open_text(blob, answer.purpose(which)))
    return data


def reviewable(org: Any) -> QuerySet[VoiceAnswer]:
    """The anonymous inputs ``org`` reviews: those on its consultations (whoever handed out
    the codes — a shelter's caseworker, say), and answers to its questionnaires."""
    return VoiceAnswer.objects.filter(Q(consultation__organisation=org)
                                      | Q(consultation__isnull=True, code__organisation=org))


def review_queue(org: Any) -> QuerySet[VoiceAnswer]:
    return (reviewable(org).filter(status="pending")
            .select_related("consultation", "code").order_by("submitted_on", "id"))


@transaction.atomic
def approve(request: Any, answer: VoiceAnswer, text: str, answers: dict[str, Any] | None = None,
            ) -> VoiceAnswer:
    """Publish the reviewed text: into the consultation as a contribution tagged survivor
    input (or, for a questionnaire, into its results). The answer as given is erased."""
    if answer.status != VoiceAnswer.Status.PENDING:
        raise ConsultationError(_("This input has already been reviewed."))
    text = (text or "").replace("\x00", "").strip()
    current = read(answer)
    answers = current.get("answers", {}) if answers is None else answers
    if not text and not answers:
        raise ConsultationError(_("Nothing is left to publish: reject the input instead."))
    if len(text) > MAX_BODY:
        raise ConsultationError(_("The text is longer than %(max)d characters.")
                                % {"max": MAX_BODY})
    answer.sealed_redacted = seal_text(json.dumps({"text": text, "answers": answers}),
                                       answer.purpose("redacted"))
    if answer.consultation is not None and text:
        c = answer.consultation
        parent = answer.follows.contribution if answer.follows is not None else None
        answer.contribution = Contribution.objects.create(
            consultation=c, unit=answer.unit or (units(c)[0].key if units(c) else ""),
            kind=Contribution.Kind.REPLY if parent is not None else Contribution.Kind.COMMENT,
            parent=parent, group=answer.group, survivor=True, body=text,
            created_at=timezone.make_aware(dt.datetime.combine(answer.submitted_on,
                                                               dt.time(12, 0))))
    answer.status = VoiceAnswer.Status.APPROVED
    answer.sealed_original = None
    answer.reviewed_by = _user(request)
    answer.reviewed_at = timezone.now()
    answer.save()
    record(request, "voice.approve", answer, consultation=answer.consultation_id)
    return answer


@transaction.atomic
def reject(request: Any, answer: VoiceAnswer, note: str) -> VoiceAnswer:
    if answer.status != VoiceAnswer.Status.PENDING:
        raise ConsultationError(_("This input has already been reviewed."))
    note = (note or "").strip()
    if not note:
        raise ConsultationError(_("Say why the input is not published (kept for the record, "
                                  "never shown to the person)."))
    answer.status = VoiceAnswer.Status.REJECTED
    answer.review_note = note[:300]
    answer.sealed_original = None
    answer.sealed_redacted = seal_text(json.dumps({"text": "", "answers": {}}),
                                       answer.purpose("redacted"))
    answer.reviewed_by = _user(request)
    answer.reviewed_at = timezone.now()
    answer.save()
    record(request, "voice.reject", answer, note=note[:300])
    return answer


def reseal_all(old: Any, new: Any) -> int:
    """Seal every anonymous input again under ``new`` (inside a key rotation's transaction,
    ``tiplab_web.cases.rotation``): the input as sent and the reviewed text."""
    from tiplab_web.core.sealed import reseal

    n = 0
    for a in VoiceAnswer.objects.select_for_update().only(
            "pk", "code_id", "submitted_on", "sealed_original", "sealed_redacted"):
        fields = []
        for which, attr in (("original", "sealed_original"), ("redacted", "sealed_redacted")):
            blob = getattr(a, attr)
            if blob:
                setattr(a, attr, reseal(blob, a.purpose(which), old, new))
                fields.append(attr)
        if fields:
            a.save(update_fields=fields)
            n += 1
    return n


def questionnaire_answers(org: Any, key: str) -> list[dict[str, Any]]:
    """The approved answers of a questionnaire (their structured part)."""
    return [read(a).get("answers", {}) for a in
            VoiceAnswer.objects.filter(code__organisation=org, questionnaire=key,
                                       status="approved", consultation__isnull=True)]


# --- report and statistics -------------------------------------------------------------------


def participation(c: Consultation) -> core.Participation:
    invited = [(i.organisation.name, i.group) for i in c.invitations.select_related(
        "organisation")]
    if c.codes.filter(purpose="code").exists():
        for g in c.codes.filter(purpose="code").values_list("group", flat=True).distinct():
            invited.append(("", g))
    rows = [core.Participant(org or "", group, kind, unit_key)
            for org, group, kind, unit_key, survivor in
            published(c).values_list("organisation__name", "group", "kind", "unit", "survivor")
            if not survivor]
    rows += [core.Participant("", group, "survivor", unit_key) for group, unit_key in
             published(c).filter(survivor=True).values_list("group", "unit")]
    rows += [core.Participant(org or "", group, "reaction") for org, group in
             Reaction.objects.filter(contribution__consultation=c).values_list(
                 "contribution__organisation__name", "contribution__group")]
    return core.participation(invited, rows, [u.key for u in units(c)])


def report_rows(c: Consultation) -> list[core.ReportRow]:
    titles = {u.key: (u.title, u.text) for u in units(c)}
    out = []
    qs_ = (published(c).select_related("organisation", "response", "response__revision")
           .order_by("unit", "created_at", "id"))
    order = {u.key: i for i, u in enumerate(units(c))}
    items = sorted(qs_, key=lambda x: (order.get(x.unit, 10**6), x.created_at, x.pk))
    for n, x in enumerate(items, start=1):
        resp = getattr(x, "response", None)
        title, text = titles.get(x.unit, (x.unit, ""))
        out.append(core.ReportRow(
            number=n, unit_key=x.unit, unit_title=title, group=x.group,
            organisation=x.organisation.name if x.organisation else "", kind=x.kind,
            text=x.body, suggested=x.suggested_text, original=text if x.suggested_text else "",
            support=x.support, oppose=x.oppose, survivor=x.survivor,
            outcome=resp.outcome if resp else "", reason=resp.reason if resp else "",
            revision=(f"version {resp.revision.version}, revision {resp.revision.number}"
                      if resp and resp.revision else ""),
            answered_on=resp.responded_at.date().isoformat() if resp else "",
            created=x.created_at.date().isoformat()))
    return out


def report_meta(c: Consultation) -> core.ReportMeta:
    return core.ReportMeta(c.title, c.plan.title,
                           f"version {c.revision.version}, revision {c.revision.number}",
                           c.opens_on.isoformat(), c.closes_on.isoformat(),
                           timezone.now().strftime("%Y-%m-%d %H:%M UTC"))
