"""Screening's business rules: who sees which batch, making a batch from an upload, running
the core's :func:`~tiplab.qualitative.screen.screen` on it (the job's body), reading texts
(audited), reviewing flags and exporting them.

Views only call these. The model never decides alone: every flag waits for a reviewer's
confirm, dismiss or escalate.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.errors import TiplabError
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, get_object_for, organisation_of
from tiplab_web.core.sealed import open_text, seal_text

from .models import ScreeningBatch, ScreeningItem
from .upload import Row, UploadError, read_upload

log = logging.getLogger("tiplab.web.screening")

#: texts screened per call of the core (progress and cancellation between calls)
CHUNK = 500
EXPORT_COLUMNS = ("id", "flagged", "codes", "top_code", "score", "review_status")
REVIEW_ACTIONS = {"confirm": ScreeningItem.Review.CONFIRMED,
                  "dismiss": ScreeningItem.Review.DISMISSED,
                  "escalate": ScreeningItem.Review.ESCALATED,
                  "reopen": ScreeningItem.Review.PENDING}


class ScreeningError(Exception):
    """A step cannot be taken; the message is fit for the user."""


__all__ = ["ScreeningError", "UploadError", "batches_for", "create_batch", "get_batch_for",
           "get_item_for", "review", "run_batch"]


# -- access ----------------------------------------------------------------------------

def batches_for(user: Any) -> QuerySet[ScreeningBatch]:
    """The batches of the user's organisation (none without ``screening.view``)."""
    org = organisation_of(user)
    if org is None or not can(user, "screening.view"):
        return ScreeningBatch.objects.none()
    return ScreeningBatch.objects.filter(organisation=org)


def get_batch_for(user: Any, pk: Any) -> ScreeningBatch:
    return get_object_for(user, batches_for(user).select_related("created_by"), pk=pk)


def get_item_for(user: Any, pk: Any) -> ScreeningItem:
    return get_object_for(user, ScreeningItem.objects.select_related("batch", "reviewer")
                          .filter(batch__in=batches_for(user)), pk=pk)


# -- the organisation's codebook and classifier ------------------------------------------

def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    return json.loads(json.dumps(value, default=str))


def _evidence_model(name: str) -> Any:
    """A model of the evidence app (``CodebookVersion``, ``ClassifierVersion``), or None
    when the app is not installed: screening works with the shipped codebook alone."""
    from django.apps import apps

    try:
        return apps.get_model("evidence", name)
    except LookupError:
        return None


def _codebook_version(organisation: Any) -> Any:
    model = _evidence_model("CodebookVersion")
    if model is None or organisation is None:
        return None
    return model.objects.filter(organisation=organisation).order_by("-number").first()


def codebook_for(organisation: Any) -> Any:
    """The organisation's latest codebook version in the evidence app (read, never made
    here), else the shipped default."""
    from tiplab.qualitative.codebook import Codebook, default_codebook

    cv = _codebook_version(organisation)
    return Codebook.from_dict(cv.data) if cv is not None else default_codebook()


def classifier_for(organisation: Any) -> Any:
    """The evidence app's latest trained classifier of ``organisation`` when it was trained
    on the organisation's current codebook version, else None (the suggester then works
    zero-shot)."""
    from tiplab.qualitative.suggest import TrainedClassifier

    model = _evidence_model("ClassifierVersion")
    cv = _codebook_version(organisation)
    if model is None or cv is None:
        return None
    latest = model.objects.filter(organisation=organisation).order_by("-number").first()
    if latest is None or latest.codebook_id != cv.pk:
        return None
    return TrainedClassifier.from_json(latest.data)


#: the codebook group screened when the organisation has no trained classifier
SCREEN_GROUP = "forced_labour"


def unit_for(batch: ScreeningBatch) -> str:
    """Case narratives are scored sentence by sentence (each sentence tells one thing: on the
    demo's narratives macro-F1 0.665 against 0.435 as whole texts); short texts such as
    advertisements as one text (by sentence, nearly every advertisement mentions pay or
    travel somewhere and would be flagged)."""
    return "sentences" if batch.kind == ScreeningBatch.Kind.NARRATIVES else "text"


