"""Reporting rounds: a plan's indicator values collected from the agencies that owe them.

A :class:`Round` is one reporting period of one plan (``2025``, ``2026-Q1``), open between its
opening date and its deadline (late submissions are accepted, and counted late, until a manager
closes it). It holds one :class:`AgencyForm` per organisation, listing the :class:`FormItem`
(measure, indicator) pairs that organisation owes — by default the indicators of the measures
it leads. Each item has at most one current :class:`Value` (the working copy an agency edits).

Every save, submission and decision is a :class:`FormEvent` with a snapshot of the values at
that moment, so a returned and corrected form keeps its whole history. Only the values of an
approved form count (``services.approved_values``). :class:`ReminderSent` records every
reminder e-mail so none goes out twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Round(models.Model):
    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="rounds")
    #: ``2025`` (a year) or ``2026-Q1`` (a quarter)
    period = models.CharField(max_length=7)
    opens_on = models.DateField()
    deadline = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    #: shipped with the demo
    illustrative = models.BooleanField(default=False)

    class Meta:
        ordering = ["-period", "-id"]
        constraints = [models.UniqueConstraint(fields=["plan", "period"],
                                               name="monitoring_one_round_per_period")]

    def __str__(self) -> str:
        return f"round {self.pk} ({self.period})"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class AgencyForm(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Not submitted")
        SUBMITTED = "submitted", _("Submitted, waiting for review")
        RETURNED = "returned", _("Returned for correction")
        APPROVED = "approved", _("Approved")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="forms")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="reporting_forms")
    status = models.CharField(max_length=10, choices=Status.choices, default="draft")
    #: the number of submissions so far (each is a version of the values)
    version = models.PositiveIntegerField(default=0)
    #: the first submission: what timeliness counts
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["round", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["round", "organisation"],
                                               name="monitoring_one_form_per_agency")]

    def __str__(self) -> str:
        return f"form {self.pk} ({self.round.period})"

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)


class FormItem(models.Model):
    """One (measure, indicator) an agency owes in a round, with the indicator's name, unit and
    value kind as they were when the item was added (a later plan change does not alter a
    round already open)."""

    form = models.ForeignKey(AgencyForm, on_delete=models.CASCADE, related_name="items")
    measure_id = models.CharField(max_length=80)
    indicator_id = models.CharField(max_length=80)
    name = models.CharField(max_length=300)
    unit = models.CharField(max_length=120, blank=True)
    #: ``percent``, ``count``, ``yesno`` or ``number`` (``services.value_kind``)
    kind = models.CharField(max_length=10)
    #: the indicator lists disaggregation by sex
    by_sex = models.BooleanField(default=False)
    #: added by a manager (not from the measures the agency leads)
    added = models.BooleanField(default=False)

    class Meta:
        ordering = ["measure_id", "indicator_id"]
        constraints = [models.UniqueConstraint(fields=["form", "measure_id", "indicator_id"],
                                               name="monitoring_one_item")]

    def __str__(self) -> str:
        return f"{self.measure_id}/{self.indicator_id}"

    @property
    def key(self) -> str:
        return f"{self.measure_id}/{self.indicator_id}"


class Value(models.Model):
    item = models.OneToOneField(FormItem, on_delete=models.CASCADE, related_name="value")
    value = models.DecimalField(max_digits=20, decimal_places=4)
    #: ``{"female": n, "male": n, "other": n}`` where the indicator is disaggregated by sex
    sex = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"value of {self.item_id}"


class FormEvent(models.Model):
    class Kind(models.TextChoices):
        SAVED = "saved", _("Draft saved")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for correction")
        APPROVED = "approved", _("Approved")

    form = models.ForeignKey(AgencyForm, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    #: how the values came in: ``web``, ``upload``, ``api``, ``cli``
    via = models.CharField(max_length=10, blank=True)
    late = models.BooleanField(default=False)
    #: the values at that moment: ``{"M1/PROT-10": {"value": "12", "comment": "", "sex": {}}}``
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} form {self.form_id} v{self.version}"


class ReminderSent(models.Model):
    class Kind(models.TextChoices):
        BEFORE = "before", _("Deadline approaching")
        LATE = "late", _("Deadline passed")

    form = models.ForeignKey(AgencyForm, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sent_at"]
        constraints = [models.UniqueConstraint(fields=["form", "kind"],
                                               name="monitoring_one_reminder_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} reminder for form {self.form_id}"
