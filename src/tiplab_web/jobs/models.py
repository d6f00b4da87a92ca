"""Background jobs: one row per piece of background work (an import, a linkage, an
estimation, …), the state every process reads — web pages poll it, workers write it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    QUEUED, RUNNING = "queued", "running"
    SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"
    STATUS = [(QUEUED, "queued"), (RUNNING, "running"), (SUCCEEDED, "succeeded"),
              (FAILED, "failed"), (CANCELLED, "cancelled")]
    ACTIVE = (QUEUED, RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: the registered kind (``tiplab_web.jobs.kernel.register``), e.g. "cases.import"
    kind = models.CharField(max_length=60)
    #: what the job does, in words, for the Jobs page ("Import of police_2024.csv")
    label = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="jobs")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="jobs")
    #: the object the job works on (a link run, an estimation run, …), for its page
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    #: JSON arguments of the kind's handler; never identifiers of victims
    params = models.JSONField(default=dict)
    #: where the request came from, for the audit entries the job writes
    origin = models.JSONField(default=dict)

    status = models.CharField(max_length=10, choices=STATUS, default=QUEUED)
    stage = models.CharField(max_length=120, default="queued")
    fraction = models.FloatField(default=0.0)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict)
    #: the message shown to the user (no paths, no tracebacks: those go to the log)
    error = models.TextField(blank=True)
    #: a short machine-readable reason: "error", "worker_lost", "cancelled", "interrupted"
    error_code = models.CharField(max_length=30, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: last sign of life from the worker running it (the reaper's evidence)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=120, blank=True)
    #: the queue's own task id (django-tasks), for operators
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="jobs_status_heartbeat"),
            models.Index(fields=["owner", "-created_at"], name="jobs_owner_created"),
            models.Index(fields=["target_type", "target_id"], name="jobs_target"),
        ]

    def __str__(self) -> str:
        return f"job {self.id} ({self.kind}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status not in self.ACTIVE

    @property
    def percent(self) -> int:
        return round(100 * self.fraction)


class Worker(models.Model):
    """A worker process's sign of life: written every few seconds while it runs, so the
    reaper and ``/healthz`` know which workers are alive and what they run."""

    worker_id = models.CharField(max_length=120, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    current_job = models.UUIDField(null=True, blank=True)
    jobs_done = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"worker {self.worker_id}"