def build_suggester(organisation: Any, threshold: float) -> tuple[Any, Any, Any]:
    """A :class:`~tiplab.qualitative.suggest.Suggester` for ``organisation``: its codebook,
    its classifier when one is trained on that codebook, the embedded model when installed
    (else the codebook's cue phrases). Returns the suggester, its codebook and its
    classifier (or None)."""
    from tiplab.qualitative.embed import ModelUnavailable, default_embedder
    from tiplab.qualitative.suggest import Suggester, SuggestSettings

    codebook = codebook_for(organisation)
    try:
        embedder = default_embedder()
    except ModelUnavailable as e:
        log.warning("screening without the embedded model: %s", e)
        embedder = None
    classifier = classifier_for(organisation) if embedder is not None else None
    if classifier is None:
        # without a classifier trained on the organisation's codes, screen for the 11 ILO
        # forced-labour indicators only, as `tiplab screen` does: zero-shot over every code
        # of the codebook flags topics (wages, travel) more than abuse (docs/qualitative.md)
        from tiplab.qualitative.evaluate import EvaluationError, restrict

        # an edited codebook without them: screen for all its codes
        with contextlib.suppress(EvaluationError):
            codebook = restrict(codebook, group=SCREEN_GROUP)
    return Suggester(codebook, embedder=embedder, classifier=classifier,
                     settings=SuggestSettings(threshold=threshold)), codebook, classifier


def code_labels(batch: ScreeningBatch | None = None) -> dict[str, str]:
    """Code key → label, from the codebook the batch was screened with (when it is still
    the organisation's) or the default codebook."""
    cb = codebook_for(batch.organisation) if batch is not None else None
    if cb is None:
        from tiplab.qualitative.codebook import default_codebook

        cb = default_codebook()
    return {c.key: c.label for c in cb.codes}


# -- making a batch --------------------------------------------------------------------

def create_batch(request_or_user: Any, *, title: str, kind: str, file_name: str, data: bytes,
                 id_column: str = "id", text_column: str = "text", threshold: float = 0.5,
                 background: bool = True) -> ScreeningBatch:
    """A batch from an uploaded CSV, screened by a ``screening.run`` job (or here and now
    with ``background=False``: the demo's own job and the command line). Raises
    :class:`UploadError` when the file cannot be screened (nothing is saved then)."""
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "screening.run"):
        raise ScreeningError(_("Your role does not screen texts."))
    org = organisation_of(user)
    if org is None:
        raise ScreeningError(_("Your account belongs to no organisation."))
    if kind not in ScreeningBatch.Kind.values:
        raise ScreeningError(_("Unknown kind of batch."))
    if not 0.0 < threshold < 1.0:
        raise ScreeningError(_("The threshold must lie between 0 and 1."))
    up = read_upload(data, kind=kind, id_column=id_column, text_column=text_column)
    if kind == ScreeningBatch.Kind.NARRATIVES:
        id_column, text_column = "source_agency+record_id", "text"
    with transaction.atomic():
        batch = ScreeningBatch.objects.create(
            organisation=org, title=title.strip()[:200] or file_name[:200], kind=kind,
            file_name=file_name[:300], file_sha256=hashlib.sha256(data).hexdigest(),
            encoding=up.encoding, id_column=id_column[:100], text_column=text_column[:100],
            rows=up.rows, accepted=len(up.accepted), rejected=len(up.rejected),
            threshold=float(threshold), created_by=user,
            report={"rejected": up.rejected, "columns": up.columns,
                    "delimiter": up.delimiter})
        batch.sealed_rows = seal_text(json.dumps([r.as_dict() for r in up.accepted]),
                                      batch.rows_purpose)
        batch.save(update_fields=["sealed_rows"])
        record(request_or_user, "screening.batch.create", batch, kind=kind, rows=up.rows,
               accepted=len(up.accepted), rejected=len(up.rejected), file=file_name[:300])
    if not background:
        try:
            return run_batch(batch)
        except Exception as e:
            fail_batch(batch.pk, str(e) if isinstance(e, TiplabError | ScreeningError)
                       else _("The screening failed unexpectedly; the error has been logged."))
            raise
    from tiplab_web.jobs.kernel import submit

    from .jobs import RUN_KIND

    job = submit(request_or_user, RUN_KIND, {"batch": batch.pk},
                 label=_("Screen “%(title)s”") % {"title": batch.title}, target=batch)
    ScreeningBatch.objects.filter(pk=batch.pk).update(job_id=str(job.pk))
    batch.refresh_from_db()
    return batch


def _merge(reports: Sequence[Any]) -> dict[str, Any]:
    """The ScreenReports of the chunks as one (sums of counts; the first's settings)."""
    by_code: Counter[str] = Counter()
    rejected: list[Any] = []
    for r in reports:
        by_code.update(r.by_code)
        rejected.extend(r.rejected)
    first = reports[0]
    return {"texts": sum(r.texts for r in reports), "flagged": sum(r.flagged for r in reports),
            "rejected": _jsonable(rejected), "by_code": dict(sorted(by_code.items())),
            "seconds": round(sum(r.seconds for r in reports), 3), "method": first.method,
            "model": _jsonable(first.model), "threshold": first.threshold}


