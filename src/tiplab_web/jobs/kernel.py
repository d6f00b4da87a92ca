"""The job kernel: every piece of background work in tiplab runs through here.

An app registers a **kind** once (``register(JobKind(...))`` in its ``AppConfig.ready``) and
submits jobs of it (``submit(request, "cases.import", params, label=...)``). The kernel
persists the job (:class:`~tiplab_web.jobs.models.Job`), hands its id to the task queue
(Django's tasks API: the ``django-tasks`` backport, database backend by default, see
``docs/architecture.md``) and, in whichever worker takes it, runs the kind's handler with a
:class:`JobContext` for progress, cancellation and audit.

What the kernel guarantees, whatever the kind:

* one state everyone reads: queued → running → succeeded | failed | cancelled, with stage,
  fraction and message while it runs, the result (JSON) or a user-facing error after;
* progress never blocks the work: the handler's ``progress()`` only sets memory, a reporter
  thread writes it (and a heartbeat) to the database, and reads the cancel flag back;
* a job whose worker died (killed, machine restarted) is found by its stale heartbeat
  (:func:`reap`): re-queued when its kind is ``retry_safe`` and attempts remain, otherwise
  failed; the kind's ``on_end`` hook then marks its own objects (a link run, …) failed,
  so nothing is left "running" forever. Handlers must be all-or-nothing (imports commit in
  one transaction; result files are written before the row that points to them);
* cancellation is cooperative: a queued job is cancelled at once, a running one at its next
  ``progress()`` / ``check_cancelled()`` call;
* messages shown to users carry no server paths or tracebacks (those go to the log).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, connections
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Job, Worker

log = logging.getLogger("tiplab.web.jobs")


class JobCancelled(Exception):
    """Raised inside a handler when its job was cancelled; the kernel records it."""


class JobFailure(Exception):
    """A failure the handler expected, with a message fit for the user and details kept in
    the job's result (e.g. ``earlier_batch`` for a file imported before)."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class JobKind:
    """What the kernel needs to know about one kind of background work.

    ``run(ctx)`` does the work and returns a JSON-serialisable dict (the job's result).
    ``retry_safe``: running it again after a crash gives the same outcome and no duplicate
    (the kernel re-queues it after a lost worker, and users may retry it).
    ``on_end(job)``: called when the job ended without its handler finishing normally
    (worker lost, cancelled while queued, failed) so the kind can mark its own objects.
    ``on_retry(job)``: called when a user queues the job again (reset the kind's objects).
    ``result_url(job)``: the page that shows what the job made (None: none).
    ``result_template``: a template that shows a succeeded job's result (context: ``job``,
    ``result_url``); by default a link to ``result_url``.
    ``capability``: who, besides the owner, may see the job (e.g. colleagues in the same
    organisation holding it); operators (``jobs.operate``) see every job's metadata.
    """

    name: str
    run: Callable[[JobContext], dict[str, Any] | None]
    label: str
    retry_safe: bool = False
    on_end: Callable[[Job], None] | None = None
    on_retry: Callable[[Job], None] | None = None
    result_url: Callable[[Job], str | None] | None = None
    result_template: str = ""
    capability: str = ""


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    _KINDS[kind.name] = kind
    return kind


def kind_of(job: Job) -> JobKind | None:
    return _KINDS.get(job.kind)


def kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


# --------------------------------------------------------------------------- settings


def stale_after() -> float:
    """Seconds without a heartbeat after which a running job's worker counts as lost."""
    return float(getattr(settings, "TIPLAB_JOBS_STALE_SECONDS", 60))


def heartbeat_every() -> float:
    return float(getattr(settings, "TIPLAB_JOBS_HEARTBEAT_SECONDS", 5))


def max_attempts() -> int:
    return int(getattr(settings, "TIPLAB_JOBS_MAX_ATTEMPTS", 3))


