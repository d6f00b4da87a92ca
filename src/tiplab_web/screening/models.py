"""Screening batches of free texts (case narratives, online advertisements) and their items.

A :class:`ScreeningBatch` is one uploaded CSV, owned by an organisation. Until its job has
run, the accepted rows wait sealed in the batch (``sealed_rows``, purpose
``screening.rows:<pk>``); the job screens them with :func:`tiplab.qualitative.screen.screen`
and writes every :class:`ScreeningItem` in one transaction, then erases the waiting rows. A
failed job leaves no items.

An item's text is sealed at rest (``sealed_text``, purpose ``screening.item:<pk>``): the
database holds the flags, codes and confidences in clear, never the text. Reading the text
is audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScreeningBatch(models.Model):
    class Kind(models.TextChoices):
        NARRATIVES = "case_narratives", _("Case narratives of imported records")
        TEXTS = "texts", _("Texts (e.g. online advertisements)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be screened")
        RUNNING = "running", _("being screened")
        DONE = "done", _("screened")
        FAILED = "failed", _("failed")

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TEXTS)
    file_name = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    encoding = models.CharField(max_length=32, blank=True)
    id_column = models.CharField(max_length=100)
    text_column = models.CharField(max_length=100)
    #: data rows in the file; accepted for screening; rejected (here or by the core)
    rows = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    #: texts screened and flagged (the core's ScreenReport)
    screened = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    threshold = models.FloatField(default=0.5)
    #: what the suggester resolved to: "zero-shot", "classifier" or "keywords"
    method = models.CharField(max_length=20, blank=True)
    model_info = models.JSONField(default=dict, blank=True)
    codebook_name = models.CharField(max_length=200, blank=True)
    codebook_version = models.CharField(max_length=50, blank=True)
    codebook_hash = models.CharField(max_length=64, blank=True)
    classifier_info = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    job_id = models.CharField(max_length=64, blank=True)
    #: the core's ScreenReport (by_code, seconds, …) and every rejected row with its reason
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    #: the accepted rows, sealed, until the job has screened them (then erased)
    sealed_rows = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"screening batch {self.pk}: {self.title}"

    @property
    def rows_purpose(self) -> str:
        return f"screening.rows:{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ScreeningItem(models.Model):
    class Review(models.TextChoices):
        PENDING = "pending", _("pending")
        CONFIRMED = "confirmed", _("confirmed")
        DISMISSED = "dismissed", _("dismissed")
        ESCALATED = "escalated", _("escalated")

    batch = models.ForeignKey(ScreeningBatch, on_delete=models.CASCADE, related_name="items")
    #: row order in the uploaded file (1 = first data row)
    row = models.PositiveIntegerField()
    external_id = models.CharField(max_length=300)
    #: case narratives: the record they belong to
    source_agency = models.CharField(max_length=200, blank=True)
    record_id = models.CharField(max_length=200, blank=True)
    sealed_text = models.BinaryField()
    flagged = models.BooleanField(default=False, db_index=True)
    codes = models.JSONField(default=list, blank=True)
    confidences = models.JSONField(default=dict, blank=True)
    score = models.FloatField(default=0.0)
    review_status = models.CharField(max_length=10, choices=Review.choices,
                                     default=Review.PENDING)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-score", "row"]
        constraints = [models.UniqueConstraint(fields=["batch", "external_id"],
                                               name="screening_item_unique_id")]
        indexes = [models.Index(fields=["batch", "flagged", "-score"])]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.external_id}"

    @property
    def purpose(self) -> str:
        return f"screening.item:{self.pk}"

    @property
    def top_code(self) -> str:
        if not self.codes:
            return ""
        return max(self.codes, key=lambda k: float(self.confidences.get(k, 0.0)))
