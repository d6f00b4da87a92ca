"""Estimation runs: who estimated what from which input, with which parameters, and the
result (``MSEResult.to_dict()``, the sensitivity table and per-stratum results) as JSON."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tiplab_web.core.decisions import Designation


class EstimationRun(models.Model):
    RUNNING, DONE, FAILED = "running", "done", "failed"
    STATUS = [(RUNNING, "running"), (DONE, "done"), (FAILED, "failed")]
    LINK_RUN, SHIPPED, UPLOAD = "link_run", "shipped", "upload"
    INPUTS = [(LINK_RUN, "link run"), (SHIPPED, "published table"), (UPLOAD, "uploaded table")]

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="estimation_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="estimation_runs")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUS, default=RUNNING)
    error = models.TextField(blank=True)
    #: provenance of the input: a link run's person table, or a file and its SHA-256
    input_kind = models.CharField(max_length=10, choices=INPUTS)
    link_run = models.ForeignKey("linkage.LinkRun", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="estimation_runs")
    input_name = models.CharField(max_length=300)
    input_sha256 = models.CharField(max_length=64)
    data_version = models.CharField(max_length=80, blank=True)
    #: method, nboot, seed, by, pool_below, sensitivity
    parameters = models.JSONField(default=dict)
    #: {"overall": MSEResult.to_dict(), "sensitivity": ..., "strata": ..., "warnings": [...]}
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"estimation run {self.pk}"

    @property
    def finished(self) -> bool:
        return self.status != self.RUNNING

    @property
    def overall(self) -> dict:
        return self.result.get("overall") or {}

    @property
    def practice(self) -> bool:
        """Estimated from a published or uploaded table, not from this country's linked
        records: practice or comparison, never the country's figure."""
        return self.input_kind != self.LINK_RUN


class EstimateOfRecord(Designation):
    """A data steward's decision that an estimation run is the organisation's current figure
    of the hidden number. Decisions are never edited: a new designation (or a withdrawal)
    closes the current one, and the history stays."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="estimates_of_record")
    run = models.ForeignKey(EstimationRun, on_delete=models.PROTECT,
                            related_name="designations")

    class Meta(Designation.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organisation"], condition=models.Q(ended_at=None),
                                    name="one_current_estimate_of_record"),
        ]

    def __str__(self) -> str:
        return f"estimate of record: run {self.run_id}"