def this_process() -> str:
    """An identifier of this process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------- the context


@dataclass
class _Progress:
    stage: str = "starting"
    fraction: float = 0.0
    message: str = ""
    dirty: bool = True
    cancelled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class JobContext:
    """What a handler sees: its parameters, its user, progress, cancellation, audit."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.params: dict[str, Any] = dict(job.params)
        self._state = _Progress()
        self._reporter: _Reporter | None = None

    @property
    def user(self) -> Any:
        return self.job.owner

    @property
    def attempt(self) -> int:
        return int(self.job.attempts)

    @property
    def request(self) -> HttpRequest:
        """A stand-in request carrying the submitter's user, address and browser, so audit
        entries written by the job say who asked for it and from where."""
        req = HttpRequest()
        req.user = self.job.owner
        origin = self.job.origin or {}
        if origin.get("ip"):
            req.META["REMOTE_ADDR"] = origin["ip"]
        if origin.get("user_agent"):
            req.META["HTTP_USER_AGENT"] = origin["user_agent"]
        return req

    def progress(self, stage: str, fraction: float | None = None, message: str = "") -> None:
        """Report the current stage (and how far along, 0..1); raises :class:`JobCancelled`
        when the job was cancelled meanwhile. Cheap: it only sets memory."""
        self.report(stage, fraction, message)
        self.check_cancelled()

    def report(self, stage: str, fraction: float | None = None, message: str = "") -> None:
        """Like :meth:`progress`, but never stops the job: for steps after a commit."""
        s = self._state
        with s.lock:
            if stage != s.stage or message != s.message:
                s.dirty = True
            s.stage, s.message = stage[:120], message[:300]
            if fraction is not None:
                s.fraction = max(s.fraction, min(1.0, max(0.0, float(fraction))))
                s.dirty = True
        if self._reporter is None:  # inline: write now, on this thread
            _flush(self.job.pk, s, heartbeat=False)

    def check_cancelled(self) -> None:
        if self._state.cancelled:
            raise JobCancelled

    def remember(self, **params: Any) -> None:
        """Keep values in the job's parameters (e.g. a file's checksum) for a later attempt."""
        self.params.update(params)
        Job.objects.filter(pk=self.job.pk).update(params=self.params)
        self.job.params = self.params


def _flush(job_id: Any, s: _Progress, *, heartbeat: bool) -> None:
    """Write the progress (if changed) and a heartbeat; read the cancel flag back."""
    with s.lock:
        fields: dict[str, Any] = {}
        if s.dirty:
            fields.update(stage=s.stage, fraction=s.fraction, message=s.message)
            s.dirty = False
    if heartbeat or fields:
        fields["heartbeat_at"] = timezone.now()
    if fields:
        Job.objects.filter(pk=job_id, status=Job.RUNNING).update(**fields)
    row = Job.objects.filter(pk=job_id).values_list("cancel_requested", flat=True).first()
    if row:
        s.cancelled = True


class _Reporter(threading.Thread):
    """Writes a running job's progress and heartbeat from a thread of its own, so that a
    handler never waits on the database (an import's loader holds SQLite's write lock for
    seconds; a progress write on the import's thread would wait for it, and the loader for
    the import: a deadlock until the busy timeout)."""

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(name=f"job-reporter-{str(ctx.job.pk)[:8]}", daemon=True)
        self.ctx = ctx
        self.stop = threading.Event()

    def run(self) -> None:
        last_beat = 0.0
        try:
            while not self.stop.wait(0.5):
                beat = time.monotonic() - last_beat >= heartbeat_every()
                try:
                    _flush(self.ctx.job.pk, self.ctx._state, heartbeat=beat)
                    if beat:
                        last_beat = time.monotonic()
                except OperationalError as e:  # locked, or the database restarting
                    log.debug("job %s: progress not written (%s); next time", self.ctx.job.pk, e)
                    close_old_connections()
        finally:
            connections.close_all()


# --------------------------------------------------------------------------- submitting


def _origin(request: Any) -> dict[str, str]:
    if not isinstance(request, HttpRequest):
        return {}
    return {"ip": str(request.META.get("REMOTE_ADDR", ""))[:64],
            "user_agent": str(request.META.get("HTTP_USER_AGENT", ""))[:300]}


def follow_up(kind: str, params: dict[str, Any] | None = None, *,
              label: str = "") -> dict[str, Any]:
    """A job to submit once this one has succeeded (``submit(..., then=[...])``); it gets
    the finished job's id and result as ``params["after"]``."""
    if kind not in _KINDS:
        raise KeyError(f"unknown job kind {kind!r}; register it in the app's ready()")
    return {"kind": kind, "params": params or {}, "label": str(label)}


def submit(request_or_user: Any, kind: str, params: dict[str, Any] | None = None, *,
           label: str = "", target: Any = None,
           then: list[dict[str, Any]] | None = None) -> Job:
    """Persist a job of ``kind`` and queue it. ``target`` is the model instance the job
    works on (its page shows the job's progress); ``then`` lists :func:`follow_up` jobs
    submitted, as the same user, when this one succeeds (none if it fails: a chain never
    leaves half its objects behind). Returns the job (already finished when the queue runs
    tasks immediately, as the test suite's does)."""
    if kind not in _KINDS:
        raise KeyError(f"unknown job kind {kind!r}; register it in the app's ready()")
    user = getattr(request_or_user, "user", request_or_user)
    return _create(user, kind, {**(params or {}), **({"then": then} if then else {})},
                   label=str(label or _KINDS[kind].label), origin=_origin(request_or_user),
                   target_type=target._meta.label_lower if target is not None else "",
                   target_id=str(target.pk) if target is not None else "")


