"""Periodic reviews of a plan and impact evaluations of its measures.

A :class:`Review` is scheduled (annual, mid-term, final) on a plan; when it is held it keeps a
**snapshot** of the scorecard and of the evidence it read (data version, the scorecard's
figures), so a later reader sees what the reviewers saw. Its findings lead to
:class:`Recommendation` s, each optionally a **revision proposal** on a plan measure (a new
target, a new description, a status); accepting one applies it to the plan as a new revision
whose comment names the review and recommendation, so the plan's history shows which review
proposed each change.

An :class:`ImpactEvaluation` asks whether a measure changed anything ("identified victims in
the regions where labour inspectors were trained, against the others") with a method of
``tiplab.policy.impact``; it runs on the job kernel and keeps its typed result as JSON.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Review(models.Model):
    class Kind(models.TextChoices):
        ANNUAL = "annual", _("Annual review")
        MID_TERM = "mid_term", _("Mid-term review")
        FINAL = "final", _("Final evaluation")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        COMPLETED = "completed", _("Completed")

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    #: the year the review looks at
    year = models.PositiveIntegerField()
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default="scheduled")
    held_on = models.DateField(null=True, blank=True)
    #: the scorecard and evidence as the reviewers saw them (set when the review is held)
    snapshot = models.JSONField(default=dict, blank=True)
    #: the plan revision reviewed
    revision = models.ForeignKey("plans.PlanRevision", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    findings = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "kind", "year"],
                                               name="one_review_per_kind_and_year")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year} of {self.plan}"


class Recommendation(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted: in the plan")
        REJECTED = "rejected", _("Not taken up")

    class Change(models.TextChoices):
        NONE = "", _("No change to the plan text")
        TARGET = "target", _("Change a target")
        DESCRIPTION = "description", _("Change a measure's description")
        STATUS = "status", _("Change a measure's status")

    review = models.ForeignKey(Review, on_delete=models.CASCADE,
                               related_name="recommendations")
    number = models.PositiveIntegerField()
    text = models.TextField()
    measure = models.CharField(max_length=40, blank=True)
    change = models.CharField(max_length=12, choices=Change.choices, blank=True, default="")
    #: the proposal: {"indicator", "year", "value"} | {"description"} | {"status"}
    proposal = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default="proposed")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    applied_revision = models.ForeignKey("plans.PlanRevision", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["review", "number"]
        constraints = [models.UniqueConstraint(fields=["review", "number"],
                                               name="one_recommendation_number")]

    def __str__(self) -> str:
        return f"recommendation {self.number} of review {self.review_id}"


class ImpactEvaluation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT,
                             related_name="impact_evaluations")
    measure = models.CharField(max_length=40)
    method = models.CharField(max_length=12)
    outcome = models.CharField(max_length=80)
    treated = models.JSONField(default=list)
    start = models.PositiveIntegerField()
    params = models.JSONField(default=dict, blank=True)
    data_version = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default="queued")
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    job_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"impact of {self.measure} ({self.method})"
