"""Working groups and advisory boards that steer a National Action Plan.

A :class:`Group` belongs to one organisation (the one that convenes it) and may follow a plan
and some of its measures (by measure id: a plan's measures live in its revisions' documents,
not in tables). People take part through a :class:`Membership`: an organisation, a named
person, or both (a person needs no account; a link to one lets them find their action items).
The chair is the membership with the role "chair" — one source of truth, no second field to
keep in step. Groups meet (:class:`Meeting`), record :class:`Attendance`, take
:class:`Decision` s and assign :class:`ActionItem` s to members.

Every write goes through ``services`` (the single write gate), which checks the rules and
records who changed what in the audit log.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Group(models.Model):
    class Kind(models.TextChoices):
        WORKING_GROUP = "working_group", _("Working group")
        ADVISORY_BOARD = "advisory_board", _("Advisory board")
        TASK_FORCE = "task_force", _("Task force")

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="working_groups",
                                     verbose_name=_("convening organisation"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices,
                            default=Kind.WORKING_GROUP)
    mandate = models.TextField(_("mandate and terms of reference"), blank=True)
    plan = models.ForeignKey("plans.Plan", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="working_groups", verbose_name=_("plan"))
    #: ids of the plan's measures this group follows
    measures = models.JSONField(_("measures followed"), default=list, blank=True)
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_to = models.DateField(_("active until"), null=True, blank=True)
    #: members are named only by pseudonyms (survivor boards): no accounts are linked
    pseudonymous = models.BooleanField(_("members named by pseudonyms only"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"],
                                               name="one_group_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def chair(self) -> Membership | None:
        """The current chair (the first active membership with the role chair)."""
        return next((m for m in self.memberships.all()
                     if m.role == Membership.Role.CHAIR and m.end is None), None)


class Membership(models.Model):
    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair")
        MEMBER = "member", _("Member")
        SECRETARIAT = "secretariat", _("Secretariat")
        OBSERVER = "observer", _("Observer")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="group_memberships",
                                     verbose_name=_("organisation"))
    #: a named person (or, in a pseudonymous group, their pseudonym); may have no account
    person = models.CharField(_("person"), max_length=200, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="group_memberships",
                             verbose_name=_("account"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices,
                            default=Role.MEMBER)
    start = models.DateField(_("member since"))
    end = models.DateField(_("member until"), null=True, blank=True)

    class Meta:
        ordering = ["group", "end", "role", "organisation__name", "person", "id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(organisation__isnull=False) | ~models.Q(person=""),
            name="membership_names_someone")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        org = self.organisation.name if self.organisation_id else ""
        if self.person and org:
            return f"{self.person} ({org})"
        return self.person or org

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


class Meeting(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField(_("date"))
    online = models.BooleanField(_("online"), default=False)
    place = models.CharField(_("place"), max_length=200, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "-date", "-id"]

    def __str__(self) -> str:
        return f"{self.group.name} {self.date.isoformat()}"

    @property
    def where(self) -> str:
        if self.online:
            return str(_("Online")) + (f" ({self.place})" if self.place else "")
        return self.place


class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        APOLOGIES = "apologies", _("Apologies")
        ABSENT = "absent", _("Absent")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE,
                                   related_name="attendance")
    status = models.CharField(_("attendance"), max_length=20, choices=Status.choices)

    class Meta:
        ordering = ["meeting", "membership"]
        constraints = [models.UniqueConstraint(fields=["meeting", "membership"],
                                               name="one_attendance_per_member")]

    def __str__(self) -> str:
        return f"{self.membership} {self.status}"


class Decision(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("decision"))
    #: ids of the plan's measures the decision concerns
    measures = models.JSONField(_("measures"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="action_items")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="action_items")
    decision = models.ForeignKey(Decision, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="action_items")
    description = models.TextField(_("action"))
    owner = models.ForeignKey(Membership, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="action_items", verbose_name=_("owner"))
    due = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.OPEN)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    measure = models.CharField(_("measure"), max_length=80, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.description[:60]

    def overdue_on(self, day: dt.date) -> bool:
        """Open and past its due date."""
        return self.status == self.Status.OPEN and self.due is not None and self.due < day
