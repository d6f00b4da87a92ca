"""The rules of qualitative evidence: notes sealed at rest and who reads what, the codebook
and its versions, human coding (with two-coder blindness), inter-rater agreement, and
quotations. Suggestions and the classifier are in :mod:`.assist`; counts in :mod:`.themes`.

Every function takes the acting request (or user, outside a request) first; the views and
the command line check the capability, these functions the organisation and the data rules
(consent, offsets, codes), and write the audit entries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import gettext as _

from tiplab.errors import TiplabError
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, get_object_for, organisation_of
from tiplab_web.core.sealed import open_text, seal_text

from .models import CodebookVersion, CoderDone, Coding, Note, Quotation

log = logging.getLogger("tiplab.web.evidence")

#: the longest note kept (characters); longer transcripts are split before import
MAX_CHARS = 200_000


class EvidenceError(TiplabError):
    """A change refused, with a message for the person who asked."""


def _user(request_or_user: Any) -> Any:
    return getattr(request_or_user, "user", request_or_user)


# --- the workspace -------------------------------------------------------------------------------


def regions() -> dict[str, str]:
    """Region code -> name of the workspace's country (empty when it has none yet)."""
    from tiplab_web.insights.analyses import region_names

    try:
        return dict(region_names())
    except (OSError, TiplabError, ValueError) as e:  # no country: notes carry no region
        log.warning("region names unavailable: %s", e)
        return {}


def region_label(code: str) -> str:
    return regions().get(code, code) if code else ""


# --- notes ---------------------------------------------------------------------------------------


def notes_for(user: Any) -> QuerySet[Note]:
    """The notes of ``user``'s organisation (none for users without one)."""
    org = organisation_of(user)
    if org is None:
        return Note.objects.none()
    return Note.objects.filter(organisation=org)


def get_note_for(user: Any, pk: Any) -> Note:
    """A note of the user's organisation; 404 for any other."""
    return get_object_for(user, notes_for(user).select_related("created_by"), pk=pk)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def redact(text: str, language: str | None = None) -> tuple[str, dict[str, int]]:
    """The redacted text (names, phones, addresses, documents and the workspace's places
    masked) and what was masked, by kind."""
    from tiplab.qualitative import embed
    from tiplab.qualitative.redact import redact_note

    r = redact_note(text, places=tuple(regions().values()), language=language or None,
                    use_model=embed.available())
    return r.text, r.counts()


