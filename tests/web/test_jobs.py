"""The job kernel: submit, progress, result and error, cancel, retry, the reaper, who sees
which job, the Jobs page and the jobs API. Jobs run inline here (the test settings' tasks
backend); real worker processes are exercised in ``tests/runtime``."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from tests.web.conftest import sign_in

from tiplab.errors import TiplabError
from tiplab_web.audit.models import AuditEntry
from tiplab_web.jobs import kernel
from tiplab_web.jobs.models import Job, Worker

CALLS: list[tuple[str, Any]] = []


def _ok(ctx: kernel.JobContext) -> dict[str, Any]:
    ctx.progress("counting", 0.5, "half way")
    CALLS.append(("ok", ctx.params))
    return {"answer": ctx.params.get("n", 0) * 2}


def _fails_plainly(ctx: kernel.JobContext) -> dict[str, Any]:
    raise kernel.JobFailure("The table has no rows.", row=0)


def _crashes(ctx: kernel.JobContext) -> dict[str, Any]:
    raise RuntimeError("/srv/secret/path.csv: internal detail")


def _cancels_itself(ctx: kernel.JobContext) -> dict[str, Any]:
    Job.objects.filter(pk=ctx.job.pk).update(cancel_requested=True)  # a user, meanwhile
    kernel._flush(ctx.job.pk, ctx._state, heartbeat=True)  # what the reporter would do
    ctx.progress("next step", 0.6)
    CALLS.append(("not reached", None))
    return {}


def _on_end(job: Job) -> None:
    CALLS.append(("on_end", job.status))


@pytest.fixture(autouse=True)
def kinds():
    CALLS.clear()
    added = [
        kernel.JobKind(name="test.ok", run=_ok, label="Test job", retry_safe=True,
                       on_end=_on_end, capability="linkage.run"),
        kernel.JobKind(name="test.once", run=_ok, label="Once only", on_end=_on_end),
        kernel.JobKind(name="test.fails", run=_fails_plainly, label="Fails", retry_safe=True,
                       on_end=_on_end, capability="linkage.run"),
        kernel.JobKind(name="test.crashes", run=_crashes, label="Crashes", on_end=_on_end),
        kernel.JobKind(name="test.cancels", run=_cancels_itself, label="Cancels",
                       on_end=_on_end),
    ]
    for k in added:
        kernel.register(k)
    yield
    for k in added:
        kernel._KINDS.pop(k.name, None)


def _queued(user: Any, kind: str = "test.ok", **extra: Any) -> Job:
    """A job persisted but not yet run (as a worker would find it)."""
    from tiplab_web.core.access import organisation_of

    return Job.objects.create(kind=kind, label="Test job", owner=user,
                              organisation=organisation_of(user), **extra)


# --- the kernel ----------------------------------------------------------------------------


def test_a_job_runs_and_keeps_its_result(world):
    job = kernel.submit(world.users["analyst"], "test.ok", {"n": 21}, label="Doubling 21")
    assert job.status == Job.SUCCEEDED
    assert job.result == {"answer": 42}
    assert (job.stage, job.fraction, job.percent) == ("done", 1.0, 100)
    assert job.attempts == 1
    assert job.started_at
    assert job.finished_at
    assert job.heartbeat_at
    assert job.label == "Doubling 21"
    assert CALLS == [("ok", {"n": 21})]  # on_end is not called on success


def test_progress_is_written_while_the_job_runs(world):
    seen: list[tuple[str, float, str]] = []

    def watch(ctx: kernel.JobContext) -> dict[str, Any]:
        ctx.progress("reading", 0.25, "file 1 of 4")
        row = Job.objects.get(pk=ctx.job.pk)
        seen.append((row.stage, row.fraction, row.message))
        ctx.progress("reading", 0.1)  # fractions never go backwards
        seen.append((Job.objects.get(pk=ctx.job.pk).stage,
                     Job.objects.get(pk=ctx.job.pk).fraction, ""))
        return {}

    kernel.register(kernel.JobKind(name="test.watch", run=watch, label="Watch"))
    try:
        kernel.submit(world.users["analyst"], "test.watch")
    finally:
        kernel._KINDS.pop("test.watch")
    assert seen == [("reading", 0.25, "file 1 of 4"), ("reading", 0.25, "")]


def test_an_expected_failure_keeps_its_message_and_details(world):
    job = kernel.submit(world.users["analyst"], "test.fails")
    assert job.status == Job.FAILED
    assert job.error == "The table has no rows."
    assert job.error_code == "error"
    assert job.result == {"row": 0}
    assert CALLS == [("on_end", Job.FAILED)]


def test_an_unexpected_failure_shows_no_internals_and_is_logged(world, caplog):
    with caplog.at_level(logging.ERROR, logger="tiplab.web.jobs"):
        job = kernel.submit(world.users["analyst"], "test.crashes")
    assert job.status == Job.FAILED
    assert "/srv/secret" not in job.error
    assert "unexpectedly" in job.error
    assert any("internal detail" in r.exc_text for r in caplog.records if r.exc_text)


def test_a_job_of_an_unknown_kind_fails_cleanly(world):
    job = _queued(world.users["analyst"], kind="test.gone")
    assert kernel.execute(str(job.pk)) == Job.FAILED
    job.refresh_from_db()
    assert "not known" in job.error


def test_unknown_kinds_cannot_be_submitted(world):
    with pytest.raises(KeyError, match="unknown job kind"):
        kernel.submit(world.users["analyst"], "test.nope")


def test_a_job_is_run_once_even_if_the_queue_delivers_it_twice(world):
    job = kernel.submit(world.users["analyst"], "test.ok", {"n": 1})
    assert kernel.execute(str(job.pk)) == Job.SUCCEEDED  # second delivery: nothing runs
    assert CALLS == [("ok", {"n": 1})]
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_cancelling_a_queued_job_stops_it_before_it_starts(world):
    job = _queued(world.users["analyst"])
    kernel.cancel(job)
    assert job.status == Job.CANCELLED
    assert job.finished_at is not None
    assert kernel.execute(str(job.pk)) == Job.CANCELLED
    assert CALLS == [("on_end", Job.CANCELLED)]  # never ran


def test_a_running_job_stops_at_its_next_step_when_cancelled(world):
    job = kernel.submit(world.users["analyst"], "test.cancels")
    assert job.status == Job.CANCELLED
    assert job.error_code == "cancelled"
    assert ("not reached", None) not in CALLS
    assert CALLS == [("on_end", Job.CANCELLED)]
    with pytest.raises(kernel.JobStateError):
        kernel.cancel(job)


def test_cancelling_a_running_job_sets_the_flag_its_reporter_reads(world):
    job = _queued(world.users["analyst"], status=Job.RUNNING)
    kernel.cancel(job)
    assert job.status == Job.RUNNING
    assert job.cancel_requested
    state = kernel._Progress()
    kernel._flush(job.pk, state, heartbeat=True)
    assert state.cancelled


def test_only_retry_safe_kinds_can_be_retried(world):
    user = world.users["analyst"]
    failed = kernel.submit(user, "test.fails")
    assert kernel.may_retry(failed)
    again = kernel.retry(failed)
    assert again.status == Job.FAILED  # ran again (inline) and failed again
    assert again.attempts == 2
    once = _queued(user, kind="test.once", status=Job.FAILED)
    assert not kernel.may_retry(once)
    with pytest.raises(kernel.JobStateError):
        kernel.retry(once)
    done = kernel.submit(user, "test.ok")
    assert not kernel.may_retry(done)  # only failed or cancelled jobs


# --- the reaper ----------------------------------------------------------------------------


def _lost(user: Any, kind: str, attempts: int = 1, worker: str = "elsewhere:1:abc") -> Job:
    return _queued(user, kind=kind, status=Job.RUNNING, attempts=attempts, worker=worker,
                   heartbeat_at=timezone.now() - timedelta(seconds=kernel.stale_after() + 5))


def test_the_reaper_requeues_a_retry_safe_job_whose_worker_was_lost(world):
    job = _lost(world.users["analyst"], "test.ok")
    assert kernel.reap() == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == Job.SUCCEEDED  # queued again, and run (inline here)
    assert job.attempts == 2


def test_the_reaper_fails_a_job_that_is_not_safe_to_rerun(world):
    job = _lost(world.users["analyst"], "test.once")
    kernel.reap()
    job.refresh_from_db()
    assert job.status == Job.FAILED
    assert job.error_code == "worker_lost"
    assert "nothing was kept" in job.error
    assert CALLS == [("on_end", Job.FAILED)]


def test_the_reaper_gives_up_after_the_last_attempt(world, settings):
    settings.TIPLAB_JOBS_MAX_ATTEMPTS = 2
    job = _lost(world.users["analyst"], "test.ok", attempts=2)
    kernel.reap()
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.FAILED, "worker_lost")


def test_the_reaper_leaves_live_jobs_alone(world):
    job = _queued(world.users["analyst"], status=Job.RUNNING, worker="elsewhere:1:abc",
                  heartbeat_at=timezone.now())
    assert kernel.reap() == []
    job.refresh_from_db()
    assert job.status == Job.RUNNING


def test_a_dead_worker_on_this_host_is_known_at_once(world):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    job = _queued(world.users["analyst"], kind="test.once", status=Job.RUNNING,
                  worker=f"{socket.gethostname()}:{gone}:abc", heartbeat_at=timezone.now())
    alive = _queued(world.users["analyst"], kind="test.once", status=Job.RUNNING,
                    worker=kernel.this_process() + ":abc", heartbeat_at=timezone.now())
    assert kernel.reap() == [str(job.pk)]
    alive.refresh_from_db()
    assert alive.status == Job.RUNNING


def test_worker_heartbeats_are_recorded_and_pruned(world):
    now = timezone.now()
    kernel.beat("host-a:12:x", started_at=now)
    assert [w.worker_id for w in kernel.live_workers()] == ["host-a:12:x"]
    assert Worker.objects.get().pid == 12
    Worker.objects.update(seen_at=now - timedelta(days=2))
    assert not kernel.live_workers().exists()
    assert kernel.prune_workers() == 1


# --- who sees which job ---------------------------------------------------------------------


def test_jobs_are_seen_by_their_owner_colleagues_with_the_capability_and_operators(world):
    from tiplab_web.jobs.access import jobs_for

    analyst = world.users["analyst"]
    job = kernel.submit(analyst, "test.ok")  # capability linkage.run: analysts, stewards
    assert job in jobs_for(analyst)
    assert job in jobs_for(world.users["data_steward"])  # colleague holding linkage.run
    assert job not in jobs_for(world.users["policy_officer"])  # colleague without it
    assert job not in jobs_for(world.outsiders["analyst"])  # another organisation
    assert job in jobs_for(world.users["administrator"])  # operator: metadata only
    assert not jobs_for(world.users["stakeholder"]).exists()


@pytest.mark.parametrize("role", ["analyst", "data_steward", "policy_officer",
                                  "agency_reporter"])
def test_another_organisations_job_is_404(world, role):
    job = _queued(world.users[role], kind="test.once", status=Job.FAILED)
    outsider = sign_in(Client(), world.outsiders[role])
    for name in ("jobs:detail", "jobs:status"):
        assert outsider.get(reverse(name, args=[job.pk])).status_code == 404
    for name in ("jobs:cancel", "jobs:retry"):
        assert outsider.post(reverse(name, args=[job.pk])).status_code == 404


def test_only_the_owner_retries_and_operators_may_cancel(world):
    owner, colleague = world.users["analyst"], world.users["data_steward"]
    failed = kernel.submit(owner, "test.fails")
    c = sign_in(Client(), colleague)
    assert c.get(reverse("jobs:detail", args=[failed.pk])).status_code == 200
    assert c.post(reverse("jobs:retry", args=[failed.pk])).status_code == 403
    running = _queued(owner, status=Job.RUNNING)
    assert c.post(reverse("jobs:cancel", args=[running.pk])).status_code == 403
    admin = sign_in(Client(), world.users["administrator"])
    assert admin.post(reverse("jobs:cancel", args=[running.pk])).status_code == 302
    running.refresh_from_db()
    assert running.cancel_requested
    entry = AuditEntry.objects.get(action="jobs.cancel")
    assert entry.actor == world.users["administrator"]
    assert entry.object_id == str(running.pk)


# --- pages ----------------------------------------------------------------------------------


def test_the_jobs_page_lists_and_filters(world):
    analyst = world.users["analyst"]
    kernel.submit(analyst, "test.ok", label="Doubling")
    failed = kernel.submit(analyst, "test.fails", label="Broken table")
    client = sign_in(Client(), analyst)
    html = client.get(reverse("jobs:list")).content.decode()
    assert "Doubling" in html
    assert "Broken table" in html
    html = client.get(reverse("jobs:list"), {"status": "failed"}).content.decode()
    assert "Broken table" in html
    assert "Doubling" not in html
    assert reverse("jobs:detail", args=[failed.pk]) in html
    html = client.get(reverse("jobs:list"), {"kind": "test.ok"}).content.decode()
    assert "Doubling" in html
    assert "Broken table" not in html


def test_the_jobs_page_warns_when_no_worker_runs(world, monkeypatch):
    from tiplab_web.jobs import views

    monkeypatch.setattr(views, "_inline", lambda: False)
    client = sign_in(Client(), world.users["administrator"])
    assert "No worker is running" in client.get(reverse("jobs:list")).content.decode()
    kernel.beat("host-a:12:x", started_at=timezone.now())
    html = client.get(reverse("jobs:list")).content.decode()
    assert "No worker is running" not in html
    assert "1 worker is running" in html


def test_a_running_job_is_polled_and_offers_cancel(world):
    analyst = world.users["analyst"]
    job = _queued(analyst, status=Job.RUNNING, stage="linking", fraction=0.1)
    client = sign_in(Client(), analyst)
    html = client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'value="10"' in html
    assert reverse("jobs:cancel", args=[job.pk]) in html
    response = client.post(reverse("jobs:cancel", args=[job.pk]),
                           {"next": "https://evil.example/"})
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])  # no open redirect


def test_a_failed_retry_safe_job_offers_to_run_again(world):
    analyst = world.users["analyst"]
    job = kernel.submit(analyst, "test.fails")
    client = sign_in(Client(), analyst)
    html = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "The table has no rows." in html
    assert reverse("jobs:retry", args=[job.pk]) in html
    assert client.post(reverse("jobs:retry", args=[job.pk])).status_code == 302
    assert AuditEntry.objects.filter(action="jobs.retry").count() == 1
    assert Job.objects.get(pk=job.pk).attempts == 2


# --- API ------------------------------------------------------------------------------------


def _api(world: Any, role: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {world.raw_token_of(world.users[role])}")


def test_api_lists_follows_and_controls_jobs(world):
    analyst = world.users["analyst"]
    done = kernel.submit(analyst, "test.ok", {"n": 2})
    api = _api(world, "analyst")
    rows = api.get("/api/jobs/").json()
    assert [r["id"] for r in rows] == [str(done.pk)]
    one = api.get(f"/api/jobs/{done.pk}").json()
    assert one["status"] == "succeeded"
    assert one["result"] == {"answer": 4}
    assert one["url"] == f"/api/jobs/{done.pk}"
    conflict = api.post(f"/api/jobs/{done.pk}/cancel")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    assert api.post(f"/api/jobs/{done.pk}/retry").status_code == 409
    failed = kernel.submit(analyst, "test.fails")
    again = api.post(f"/api/jobs/{failed.pk}/retry").json()
    assert again["attempts"] == 2
    other = _api(world, "agency_reporter")
    assert other.get(f"/api/jobs/{done.pk}").status_code == 404


def test_handlers_see_the_submitter_and_the_request_origin(world):
    seen: dict[str, Any] = {}

    def look(ctx: kernel.JobContext) -> dict[str, Any]:
        from tiplab_web import audit

        entry = audit.record(ctx.request, "test.work", None)
        seen.update(user=ctx.user, ip=entry.ip_address, ua=entry.user_agent)
        return {}

    kernel.register(kernel.JobKind(name="test.look", run=look, label="Look"))
    try:
        from django.test import RequestFactory

        request = RequestFactory().post("/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="ua/1")
        request.user = world.users["analyst"]
        kernel.submit(request, "test.look")
    finally:
        kernel._KINDS.pop("test.look")
    assert seen == {"user": world.users["analyst"], "ip": "10.1.2.3", "ua": "ua/1"}


def test_tiplab_errors_in_run_kinds_reach_the_user(world):
    from tests.web import test_linkage_support as ls

    from tiplab_web.jobs.runs import run_kind
    from tiplab_web.linkage.models import LinkRun

    run = ls.make_link_run(world, world.users["analyst"])

    def execute(obj: Any, ctx: kernel.JobContext) -> None:
        raise TiplabError("the persons table has no capture pattern column")

    kernel.register(run_kind("test.run", LinkRun, execute, label="Run",
                             url_name="linkage:run", capability="linkage.run"))
    try:
        job = kernel.submit(world.users["analyst"], "test.run", {"run": run.pk}, target=run)
    finally:
        kernel._KINDS.pop("test.run")
    run.refresh_from_db()
    assert job.status == Job.FAILED
    assert run.status == LinkRun.FAILED
    assert run.error == job.error == "the persons table has no capture pattern column"
    assert run.finished_at is not None


def test_follow_ups_run_after_success_with_the_result_and_not_after_failure(world):
    seen: list[dict[str, Any]] = []

    def after(ctx: kernel.JobContext) -> dict[str, Any]:
        seen.append(ctx.params)
        return {}

    kernel.register(kernel.JobKind(name="test.after", run=after, label="After"))
    try:
        user = world.users["analyst"]
        first = kernel.submit(user, "test.ok", {"n": 5},
                              then=[kernel.follow_up("test.after", {"x": 1}, label="Next")])
        assert first.status == Job.SUCCEEDED
        assert seen == [{"x": 1, "after": {"job": str(first.pk), "result": {"answer": 10}}}]
        follow = Job.objects.get(kind="test.after")
        assert (follow.owner, follow.label, follow.status) == (user, "Next", Job.SUCCEEDED)
        kernel.submit(user, "test.fails", then=[kernel.follow_up("test.after")])
        assert Job.objects.filter(kind="test.after").count() == 1  # nothing followed
        with pytest.raises(KeyError):
            kernel.follow_up("test.unknown")
    finally:
        kernel._KINDS.pop("test.after")


def test_a_linkage_followed_by_its_estimate(world):
    """The demo's closed loop: link, then estimate from the persons the run found."""
    from tests.web import test_linkage_support as ls

    from tiplab_web.estimates.models import EstimationRun
    from tiplab_web.estimates.services import then_estimate
    from tiplab_web.linkage.services import start_run

    ls.seed_records()
    analyst = world.users["analyst"]
    link = start_run(analyst, list(ls.AGENCIES), None, then=[then_estimate(
        {"method": "stepwise", "nboot": 0, "seed": 1, "by": ["year"], "pool_below": 0,
         "sensitivity": False})])
    link.refresh_from_db()
    estimate = EstimationRun.objects.get()
    assert estimate.link_run == link
    assert estimate.status == EstimationRun.DONE, estimate.error
    assert estimate.overall["observed"] == link.persons
    job = Job.objects.get(kind="estimates.from_link_run")
    assert (job.target_type, job.target_id) == ("estimates.estimationrun", str(estimate.pk))
    assert job.label.startswith(f"Estimation #{estimate.pk}")
