"""Imports as background jobs (kind ``cases.import``) on the job kernel (``tiplab_web.jobs``).

The web intake and the API's asynchronous submission queue the same job: it runs
``tiplab.store.run_import`` — the same validation and all-or-nothing transaction as
``tiplab import`` — in a worker, reports its stages, audits the import as the user who
asked for it (with their address), discards the upload and prepares the analysis tables.

Safe to re-run: an import commits in one transaction or not at all, so a worker lost before
the commit left nothing, and a re-run imports the file; a worker lost after the commit left
the batch, and a re-run recognises it (same file, imported since the job was created, by
the same user) instead of reporting a duplicate. Cancellation is honoured until the
records are written; after the commit the job finishes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.errors import DuplicateBatchError, SnapshotWriteError, TiplabError
from tiplab.ingest.readers import file_sha256
from tiplab.store import refresh_snapshot, run_import
from tiplab_web import audit
from tiplab_web.core.access import can
from tiplab_web.core.usererrors import for_page
from tiplab_web.jobs.kernel import JobContext, JobFailure, JobKind, register, submit

from . import services
from .access import get_batch_for, may_import
from .models import ImportBatch

log = logging.getLogger("tiplab.web.cases")

KIND = "cases.import"
#: stages of ``run_import`` before its commit: a cancellation is honoured only there
_CANCELLABLE = ("reading", "validating", "saving")


def start(request: Any, upload_id: str, meta: dict[str, Any], *, via: str = "web") -> Any:
    """Queue the import of an upload; returns the job."""
    name = Path(meta.get("file_name") or meta["path"]).name
    return submit(request, KIND, {"upload_id": upload_id, "via": via},
                  label=_("Import of %(file)s") % {"file": name})


def _details(batch: ImportBatch) -> dict[str, Any]:
    return {"file": batch.file_name, "sha256": batch.sha256, "profile": batch.profile_name,
            "rows": batch.rows, "accepted": batch.accepted, "rejected": batch.rejected,
            "warnings": batch.warnings,
            "supersedes": batch.supersedes.batch_id if batch.supersedes_id else None}


def _adopt_committed(ctx: JobContext) -> ImportBatch | None:
    """The batch an earlier attempt of this job committed (its worker was lost after)."""
    sha = ctx.params.get("sha256")
    if ctx.attempt <= 1 or not sha:
        return None
    return ImportBatch.objects.filter(
        sha256=sha, imported_at__gte=ctx.job.created_at,
        imported_by=ctx.user.get_username()).first()


def _result(batch: Any) -> dict[str, Any]:
    return {"batch_id": batch.batch_id, "rows": batch.rows, "accepted": batch.accepted,
            "rejected": batch.rejected, "warnings": batch.warnings}


def _audit(ctx: JobContext, batch: ImportBatch, *, once: bool = False) -> None:
    """The import's audit entries, as the user who asked for it (``once``: unless an earlier
    attempt wrote them)."""
    from tiplab_web.audit.models import AuditEntry

    if once and AuditEntry.objects.filter(
            action="cases.import", object_type=batch._meta.label_lower,
            object_id=str(batch.pk)).exists():
        return
    request = ctx.request
    via = ctx.params.get("via", "web")
    extra = {"via": via} if via != "web" else {}
    audit.record(request, "cases.import", batch, **_details(batch), **extra)
    if batch.status == ImportBatch.ACTIVE:
        audit.record(request, "cases.approve", batch, same_step=True, **extra)
    if batch.supersedes_id:
        audit.record(request, "cases.supersede", batch,
                     supersedes=batch.supersedes.batch_id, **extra)


def _snapshot_message(batch_id: str) -> str:
    return _("Batch %(b)s was imported, but the analysis data could not be updated (the disk "
             "may be full): the analysis pages show the data as it was before. Run the job "
             "again once there is space.") % {"b": batch_id}


def run(ctx: JobContext) -> dict[str, Any]:
    user = ctx.user
    if not may_import(user):
        raise JobFailure(_("Your role no longer allows imports; nothing was imported."))
    upload_id = ctx.params["upload_id"]
    adopted = _adopt_committed(ctx)
    if adopted is not None:
        log.info("job %s: batch %s was committed by an earlier attempt", ctx.job.pk,
                 adopted.batch_id)
        _audit(ctx, adopted, once=True)
        ctx.report("snapshot", 0.9)
        try:
            refresh_snapshot(services.store())
        except OSError as e:
            raise JobFailure(_snapshot_message(adopted.batch_id), batch_id=adopted.batch_id) \
                from e
        services.discard_upload(upload_id)
        return _result(adopted)
    meta = services.read_meta(upload_id, user.pk)
    if meta is None:
        raise JobFailure(_("The uploaded file is no longer available; upload it again."))
    if meta.get("supersede"):
        get_batch_for(user, meta["supersede"])  # still visible to this user?
    ctx.remember(sha256=file_sha256(Path(meta["path"])))

    def progress(stage: str, fraction: float) -> None:
        if stage in _CANCELLABLE:
            ctx.progress(stage, fraction)
        else:  # committed: report, but no longer stop
            ctx.report(stage, fraction)

    try:
        profile = services.parse(meta["profile_text"], meta["profile_label"])
        # an agency's upload is a submission: no figure changes until a steward approves it;
        # analysts and stewards approve their own imports in the same step (audited)
        batch, _prepared = run_import(services.store(submit=not can(user, "cases.import")),
                                      meta["path"], profile,
                                      meta.get("source"), user=user.get_username(),
                                      supersede=meta.get("supersede"), progress=progress)
    except DuplicateBatchError as e:
        raise JobFailure(for_page(e, files=services.display_names(meta)),
                         earlier_batch=e.batch_id) from e
    except SnapshotWriteError as e:  # the batch is stored: audit it, let a retry finish
        _audit(ctx, ImportBatch.objects.get(batch_id=e.batch_id))
        services.discard_upload(upload_id)
        raise JobFailure(_snapshot_message(e.batch_id), batch_id=e.batch_id) from e
    except TiplabError as e:
        raise JobFailure(for_page(e, files=services.display_names(meta))) from e
    assert batch is not None
    _audit(ctx, ImportBatch.objects.get(batch_id=batch.batch_id))
    services.discard_upload(upload_id)
    ctx.report("preparing analyses", 1.0)
    services.prepare_analyses()
    return _result(batch)


def _result_url(job: Any) -> str | None:
    batch = (job.result or {}).get("batch_id")
    return reverse("cases:batch", args=[batch]) if batch else None


register(JobKind(name=KIND, run=run, label=gettext_lazy("Import"), retry_safe=True,
                 result_url=_result_url, result_template="cases/_import_result.html",
                 capability="cases.import"))