def run_batch(batch: ScreeningBatch,
              progress: Callable[[str, float], None] | None = None) -> ScreeningBatch:
    """Screen the batch's waiting rows and write its items, all or nothing (the job's body).

    Raises whatever the core raises; the caller marks the batch failed. The items, the
    batch's counts and the erasure of the waiting rows commit in one transaction.
    """
    from tiplab.qualitative.screen import screen

    batch = ScreeningBatch.objects.select_related("organisation").get(pk=batch.pk)
    if batch.status == ScreeningBatch.Status.DONE:
        return batch
    if batch.sealed_rows is None:
        raise ScreeningError(_("This batch's rows are no longer kept: upload the file again."))
    ScreeningBatch.objects.filter(pk=batch.pk).update(status=ScreeningBatch.Status.RUNNING)
    rows = [Row(**r) for r in json.loads(open_text(batch.sealed_rows, batch.rows_purpose))]
    suggester, cb, clf = build_suggester(batch.organisation, batch.threshold)
    flags: dict[str, Any] = {}
    reports = []
    for start in range(0, len(rows), CHUNK):
        if progress is not None:
            progress(_("screening"), start / max(1, len(rows)))
        part = rows[start:start + CHUNK]
        got, rep = screen(((r.id, r.text) for r in part), suggester,
                          threshold=batch.threshold, unit=unit_for(batch))
        flags.update((f.id, f) for f in got)
        reports.append(rep)
    merged = _merge(reports)
    core_rejected = {str(r.get("id")) for r in merged["rejected"] if isinstance(r, dict)}
    keep = [r for r in rows if r.id not in core_rejected]
    if progress is not None:
        progress(_("saving"), 0.95)
    with transaction.atomic():
        items = []
        for r in keep:
            f = flags.get(r.id)
            items.append(ScreeningItem(
                batch=batch, row=r.row, external_id=r.id[:300],
                source_agency=r.source_agency[:200], record_id=r.record_id[:200],
                sealed_text=b"", flagged=bool(f is not None and f.codes),
                codes=list(f.codes) if f is not None else [],
                confidences={k: round(float(v), 4) for k, v in f.confidence.items()}
                if f is not None else {},
                score=round(float(f.score), 4) if f is not None else 0.0))
        ScreeningItem.objects.bulk_create(items, batch_size=1000)
        text_of = {r.row: r.text for r in keep}
        for it in items:
            it.sealed_text = seal_text(text_of[it.row], it.purpose)
        ScreeningItem.objects.bulk_update(items, ["sealed_text"], batch_size=1000)
        # the core numbers rows within its chunk: give them the file's row numbers
        row_of = {r.id: r.row for r in rows}
        rejected = list(batch.report.get("rejected", [])) + [
            {**r, "row": row_of.get(str(r.get("id")), r.get("row")), "stage": "model"}
            for r in merged["rejected"]]
        batch.report = {**batch.report, **merged, "rejected": rejected}
        batch.screened = merged["texts"]
        batch.flagged = merged["flagged"]
        batch.rejected = len(rejected)
        batch.method = str(merged["method"])[:20]
        batch.model_info = merged["model"]
        batch.codebook_name, batch.codebook_version = cb.name[:200], cb.version[:50]
        batch.codebook_hash = cb.content_hash()
        batch.classifier_info = ({"n_examples": clf.n_examples, "positives": clf.positives,
                                  "codebook_hash": clf.codebook_hash, "params": clf.params}
                                 if clf is not None and batch.method == "classifier" else {})
        batch.status = ScreeningBatch.Status.DONE
        batch.finished_at = timezone.now()
        batch.error = ""
        batch.sealed_rows = None
        batch.save()
    return batch


def fail_batch(batch_id: Any, message: str) -> None:
    """Mark a batch failed (its items were never written: the transaction rolled back)."""
    ScreeningBatch.objects.filter(pk=batch_id).exclude(status=ScreeningBatch.Status.DONE) \
        .update(status=ScreeningBatch.Status.FAILED, error=message[:2000],
                finished_at=timezone.now())


# -- reading and reviewing ----------------------------------------------------------------

def may_read_full(user: Any) -> bool:
    return can(user, "screening.review")


def read_texts(request: Any, batch: ScreeningBatch,
               items: Iterable[ScreeningItem]) -> dict[int, str]:
    """The texts of ``items`` (item pk → text), for a role that may read them; one audit
    entry names every item read. Empty for other roles (they see flags only)."""
    items = list(items)
    user = getattr(request, "user", request)
    if not items or not may_read_full(user):
        return {}
    out = {it.pk: open_text(it.sealed_text, it.purpose) for it in items}
    record(request, "screening.item.read", batch, items=[it.pk for it in items])
    return out