def clean_text(text: str) -> str:
    text = (text or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise EvidenceError(_("The note has no text."))
    if len(text) > MAX_CHARS:
        raise EvidenceError(
            _("The note is %(n)s characters long; the limit is %(max)s. Split the transcript "
              "into parts and add each.") % {"n": f"{len(text):,}", "max": f"{MAX_CHARS:,}"})
    return text


@dataclass(frozen=True)
class NoteInput:
    """What a new note needs besides its text (the web form and the import share it)."""

    title: str
    source_type: str
    interview_date: dt.date | None = None
    region: str = ""
    language: str = ""  # "" : detect
    exploitation_form: str = ""
    consent_analysis: bool = False
    consent_quote: bool = False
    blind: bool = False
    file_name: str = ""
    file_kind: str = ""


def check_input(meta: NoteInput) -> None:
    """Refuse metadata the form would refuse (the import checks every row before saving)."""
    if not meta.title.strip():
        raise EvidenceError(_("Give the note a title."))
    if meta.source_type not in Note.SourceType.values:
        raise EvidenceError(_("Unknown source type %(s)r; use one of %(all)s.")
                            % {"s": meta.source_type, "all": ", ".join(Note.SourceType.values)})
    known = regions()
    if meta.region and known and meta.region not in known:
        raise EvidenceError(_("Unknown region %(r)r; use one of the workspace's region codes.")
                            % {"r": meta.region})
    from tiplab.records.codes import EXPLOITATION_FORMS

    if meta.exploitation_form and meta.exploitation_form not in EXPLOITATION_FORMS:
        raise EvidenceError(_("Unknown form of exploitation %(f)r.")
                            % {"f": meta.exploitation_form})
    if meta.consent_quote and not meta.consent_analysis:
        raise EvidenceError(_("Quotation needs consent to use the note in analysis too."))


@transaction.atomic
def create_note(request_or_user: Any, text: str, meta: NoteInput) -> Note:
    """Store a note: its language detected (unless chosen), redacted, both texts sealed."""
    from tiplab.qualitative.segment import detect_language

    user = _user(request_or_user)
    org = organisation_of(user)
    if org is None:
        raise EvidenceError(_("Your account belongs to no organisation."))
    text = clean_text(text)
    check_input(meta)
    guess = detect_language(text)
    language = meta.language or (guess.code or "")
    redacted, counts = redact(text, language)
    note = Note.objects.create(
        organisation=org, title=meta.title.strip()[:200], source_type=meta.source_type,
        interview_date=meta.interview_date, region=meta.region, language=language,
        language_detected=guess.code or "", exploitation_form=meta.exploitation_form,
        consent_analysis=meta.consent_analysis, consent_quote=meta.consent_quote,
        blind=meta.blind, sealed_text=b"", sealed_redacted=b"", redaction_counts=counts,
        text_sha256=sha256(text), text_length=len(text), source_file_name=meta.file_name[:255],
        source_file_kind=meta.file_kind, created_by=user)
    note.sealed_text = seal_text(text, note.purpose())
    note.sealed_redacted = seal_text(redacted, note.purpose("redacted"))
    note.save(update_fields=["sealed_text", "sealed_redacted"])
    record(request_or_user, "evidence.note.create", note, source_type=note.source_type,
           language=language, characters=len(text), file_kind=meta.file_kind or "typed",
           redacted=counts)
    return note


def full_text(note: Note) -> str:
    """The note as written (no audit entry: callers showing it to a person use
    :func:`read_text`)."""
    return open_text(note.sealed_text, note.purpose())


def redacted_text(note: Note) -> str:
    return open_text(note.sealed_redacted, note.purpose("redacted"))


def may_read_full(user: Any) -> bool:
    return can(user, "evidence.read_full")


def read_text(request_or_user: Any, note: Note, *, why: str = "view") -> tuple[str, bool]:
    """(text, full): the full text for roles that may read it (audited), else the redacted
    text."""
    user = _user(request_or_user)
    if may_read_full(user):
        record(request_or_user, "evidence.note.read", note, why=why)
        return full_text(note), True
    return redacted_text(note), False


@transaction.atomic
def update_note(request_or_user: Any, note: Note, **fields: Any) -> Note:
    """Change a note's metadata (not its text): language, consent, region, blind mode."""
    allowed = {"title", "source_type", "interview_date", "region", "language",
               "exploitation_form", "consent_analysis", "consent_quote", "blind"}
    unknown = set(fields) - allowed
    if unknown:
        raise EvidenceError(f"cannot change {', '.join(sorted(unknown))}")
    before = {k: getattr(note, k) for k in fields}
    for k, v in fields.items():
        setattr(note, k, v)
    check_input(NoteInput(title=note.title, source_type=note.source_type,
                          region=note.region, exploitation_form=note.exploitation_form,
                          consent_analysis=note.consent_analysis,
                          consent_quote=note.consent_quote))
    if "language" in fields and fields["language"] != before["language"]:
        redacted, counts = redact(full_text(note), note.language)
        note.sealed_redacted = seal_text(redacted, note.purpose("redacted"))
        note.redaction_counts = counts
    note.save()
    record(request_or_user, "evidence.note.update", note,
           changed={k: [str(before[k]), str(v)] for k, v in fields.items()
                    if before[k] != v})
    return note


@dataclass(frozen=True)
class Unit:
    """One sentence of a note: the coding unit."""

    index: int
    start: int
    end: int
    text: str


def units(text: str) -> list[Unit]:
    from tiplab.qualitative.segment import sentences

    return [Unit(i, s.start, s.end, s.text) for i, s in enumerate(sentences(text))]


def overlapping(u: Unit | Any, start: int, end: int) -> bool:
    return start < u.end and end > u.start


# --- the codebook --------------------------------------------------------------------------------


def codebook_version(org: Any) -> CodebookVersion:
    """The organisation's current codebook version (the shipped one the first time)."""
    if org is None:
        raise EvidenceError(_("Your account belongs to no organisation."))
    cv = CodebookVersion.objects.filter(organisation=org).order_by("-number").first()
    if cv is not None:
        return cv
    from tiplab.qualitative.codebook import default_codebook

    cb = default_codebook()
    try:
        with transaction.atomic():
            return CodebookVersion.objects.create(
                organisation=org, number=1, data=cb.as_dict(), content_hash=cb.content_hash(),
                change="The shipped codebook (ILO indicators and themes)")
    except IntegrityError:  # another request made it first
        return CodebookVersion.objects.get(organisation=org, number=1)


def codebook_of(cv: CodebookVersion) -> Any:
    from tiplab.qualitative.codebook import Codebook

    return Codebook.from_dict(cv.data)


def codebook(user: Any) -> Any:
    """The current :class:`~tiplab.qualitative.codebook.Codebook` of ``user``'s organisation."""
    return codebook_of(codebook_version(organisation_of(user)))


def code_labels(cb: Any) -> dict[str, str]:
    return {c.key: c.label for c in cb.codes}


@transaction.atomic
def save_codebook(request_or_user: Any, data: dict[str, Any], change: str) -> CodebookVersion:
    """A new codebook version from ``data`` (``Codebook.as_dict()`` shape); validated by the
    core (duplicate keys, unknown groups...). Codes already applied must stay."""
    from tiplab.qualitative.codebook import Codebook, CodebookError

    user = _user(request_or_user)
    org = organisation_of(user)
    current = codebook_version(org)
    try:
        cb = Codebook.from_dict(data)
    except CodebookError as e:
        raise EvidenceError(str(e)) from e
    if cb.content_hash() == current.content_hash:
        raise EvidenceError(_("Nothing changed."))
    used = set(Coding.objects.filter(note__organisation=org).values_list("code", flat=True))
    gone = sorted(used - set(cb.keys()))
    if gone:
        raise EvidenceError(_("Codes already applied cannot be removed: %(c)s.")
                            % {"c": ", ".join(gone)})
    number = (CodebookVersion.objects.filter(organisation=org).aggregate(n=Max("number"))["n"]
              or 0) + 1
    cv = CodebookVersion.objects.create(organisation=org, number=number, data=cb.as_dict(),
                                        content_hash=cb.content_hash(), change=change[:300],
                                        created_by=user)
    record(request_or_user, "evidence.codebook.save", cv, number=number, change=change[:300])
    return cv


# --- coding --------------------------------------------------------------------------------------


def finished_coders(note: Note) -> set[int]:
    return set(note.done.values_list("coder_id", flat=True))


def blind_for(user: Any, note: Note) -> bool:
    """True while ``user`` must see only their own codes on ``note`` (two-coder mode, and
    fewer than two coders finished)."""
    return note.blind and can(user, "evidence.code") and len(finished_coders(note)) < 2


def visible_codings(user: Any, note: Note) -> QuerySet[Coding]:
    qs = note.codings.select_related("coder")
    return qs.filter(coder=user) if blind_for(user, note) else qs


def _check_span(note: Note, text: str, start: int, end: int) -> None:
    if not (0 <= start < end <= len(text)):
        raise EvidenceError(_("The selected span (%(s)d–%(e)d) is not inside the note's text.")
                            % {"s": start, "e": end})
    if not text[start:end].strip():
        raise EvidenceError(_("The selected span holds only spaces."))


@transaction.atomic
def add_coding(request_or_user: Any, note: Note, start: int, end: int, code: str,
               comment: str = "", origin: str = Coding.Origin.HUMAN) -> Coding:
    """Apply ``code`` to ``note[start:end]`` as the acting user."""
    user = _user(request_or_user)
    if not note.consent_analysis:
        raise EvidenceError(_("This note may not be coded: the person interviewed did not "
                              "agree to its use in analysis."))
    cb = codebook(user)
    if code not in set(cb.keys()):
        raise EvidenceError(_("Unknown code %(c)s: choose one from the codebook.") % {"c": code})
    _check_span(note, full_text(note), start, end)
    if Coding.objects.filter(note=note, start=start, end=end, code=code, coder=user).exists():
        raise EvidenceError(_("You already applied this code to this span."))
    c = Coding.objects.create(note=note, start=start, end=end, code=code, coder=user,
                              comment=comment.strip()[:4000], origin=origin)
    if note.status == Note.Status.FINISHED:
        Note.objects.filter(pk=note.pk).update(status=Note.Status.OPEN)
    record(request_or_user, "evidence.coding.add", c, note=note.pk, code=code, start=start,
           end=end, origin=origin)
    return c


@transaction.atomic
def delete_coding(request_or_user: Any, coding: Coding) -> None:
    user = _user(request_or_user)
    if coding.coder_id != user.pk:
        raise EvidenceError(_("Only the coder who applied a code may remove it."))
    record(request_or_user, "evidence.coding.delete", coding, note=coding.note_id,
           code=coding.code, start=coding.start, end=coding.end)
    coding.delete()


@transaction.atomic
def finish(request_or_user: Any, note: Note) -> Note:
    """The acting coder finished this note; the note is finished once every coder who coded
    it did (two coders, in blind mode)."""
    user = _user(request_or_user)
    CoderDone.objects.get_or_create(note=note, coder=user)
    coders = set(note.codings.values_list("coder_id", flat=True)) | {user.pk}
    done = finished_coders(note)
    need = 2 if note.blind else 1
    if coders <= done and len(done) >= need:
        note.status = Note.Status.FINISHED
        note.save(update_fields=["status"])
    record(request_or_user, "evidence.note.finish", note, coders=len(coders), done=len(done))
    return note


def coded_note_ids(qs: QuerySet[Note]) -> QuerySet[Note]:
    return qs.annotate(n_codings=Count("codings")).filter(n_codings__gt=0)


# --- agreement between coders --------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementData:
    codings: dict[str, dict[str, set[str]]]
    units: list[str]
    codes: list[str]
    notes: int
    coders: list[str]


def agreement_data(org: Any) -> AgreementData:
    """Coder -> unit -> codes over the sentences of notes coded by two or more coders (blind
    notes only once both finished). Units are ``"<note>:<sentence>"``; every coder of a note
    is given every unit of it (no code = the empty set)."""
    notes = (Note.objects.filter(organisation=org, consent_analysis=True)
             .annotate(n_coders=Count("codings__coder", distinct=True))
             .filter(n_coders__gte=2).order_by("pk"))
    codings: dict[str, dict[str, set[str]]] = {}
    unit_ids: list[str] = []
    codes: set[str] = set()
    n = 0
    for note in notes:
        if note.blind and len(finished_coders(note)) < 2:
            continue
        n += 1
        us = units(full_text(note))
        rows = list(note.codings.select_related("coder"))
        coders = sorted({c.coder.get_username() for c in rows})
        for u in us:
            uid = f"{note.pk}:{u.index}"
            unit_ids.append(uid)
            for name in coders:
                codings.setdefault(name, {})[uid] = set()
        for c in rows:
            codes.add(c.code)
            for u in us:
                if overlapping(u, c.start, c.end):
                    codings[c.coder.get_username()][f"{note.pk}:{u.index}"].add(c.code)
    return AgreementData(codings, unit_ids, sorted(codes), n, sorted(codings))


def agreement(org: Any) -> tuple[AgreementData, list[Any]]:
    """The data and ``agreement_by_code`` of it (one :class:`KappaRow` per code)."""
    from tiplab.qualitative.agreement import agreement_by_code

    data = agreement_data(org)
    if not data.units or len(data.coders) < 2:
        return data, []
    return data, agreement_by_code(data.codings, data.units, data.codes)


# --- quotations ----------------------------------------------------------------------------------


@transaction.atomic
def quote(request_or_user: Any, note: Note, start: int, end: int) -> Quotation:
    """Freeze a redacted excerpt of a note whose speaker agreed to be quoted."""
    user = _user(request_or_user)
    if not (note.consent_quote and note.consent_analysis):
        raise EvidenceError(_("This note may not be quoted: the person interviewed did not "
                              "agree to quotation."))
    text = full_text(note)
    _check_span(note, text, start, end)
    excerpt, counts = redact(text[start:end].strip(), note.language)
    codes = sorted({c.code for c in note.codings.all() if overlapping(c, start, end)})
    org = note.organisation
    last = (Quotation.objects.select_for_update().filter(organisation=org)
            .order_by("-number").values_list("number", flat=True).first())
    number = (last or 0) + 1
    q = Quotation.objects.create(organisation=org, note=note, number=number, start=start,
                                 end=end, text=excerpt, codes=codes, created_by=user)
    record(request_or_user, "evidence.quotation.create", q, note=note.pk, redacted=counts)
    return q


def quotations_for(user: Any) -> QuerySet[Quotation]:
    """Quotations of the user's organisation from notes that (still) allow quotation."""
    org = organisation_of(user)
    if org is None:
        return Quotation.objects.none()
    return (Quotation.objects.filter(organisation=org, note__consent_quote=True,
                                     note__consent_analysis=True)
            .select_related("note", "created_by"))


def quotation_reference(q: Quotation) -> str:
    """The string a plan or brief cites a quotation by, e.g. ``Interview note, survivor,
    North Region, 2023 (tiplab evidence EVQ-0003)``."""
    n = q.note
    parts = [str(_("Interview note")), str(n.get_source_type_display()).lower()]
    if n.region:
        parts.append(region_label(n.region))
    if n.year:
        parts.append(str(n.year))
    return f"{', '.join(parts)} (tiplab evidence {q.identifier})"


def quotation_dict(q: Quotation) -> dict[str, Any]:
    """A JSON-able quotation: what a plan or brief needs to cite and show it."""
    n = q.note
    return {"id": q.identifier, "text": q.text, "codes": list(q.codes),
            "reference": quotation_reference(q), "source_type": n.source_type,
            "region": n.region or None, "year": n.year, "language": n.language or None,
            "exploitation_form": n.exploitation_form or None, "note": n.pk,
            "created_at": q.created_at.isoformat()}


def find_quotation(user: Any, identifier: str) -> Quotation:
    """A quotation by its identifier (``EVQ-0003`` or ``3``) within the user's organisation."""
    raw = identifier.strip().upper().removeprefix("EVQ-")
    try:
        number = int(raw)
    except ValueError:
        raise EvidenceError(_("%(q)r is not a quotation identifier (EVQ-0001).")
                            % {"q": identifier}) from None
    q = quotations_for(user).filter(number=number).first()
    if q is None:
        raise EvidenceError(_("No quotation %(q)s.") % {"q": identifier})
    return q


def note_filters(qs: QuerySet[Note], *, source_type: str = "", region: str = "",
                 year: int | None = None, coded: str = "") -> QuerySet[Note]:
    if source_type:
        qs = qs.filter(source_type=source_type)
    if region:
        qs = qs.filter(region=region)
    if year:
        qs = qs.filter(interview_date__year=year)
    if coded == "coded":
        qs = qs.filter(Q(codings__isnull=False)).distinct()
    elif coded == "uncoded":
        qs = qs.filter(codings__isnull=True)
    return qs



def reseal_all(old: Any, new: Any) -> int:
    """Seal every note's text and redacted text again under ``new`` (inside a key rotation's
    transaction, ``tiplab_web.cases.rotation``, which the lead wires); returns the notes."""
    from tiplab_web.core.sealed import reseal

    n = 0
    for note in Note.objects.select_for_update().only("pk", "sealed_text", "sealed_redacted"):
        note.sealed_text = reseal(note.sealed_text, note.purpose(), old, new)
        note.sealed_redacted = reseal(note.sealed_redacted, note.purpose("redacted"), old, new)
        note.save(update_fields=["sealed_text", "sealed_redacted"])
        n += 1
    return n
