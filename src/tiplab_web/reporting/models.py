"""The safe reporting channel's tables. Nothing a reporter wrote is stored in clear: report
bodies, follow-ups, attachments, staff replies and internal notes are ``sealed`` envelopes
(:mod:`.sealing`: a PyNaCl ``SealedBox`` to each recipient key). What stays in clear is what
triage needs to order the queue — whether someone is in danger now, the status, urgency and
category staff set, referrals — and times rounded down to the hour. The receipt code is kept
only as an HMAC under a key outside the database (:mod:`.receipts`)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _uid() -> str:
    return secrets.token_hex(16)


class RecipientKey(models.Model):
    """A public key content is sealed to. ``on_server``: its private half is a file in the key
    directory (staff read reports on the server); otherwise it is held offline (a copy for an
    air-gapped workstation). A retired key gets no new content; what was sealed to it stays
    readable while its private file is kept."""

    key_id = models.CharField(max_length=12, unique=True)
    public_key = models.BinaryField()
    label = models.CharField(max_length=200, blank=True)
    on_server = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"reporting key {self.key_id}"


class Report(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        TRIAGE = "triage", _("In triage")
        REFERRED = "referred", _("Referred")
        CLOSED = "closed", _("Closed")
        DUPLICATE = "duplicate", _("Duplicate")

    class Urgency(models.TextChoices):
        UNSET = "", _("Not assessed")
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        IMMEDIATE = "immediate", _("Immediate")

    class Category(models.TextChoices):
        UNSET = "", _("Not categorised")
        SEXUAL = "sexual_exploitation", _("Sexual exploitation")
        LABOUR = "forced_labour", _("Forced labour")
        DOMESTIC = "domestic_servitude", _("Domestic servitude")
        CRIMINALITY = "forced_criminality", _("Forced criminality")
        BEGGING = "begging", _("Forced begging")
        ORGANS = "organ_removal", _("Organ removal")
        OTHER = "other", _("Other")
        NOT_TRAFFICKING = "not_trafficking", _("Not trafficking")

    #: random, binds sealed content to this report (a blob moved to another row won't open)
    uid = models.CharField(max_length=32, unique=True, default=_uid, editable=False)
    #: HMAC-SHA256 of the normalised receipt code (``receipts.digest``)
    receipt_digest = models.CharField(max_length=64, unique=True)
    #: rounded down to the hour: the exact second would help match the report to network logs
    received_at = models.DateTimeField(db_index=True)
    #: the reporter said someone is in danger now (shown first in the queue)
    in_danger = models.BooleanField(default=False)
    #: the sealed JSON body (who reports, what happened, where, when, contact preference)
    body = models.BinaryField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW,
                              db_index=True)
    urgency = models.CharField(max_length=12, choices=Urgency.choices, blank=True, default="")
    category = models.CharField(max_length=24, choices=Category.choices, blank=True,
                                default="")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates")
    #: the reporter added something the staff have not opened yet
    needs_attention = models.BooleanField(default=True)
    #: the intake record made from this report (source "report")
    case_batch = models.CharField(max_length=40, blank=True)
    case_record = models.ForeignKey("cases.CaseRecord", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-in_danger", "-received_at", "-id"]

    def __str__(self) -> str:
        return f"report {self.ref}"

    @property
    def ref(self) -> str:
        """What staff call the report (the receipt code is never shown to them)."""
        return f"R-{self.pk:05d}" if self.pk else "R-?"


class Message(models.Model):
    """A follow-up from the reporter, a reply from staff (the reporter reads it with the
    receipt code) or an internal note (staff only)."""

    class Kind(models.TextChoices):
        FOLLOWUP = "followup", _("Information added by the reporter")
        REPLY = "reply", _("Reply to the reporter")
        NOTE = "note", _("Internal note")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    uid = models.CharField(max_length=32, unique=True, default=_uid, editable=False)
    body = models.BinaryField()
    #: reporter's messages: rounded down to the hour; staff messages: as written
    created_at = models.DateTimeField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} on report {self.report_id}"


class Attachment(models.Model):
    """A file the reporter sent with the report or a follow-up: its name, type and bytes are
    sealed together; only its coarse kind (image, PDF, text) is in clear."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="attachments")
    uid = models.CharField(max_length=32, unique=True, default=_uid, editable=False)
    kind = models.CharField(max_length=10)
    sealed = models.BinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attachment {self.pk} of report {self.report_id}"


class Referral(models.Model):
    class To(models.TextChoices):
        POLICE = "police", _("Police")
        NGO = "ngo", _("NGO")
        HOTLINE = "hotline", _("Hotline")
        OTHER = "other", _("Other authority")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="referrals")
    to = models.CharField(max_length=10, choices=To.choices)
    organisation = models.CharField(max_length=200)
    referred_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["referred_on", "id"]

    def __str__(self) -> str:
        return f"referral of report {self.report_id} to {self.organisation}"
