"""National Action Plans. A plan's content lives in its revisions: every save is a new
:class:`PlanRevision` holding the whole plan document (``tiplab.policy.plan``'s YAML/JSON
form), who saved it, when and why. Revisions are append-only — a saved revision is never
updated or deleted — so an adopted version stays exactly as adopted, whatever path (page,
API, shell) tries to change it. Spend records and allocation scenarios hang off the plan."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Plan(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="plans")
    ident = models.CharField(max_length=80)
    title = models.CharField(max_length=300)
    country = models.CharField(max_length=200)
    #: the latest revision's status and version, kept here for lists
    status = models.CharField(max_length=20, default="draft")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    #: shipped with the demo: illustrative measures
    illustrative = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "ident"],
                                               name="one_plan_ident")]

    def __str__(self) -> str:
        return f"plan {self.ident}"


class RevisionImmutable(Exception):
    """A saved revision was about to be changed or deleted."""


class PlanRevision(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=20)
    document = models.JSONField()
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"],
                                               name="one_revision_number")]

    def __str__(self) -> str:
        return f"{self.plan.ident} r{self.number} (v{self.version}, {self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RevisionImmutable(f"revision {self.number} of {self.plan_id} is saved; "
                                    "a change is a new revision")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RevisionImmutable("plan revisions are never deleted")


class SpendRecord(models.Model):
    """Money committed and disbursed on one budget line (measure, year, source) in a period
    (a year, a quarter ``2026-Q2`` or a month ``2026-05``)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="spend")
    measure = models.CharField(max_length=80)
    line = models.CharField(max_length=80)
    period = models.CharField(max_length=10)
    committed = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    disbursed = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["measure", "line", "period", "recorded_at"]

    def __str__(self) -> str:
        return f"spend {self.measure} {self.line} {self.period}"


class AllocationScenario(models.Model):
    """A named what-if of the funding allocation: its scenario file and its result."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="scenarios")
    name = models.CharField(max_length=120)
    yaml = models.TextField()
    result = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "created_at"]

    def __str__(self) -> str:
        return f"scenario {self.name}"