def _create(user: Any, kind: str, params: dict[str, Any], *, label: str,
            origin: dict[str, str], target_type: str = "", target_id: str = "") -> Job:
    from tiplab_web.core.access import organisation_of

    job = Job.objects.create(
        kind=kind, label=label[:300], owner=user, organisation=organisation_of(user),
        params=params, origin=origin, target_type=target_type, target_id=target_id)
    _enqueue(job)
    job.refresh_from_db()
    return job


def _submit_follow_ups(job: Job, result: dict[str, Any]) -> None:
    for f in job.params.get("then") or []:
        if f.get("kind") not in _KINDS:
            log.error("job %s: follow-up of unknown kind %r not submitted", job.pk, f.get("kind"))
            continue
        _create(job.owner, f["kind"], {**f.get("params", {}),
                                       "after": {"job": str(job.pk), "result": result}},
                label=f.get("label") or str(_KINDS[f["kind"]].label), origin=job.origin)


def _enqueue(job: Job) -> None:
    from .queue import enqueue

    task_id = enqueue(str(job.pk))
    if task_id:
        Job.objects.filter(pk=job.pk).update(task_id=task_id[:64])


# --------------------------------------------------------------------------- executing


def execute(job_id: str, worker: str = "") -> str:
    """Run one job (the queue's task body). Returns its final status. Never raises: the
    outcome is recorded on the job."""
    worker = worker or this_process()
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.QUEUED, cancel_requested=False).update(
        status=Job.RUNNING, started_at=now, heartbeat_at=now, worker=worker[:120],
        attempts=F("attempts") + 1, stage="starting", fraction=0.0, message="",
        error="", error_code="")
    if not claimed:  # cancelled meanwhile, or a duplicate delivery of a job already taken
        return Job.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
    job = Job.objects.select_related("owner").get(pk=job_id)
    kind = _KINDS.get(job.kind)
    ctx = JobContext(job)
    threaded = not connection.in_atomic_block  # in a worker; tests run inside a transaction
    if threaded:
        ctx._reporter = _Reporter(ctx)
        ctx._reporter.start()
    status, error, code, result = Job.SUCCEEDED, "", "", {}
    try:
        if kind is None:
            raise JobFailure(_("This kind of job (%(kind)s) is not known to this server.")
                             % {"kind": job.kind})
        result = kind.run(ctx) or {}
    except JobCancelled:
        status, error, code = Job.CANCELLED, _("Cancelled; nothing was kept."), "cancelled"
    except JobFailure as e:
        status, error, code, result = Job.FAILED, e.message, "error", e.details
    except Exception:  # the traceback goes to the log; the user sees a plain message
        log.exception("job %s (%s) failed", job_id, job.kind)
        status, code = Job.FAILED, "error"
        error = _("The job failed unexpectedly; the error has been logged. Nothing was kept.")
    finally:
        if ctx._reporter is not None:
            ctx._reporter.stop.set()
            ctx._reporter.join(timeout=10)
    _finish(job, status, error=error, code=code, result=result, ctx=ctx)
    if status == Job.SUCCEEDED and job.params.get("then"):
        try:
            _submit_follow_ups(job, _jsonable(result))
        except Exception:  # the job itself succeeded; say what did not follow
            log.exception("job %s: its follow-up jobs could not be submitted", job.pk)
    return status


def _finish(job: Job, status: str, *, error: str = "", code: str = "",
            result: dict[str, Any] | None = None, ctx: JobContext | None = None) -> None:
    fields: dict[str, Any] = {
        "status": status, "finished_at": timezone.now(), "error": error[:4000],
        "error_code": code, "result": _jsonable(result or {})}
    if status == Job.SUCCEEDED:
        fields.update(stage="done", fraction=1.0, message="")
    elif ctx is not None:
        fields.update(stage=ctx._state.stage, fraction=ctx._state.fraction)
    for attempt in range(30):  # the database may be restarting: keep the outcome
        try:
            Job.objects.filter(pk=job.pk).update(**fields)
            break
        except OperationalError:
            if attempt == 29:
                raise
            close_old_connections()
            time.sleep(1)
    if status != Job.SUCCEEDED:
        job.refresh_from_db()
        _on_end(job)


def _on_end(job: Job) -> None:
    kind = _KINDS.get(job.kind)
    if kind is None or kind.on_end is None:
        return
    try:
        kind.on_end(job)
    except Exception:
        log.exception("job %s: the %s kind's on_end hook failed", job.pk, job.kind)


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(value, default=str))


# --------------------------------------------------------------------------- control


class JobStateError(Exception):
    """The job is not in a state that allows the asked change."""


