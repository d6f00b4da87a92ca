"""Data submission over the API (mounted at ``/api/cases/``).

Agency systems send ``Authorization: Bearer <token>``. Agency reporters submit for their own
agency only (their organisation's name is the source agency) and see only its batches;
analysts may submit for any source. Imports call ``tiplab.store.run_import``: the same
validation and all-or-nothing transaction as ``tiplab import``. Errors use the one shape:
duplicate file → 409 naming the earlier batch, profile error → 422 with line and field,
unreadable file → 422, unsupported type → 415, too large → 413.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from tiplab.errors import DuplicateBatchError, ProfileError, TiplabError
from tiplab.store import run_import
from tiplab_web import audit
from tiplab_web.api import ERROR_RESPONSES, ErrorOut
from tiplab_web.api_errors import error_response
from tiplab_web.core.access import can
from tiplab_web.jobs.api import JobOut

from . import services
from .access import batches_for, get_batch_for, may_import, own_agency
from .models import ImportBatch

router = Router(tags=["case data"])

SUBMIT_ERRORS: dict[int, Any] = {**ERROR_RESPONSES, 409: ErrorOut, 413: ErrorOut, 415: ErrorOut}


class BatchOut(Schema):
    batch_id: str
    kind: str
    source_agency: str
    file_name: str
    sha256: str
    profile: str
    schema_version: str
    imported_by: str
    imported_at: datetime
    rows: int
    accepted: int
    rejected: int
    warnings: int
    reasons: dict[str, int]
    status: str
    supersedes: str | None
    superseded_by: str | None
    data_version: str | None


class IssueOut(Schema):
    row: int
    column: str | None
    field: str | None
    value: str | None
    code: str
    severity: str
    message: str


class PreviewOut(Schema):
    file_name: str
    sha256: str
    profile: str
    source_agency: str
    rows: int
    accepted: int
    rejected: int
    warnings: int
    reasons: dict[str, int]
    issues: list[IssueOut]


class RejectOut(Schema):
    row: int
    raw: dict[str, Any]
    reasons: list[Any]


class RejectsOut(Schema):
    batch_id: str
    rejects: list[RejectOut]


def _require_intake(request: HttpRequest) -> None:
    if not may_import(request.user):
        raise PermissionDenied


def _out(b: ImportBatch) -> dict[str, Any]:
    try:
        superseded_by = b.superseded_by.batch_id  # type: ignore[attr-defined]
    except ImportBatch.DoesNotExist:
        superseded_by = None
    return {"batch_id": b.batch_id, "kind": b.kind, "source_agency": b.source_agency,
            "file_name": b.file_name, "sha256": b.sha256, "profile": b.profile_name,
            "schema_version": b.schema_version, "imported_by": b.imported_by,
            "imported_at": b.imported_at, "rows": b.rows, "accepted": b.accepted,
            "rejected": b.rejected, "warnings": b.warnings, "reasons": dict(b.reasons),
            "status": b.status, "supersedes": b.supersedes.batch_id if b.supersedes_id else None,
            "superseded_by": superseded_by, "data_version": b.data_version or None}


def _profile_for(request: HttpRequest, file: UploadedFile, profile: str,
                 profile_file: UploadedFile | None,
                 supersede: str | None) -> tuple[str, str] | HttpResponse:
    """Check the upload and the caller's rights; the profile's (text, label) or an error
    response."""
    _require_intake(request)
    try:
        services.check_upload(file.name or "upload", file.size or 0)
    except services.UploadError as e:
        status = 413 if (file.size or 0) > services.max_upload_bytes() else 415
        return error_response(status, message=str(e))
    if profile_file is not None:
        text = profile_file.read().decode("utf-8", errors="replace")
        label = profile_file.name or "uploaded profile"
    else:
        known = services.resolve_profile_name(profile)
        if known is None:
            names = ", ".join(sorted(k.split(":", 1)[1] for k in services.known_profiles()))
            return error_response(422, message=f"no profile named {profile!r}; known: {names}; "
                                  "or send the profile as 'profile_file'",
                                  details=[{"field": "profile", "line": None}])
        text, label = known.text, known.key
    if supersede:
        get_batch_for(request.user, supersede)  # 404 unless visible to this token
    return text, label


def _profile_error(e: ProfileError) -> HttpResponse:
    return error_response(422, message=str(e), details=[
        {"line": e.line, "field": e.field, "message": e.detail}])


def _run(request: HttpRequest, file: UploadedFile, profile: str,
         profile_file: UploadedFile | None, supersede: str | None,
         dry_run: bool) -> tuple[Any, Any] | HttpResponse:
    """Validate (and unless ``dry_run`` import) one uploaded file; an error response or
    (batch, prepared)."""
    found = _profile_for(request, file, profile, profile_file, supersede)
    if isinstance(found, HttpResponse):
        return found
    text, label = found
    upload_id, path = services.save_upload(file)
    try:
        prof = services.parse(text, label)
        # an agency's file is a submission, counted once a data steward approves it
        store = services.store(submit=not can(request.user, "cases.import"))
        return run_import(store, path, prof, own_agency(request.user),
                          user=request.user.get_username(), supersede=supersede or None,
                          dry_run=dry_run)
    except DuplicateBatchError as e:
        return error_response(409, message=str(e), details=[{"batch_id": e.batch_id}])
    except ProfileError as e:
        return _profile_error(e)
    except TiplabError as e:
        return error_response(422, message=str(e))
    finally:
        services.discard_upload(upload_id)


@router.post("/batches", response={201: BatchOut, **SUBMIT_ERRORS},
             summary="Submit a file (imported as one batch, all or nothing)")
def submit_batch(request: HttpRequest, file: File[UploadedFile],
                 profile: Form[str] = "",
                 supersede: Form[str] = "",
                 profile_file: UploadedFile | None = File(None)) -> Any:
    """Multipart: ``file``; ``profile`` (a known profile's name) or ``profile_file`` (YAML);
    optional ``supersede`` (the batch id the file corrects)."""
    result = _run(request, file, profile, profile_file, supersede, dry_run=False)
    if isinstance(result, HttpResponse):
        return result
    info, _ = result
    b = ImportBatch.objects.select_related("supersedes").get(batch_id=info.batch_id)
    audit.record(request, "cases.import", b, file=b.file_name, sha256=b.sha256,
                 rows=b.rows, accepted=b.accepted, rejected=b.rejected, via="api",
                 supersedes=info.supersedes)
    if info.supersedes:
        audit.record(request, "cases.supersede", b, supersedes=info.supersedes, via="api")
    if b.status == ImportBatch.ACTIVE:
        audit.record(request, "cases.approve", b, same_step=True, via="api")
    return Status(201, _out(b))


@router.post("/batches/jobs", response={202: JobOut, **SUBMIT_ERRORS},
             summary="Submit a file as a background import job (for large files)")
def submit_batch_job(request: HttpRequest, file: File[UploadedFile],
                     profile: Form[str] = "",
                     supersede: Form[str] = "",
                     profile_file: UploadedFile | None = File(None)) -> Any:
    """As ``POST /batches``, but the import runs on a worker: the answer (202) is the job;
    follow it at ``/api/jobs/{id}`` until ``status`` is ``succeeded`` (``result.batch_id``
    names the batch) or ``failed`` (``error``; ``result.earlier_batch`` for a duplicate)."""
    from tiplab_web.jobs.api import job_out

    from . import jobs

    found = _profile_for(request, file, profile, profile_file, supersede)
    if isinstance(found, HttpResponse):
        return found
    text, label = found
    try:
        services.parse(text, label)
    except ProfileError as e:
        return _profile_error(e)
    upload_id = services.new_upload(request.user.pk, file, profile_text=text,
                                    profile_label=label, source=own_agency(request.user),
                                    supersede=supersede or None)
    meta = services.read_meta(upload_id, request.user.pk) or {}
    job = jobs.start(request, upload_id, meta, via="api")
    return Status(202, job_out(job))


@router.post("/batches/preview", response={200: PreviewOut, **SUBMIT_ERRORS},
             summary="Validate a file without importing it (dry run)")
def preview_batch(request: HttpRequest, file: File[UploadedFile],
                  profile: Form[str] = "",
                  supersede: Form[str] = "",
                  profile_file: UploadedFile | None = File(None)) -> Any:
    result = _run(request, file, profile, profile_file, supersede, dry_run=True)
    if isinstance(result, HttpResponse):
        return result
    _, prepared = result
    s = prepared.summary()
    protected = services.protected_columns(prepared)
    issues = prepared.result.issues.to_pylist()[:1000]
    for i in issues:
        i["value"] = services._redact_issue_value(i, protected)
    return {"file_name": file.name or s["file"], "sha256": s["sha256"], "profile": s["profile"],
            "source_agency": s["source"], "rows": s["rows"], "accepted": s["accepted"],
            "rejected": s["rejected"], "warnings": s["warnings"], "reasons": s["reasons"],
            "issues": issues}


@router.get("/batches", response={200: list[BatchOut], **ERROR_RESPONSES},
            summary="Import batches (agency reporters: their own agency's)")
def list_batches(request: HttpRequest) -> Any:
    _require_intake(request)
    return [_out(b) for b in batches_for(request.user)[:500]]


@router.get("/batches/{batch_id}", response={200: BatchOut, **ERROR_RESPONSES},
            summary="One import batch with its provenance")
def get_batch(request: HttpRequest, batch_id: str) -> Any:
    _require_intake(request)
    return _out(get_batch_for(request.user, batch_id))


@router.get("/batches/{batch_id}/rejects", response={200: RejectsOut, **ERROR_RESPONSES},
            summary="A batch's rejected rows, identifier columns redacted")
def get_rejects(request: HttpRequest, batch_id: str) -> Any:
    _require_intake(request)
    b = get_batch_for(request.user, batch_id)
    audit.record(request, "cases.export_rejects", b, rows=b.rejected, via="api")
    return {"batch_id": b.batch_id, "rejects": services.reject_rows(b)}