def review(request: Any, item: ScreeningItem, action: str, note: str = "") -> ScreeningItem:
    """Confirm, dismiss or escalate a flag (or reopen it), with an optional note; audited."""
    user = getattr(request, "user", request)
    if not can(user, "screening.review"):
        raise ScreeningError(_("Your role does not review flags."))
    if action not in REVIEW_ACTIONS:
        raise ScreeningError(_("Unknown review action."))
    note = note.strip()[:1000]
    if action == "escalate" and not note:
        raise ScreeningError(_("Say why you escalate this text (the note is required)."))
    with transaction.atomic():
        item.review_status = REVIEW_ACTIONS[action]
        item.review_note = note
        item.reviewer = None if action == "reopen" else user
        item.reviewed_at = None if action == "reopen" else timezone.now()
        item.save(update_fields=["review_status", "review_note", "reviewer", "reviewed_at"])
        record(request, "screening.item.review", item, batch=item.batch_id,
               status=item.review_status, codes=item.codes)
    return item


def summary(batch: ScreeningBatch) -> dict[str, Any]:
    """Counts for the batch page: by code (flagged items), by review status."""
    items = batch.items.all()
    flagged = items.filter(flagged=True)
    by_code: Counter[str] = Counter()
    for codes in flagged.values_list("codes", flat=True):
        by_code.update(codes)
    status = dict(flagged.values_list("review_status").annotate(n=Count("pk"))
                  .values_list("review_status", "n"))
    labels = code_labels(batch)
    return {"items": items.count(), "flagged": flagged.count(),
            "by_code": [{"code": k, "label": labels.get(k, k), "n": n}
                        for k, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))],
            "pending": status.get("pending", 0),
            "reviewed": sum(n for s, n in status.items() if s != "pending"),
            "by_status": status}


def queue(batch: ScreeningBatch, *, code: str = "", status: str = "") -> QuerySet[ScreeningItem]:
    """The flagged items, highest score first, optionally of one code or review status."""
    qs = batch.items.filter(flagged=True).select_related("reviewer")
    if code:
        # JSON containment is not on SQLite: match the code as a JSON string element
        qs = qs.filter(Q(codes__icontains=f'"{code}"'))
    if status in ScreeningItem.Review.values:
        qs = qs.filter(review_status=status)
    return qs.order_by("-score", "row")


def case_links(user: Any, items: Iterable[ScreeningItem]) -> dict[int, int]:
    """Item pk → the pk of its case record (case narratives, ``cases.view`` roles only)."""
    items = [it for it in items if it.source_agency and it.record_id]
    if not items or not can(user, "cases.view"):
        return {}
    from tiplab_web.cases.access import records_for

    wanted = Q()
    for it in items:
        wanted |= Q(source_agency=it.source_agency, record_id=it.record_id)
    found: dict[tuple[str, str], int] = {}
    # the approved batch's record wins over a superseded one
    for pk, agency, rid, status in (records_for(user).filter(wanted)
                                    .values_list("pk", "source_agency", "record_id",
                                                 "batch__status").order_by("pk")):
        if (agency, rid) not in found or status == "active":
            found[(agency, rid)] = pk
    return {it.pk: found[(it.source_agency, it.record_id)] for it in items
            if (it.source_agency, it.record_id) in found}


# -- export -------------------------------------------------------------------------------

def export_csv(request: Any, batch: ScreeningBatch) -> str:
    """The flags of every screened text as CSV (never the texts); audited."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EXPORT_COLUMNS)
    n = 0
    for it in batch.items.order_by("row"):
        w.writerow([it.external_id, "1" if it.flagged else "0", ";".join(it.codes),
                    it.top_code if it.flagged else "", f"{it.score:.4f}", it.review_status])
        n += 1
    record(request, "screening.export", batch, rows=n, columns=list(EXPORT_COLUMNS))
    return buf.getvalue()


def reseal_all(old: Any, new: Any) -> int:
    """Seal every screened text (and every batch's rows still waiting for their job) again
    under ``new``, inside a key rotation's transaction (``tiplab_web.cases.rotation``);
    returns the texts re-sealed."""
    from tiplab_web.core.sealed import reseal

    n = 0
    for batch in ScreeningBatch.objects.select_for_update().exclude(sealed_rows=None) \
            .only("pk", "sealed_rows"):
        batch.sealed_rows = reseal(batch.sealed_rows, batch.rows_purpose, old, new)
        batch.save(update_fields=["sealed_rows"])
    for item in ScreeningItem.objects.select_for_update().only("pk", "sealed_text") \
            .iterator(chunk_size=2000):
        item.sealed_text = reseal(item.sealed_text, item.purpose, old, new)
        item.save(update_fields=["sealed_text"])
        n += 1
    return n