def cancel(job: Job) -> Job:
    """Cancel ``job``: at once if it is queued, at its next step if it is running."""
    if job.finished:
        raise JobStateError(_("The job has already finished."))
    if Job.objects.filter(pk=job.pk, status=Job.QUEUED).update(
            status=Job.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
            error=_("Cancelled before it started."), error_code="cancelled"):
        job.refresh_from_db()
        _on_end(job)
    else:
        Job.objects.filter(pk=job.pk, status=Job.RUNNING).update(
            cancel_requested=True, message=_("Cancelling: the job stops at its next step."))
        job.refresh_from_db()
    return job


def may_retry(job: Job) -> bool:
    kind = _KINDS.get(job.kind)
    return bool(kind and kind.retry_safe and job.status in (Job.FAILED, Job.CANCELLED))


def retry(job: Job) -> Job:
    """Queue a failed or cancelled job again (only kinds that are safe to re-run)."""
    if not may_retry(job):
        raise JobStateError(_("This job cannot be run again."))
    Job.objects.filter(pk=job.pk, status__in=(Job.FAILED, Job.CANCELLED)).update(
        status=Job.QUEUED, cancel_requested=False, finished_at=None, started_at=None,
        error="", error_code="", stage="queued", fraction=0.0, message="", result={})
    kind = _KINDS[job.kind]
    if kind.on_retry is not None:
        kind.on_retry(job)
    _enqueue(job)
    job.refresh_from_db()
    return job


# --------------------------------------------------------------------------- the reaper


def _pid_gone(worker: str) -> bool:
    """True when ``worker`` names a process on this host that no longer exists."""
    host, _sep, rest = worker.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lost_jobs(now: Any = None) -> QuerySet[Job]:
    """Running jobs whose worker has not been heard of for ``stale_after()`` seconds."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=stale_after())
    return Job.objects.filter(status=Job.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))


def reap(now: Any = None) -> list[str]:
    """Settle running jobs whose worker is gone: re-queue the retry-safe ones that have
    attempts left, fail the rest (and let their kind mark its objects). Returns the ids.

    A worker process on this host that no longer exists is known at once; others by their
    stale heartbeat."""
    now = now or timezone.now()
    suspects = list(lost_jobs(now))
    local = Job.objects.filter(status=Job.RUNNING, worker__startswith=socket.gethostname() + ":")
    suspects += [j for j in local.exclude(pk__in=[s.pk for s in suspects]) if _pid_gone(j.worker)]
    settled = []
    for job in suspects:
        kind = _KINDS.get(job.kind)
        if kind is not None and kind.retry_safe and job.attempts < max_attempts():
            n = Job.objects.filter(pk=job.pk, status=Job.RUNNING, worker=job.worker).update(
                status=Job.QUEUED, stage="queued",
                message=_("The worker stopped during attempt %(n)d; queued again.")
                % {"n": job.attempts})
            if n:
                log.warning("job %s (%s): worker %s lost; re-queued", job.pk, job.kind,
                            job.worker)
                _enqueue(job)
                settled.append(str(job.pk))
            continue
        n = Job.objects.filter(pk=job.pk, status=Job.RUNNING, worker=job.worker).update(
            status=Job.FAILED, finished_at=now, error_code="worker_lost",
            error=_("The worker running this job stopped before it finished; nothing was "
                    "kept. Start it again."))
        if n:
            log.warning("job %s (%s): worker %s lost; marked failed", job.pk, job.kind,
                        job.worker)
            job.refresh_from_db()
            _on_end(job)
            settled.append(str(job.pk))
    return settled


# --------------------------------------------------------------------------- workers


def beat(worker_id: str, *, started_at: Any, current_job: Any = None,
         jobs_done: int = 0) -> None:
    """Record that worker ``worker_id`` is alive (and what it runs)."""
    host, _sep, rest = worker_id.partition(":")
    pid = int(rest.split(":", 1)[0]) if rest.split(":", 1)[0].isdigit() else 0
    Worker.objects.update_or_create(worker_id=worker_id[:120], defaults={
        "hostname": host[:255], "pid": pid, "started_at": started_at,
        "seen_at": timezone.now(), "current_job": current_job, "jobs_done": jobs_done})
    if current_job is not None:
        Job.objects.filter(pk=current_job, status=Job.RUNNING).update(
            heartbeat_at=timezone.now())


def live_workers(now: Any = None) -> QuerySet[Worker]:
    now = now or timezone.now()
    return Worker.objects.filter(seen_at__gte=now - timedelta(seconds=stale_after()))


def forget_worker(worker_id: str) -> None:
    Worker.objects.filter(worker_id=worker_id).delete()


def prune_workers(now: Any = None) -> int:
    """Drop rows of workers not heard of for a day."""
    now = now or timezone.now()
    return Worker.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()[0]
