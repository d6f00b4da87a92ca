"""Consultations on a plan version, and survivors' (and the public's) input through one-time
codes.

A :class:`Consultation` is about one :class:`~tiplab_web.plans.models.PlanRevision` (the text
people read stays the text they commented on, whatever is saved later), the whole plan or some
of its parts (``scope``: unit keys of :func:`tiplab.policy.consultation.units`), open between
two dates to the organisations it invites (:class:`Invitation`, each in a stakeholder group).

:class:`Contribution` is a comment, an amendment (suggested text) or a reply in a thread, by a
signed-in participant or — tagged ``survivor`` — an anonymous input a moderator approved.
Hiding one keeps it (with the reason, who and when; audited). The drafting team answers each
with a :class:`Response` that may name the plan revision that changed the text.

:class:`VoiceCode` is a one-time code: only its keyed hash is stored (the code itself exists on
the printed sheet and nowhere else). :class:`VoiceAnswer` holds what was submitted with it,
sealed with the field key (``tiplab_web.core.sealed``): the answer as given and the redacted
version a moderator reviews. The answer as given is erased once the moderator decides; only
the reviewed text is kept. Nothing identifies who answered: no account, address, agent or
time finer than the day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiplab.policy.consultation import GROUPS, OUTCOMES

GROUP_CHOICES = [(k, k) for k in GROUPS]


class Consultation(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="consultations")
    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT,
                             related_name="consultations")
    revision = models.ForeignKey("plans.PlanRevision", on_delete=models.PROTECT,
                                 related_name="consultations")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    #: unit keys consulted on; empty: the whole plan
    scope = models.JSONField(default=list, blank=True)
    opens_on = models.DateField()
    closes_on = models.DateField()
    #: closed early by the drafting team (else it closes after ``closes_on``)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    illustrative = models.BooleanField(default=False)

    class Meta:
        ordering = ["-opens_on", "-id"]

    def __str__(self) -> str:
        return f"consultation {self.pk}: {self.title}"

    @property
    def state(self) -> str:
        today = timezone.localdate()
        if self.closed_at is not None or today > self.closes_on:
            return "closed"
        if today < self.opens_on:
            return "upcoming"
        return "open"

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class Invitation(models.Model):
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="invitations")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="consultation_invitations")
    group = models.CharField(max_length=32, choices=GROUP_CHOICES)

    class Meta:
        ordering = ["group", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["consultation", "organisation"],
                                               name="one_invitation_per_organisation")]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.group})"


class Contribution(models.Model):
    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        AMENDMENT = "amendment", _("Amendment")
        REPLY = "reply", _("Reply")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="contributions")
    unit = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=32, choices=GROUP_CHOICES)
    #: an anonymous input (a one-time code) approved by a moderator
    survivor = models.BooleanField(default=False)
    body = models.TextField()
    suggested_text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)
    support = models.PositiveIntegerField(default=0)
    oppose = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["consultation", "unit"])]

    def __str__(self) -> str:
        return f"contribution {self.pk}"


class Reaction(models.Model):
    class Stance(models.TextChoices):
        SUPPORT = "support", _("Support")
        OPPOSE = "oppose", _("Oppose")

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE,
                                     related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    stance = models.CharField(max_length=8, choices=Stance.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contribution", "user"],
                                               name="one_reaction_per_user")]

    def __str__(self) -> str:
        return f"{self.stance} on contribution {self.contribution_id}"


class Response(models.Model):
    contribution = models.OneToOneField(Contribution, on_delete=models.CASCADE,
                                        related_name="response")
    outcome = models.CharField(max_length=16, choices=[(k, k) for k in OUTCOMES])
    reason = models.TextField()
    #: the plan revision that changed the text (accepted or partly accepted)
    revision = models.ForeignKey("plans.PlanRevision", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    responded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.outcome} for contribution {self.contribution_id}"


class VoiceCode(models.Model):
    """A one-time code for anonymous input. Only ``digest`` (HMAC-SHA256 under a key kept
    outside the database) is stored; ``receipt`` codes let the same person add one
    follow-up and see the answer to their input."""

    class Purpose(models.TextChoices):
        CODE = "code", _("One-time code")
        RECEIPT = "receipt", _("Receipt for a follow-up")

    digest = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default="code")
    consultation = models.ForeignKey(Consultation, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="codes")
    #: a shipped questionnaire's key (tiplab.policy.questionnaires), when not a consultation
    questionnaire = models.CharField(max_length=80, blank=True)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    group = models.CharField(max_length=32, choices=GROUP_CHOICES, default="survivor_board")
    batch = models.CharField(max_length=32, db_index=True)
    #: the issuer's own note for the batch (e.g. "shelter north, March"): never a person
    note = models.CharField(max_length=200, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    issued_on = models.DateField(default=timezone.localdate)
    expires_on = models.DateField()
    used_on = models.DateField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    #: for a receipt: the answer it follows up
    answer = models.ForeignKey("VoiceAnswer", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="receipts")

    class Meta:
        ordering = ["-issued_on", "batch", "id"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.pk} (batch {self.batch})"

    @property
    def state(self) -> str:
        if self.revoked:
            return "revoked"
        if self.used_on is not None:
            return "used"
        if timezone.localdate() > self.expires_on:
            return "expired"
        return "unused"


class VoiceAnswer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not published")

    code = models.ForeignKey(VoiceCode, on_delete=models.PROTECT, related_name="answers")
    consultation = models.ForeignKey(Consultation, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="voice_answers")
    questionnaire = models.CharField(max_length=80, blank=True)
    #: the part of the plan the input is about ("" : the plan as a whole)
    unit = models.CharField(max_length=120, blank=True)
    group = models.CharField(max_length=32, choices=GROUP_CHOICES)
    #: the day only: a finer time could help tie an input to a visit
    submitted_on = models.DateField(default=timezone.localdate)
    #: the answer as given (JSON: {"text": ..., "answers": {...}}), sealed; erased on decision
    sealed_original = models.BinaryField(null=True, blank=True)
    #: the automatically redacted version, sealed; what the moderator reviews and edits
    sealed_redacted = models.BinaryField()
    #: what the automatic redaction found, by kind (counts only, no text)
    findings = models.JSONField(default=dict, blank=True)
    consent = models.BooleanField(default=False)
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="follow_ups")
    status = models.CharField(max_length=10, choices=Status.choices, default="pending")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    #: the contribution it became, once approved (consultation input)
    contribution = models.OneToOneField(Contribution, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="voice_answer")

    class Meta:
        ordering = ["submitted_on", "id"]

    def __str__(self) -> str:
        return f"anonymous input {self.pk}"

    def purpose(self, which: str) -> str:
        """The associated data that binds a sealed field to this row."""
        return f"voice.{which}:{self.code_id}:{self.submitted_on.isoformat()}"
