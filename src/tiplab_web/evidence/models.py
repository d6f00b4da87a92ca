"""Qualitative evidence: interview notes sealed at rest, their codebook, human codes, the
model's suggestions, trained classifiers and citable quotations.

A :class:`Note` belongs to an organisation. Its text is never stored in clear: ``sealed_text``
holds the note as written and ``sealed_redacted`` the redacted version shown to roles that may
not read the full text, both sealed with the field key (``tiplab_web.core.sealed``) and bound
to the row (purpose ``evidence.note:<pk>`` and ``evidence.note.redacted:<pk>``), so a blob
copied to another note does not open there. ``text_sha256`` lets an import refuse a note
already stored without opening anything.

Coding offsets (``start``/``end``) are character offsets into the full text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tiplab.records.codes import EXPLOITATION_FORMS

FORM_CHOICES = [(k, v) for k, v in EXPLOITATION_FORMS.items()]


class Note(models.Model):
    class SourceType(models.TextChoices):
        SURVIVOR = "survivor", _("Survivor")
        NGO = "ngo", _("NGO")
        COMMUNITY = "community", _("Community organisation")
        LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
        JUDICIARY = "judiciary", _("Judiciary")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Being coded")
        FINISHED = "finished", _("Coding finished")

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="evidence_notes")
    title = models.CharField(max_length=200)
    source_type = models.CharField(max_length=20, choices=SourceType.choices)
    interview_date = models.DateField(null=True, blank=True)
    #: a region code of the workspace's country ("" : not said)
    region = models.CharField(max_length=40, blank=True)
    #: the language the note is treated as (detected unless the person adding it chose one)
    language = models.CharField(max_length=8, blank=True)
    #: what detection said ("" : unsure), kept beside the chosen language
    language_detected = models.CharField(max_length=8, blank=True)
    exploitation_form = models.CharField(max_length=40, blank=True, choices=FORM_CHOICES)
    #: the person interviewed agreed to the note's use in analysis (needed to code or count it)
    consent_analysis = models.BooleanField(default=False)
    #: ... and to being quoted (redacted)
    consent_quote = models.BooleanField(default=False)
    #: two-coder ("blind") mode: each coder sees only their own codes until both finished
    blind = models.BooleanField(default=False)
    sealed_text = models.BinaryField()
    sealed_redacted = models.BinaryField()
    #: what redaction masked, by kind (counts only, no text)
    redaction_counts = models.JSONField(default=dict, blank=True)
    text_sha256 = models.CharField(max_length=64, db_index=True)
    text_length = models.PositiveIntegerField(default=0)
    source_file_name = models.CharField(max_length=255, blank=True)
    source_file_kind = models.CharField(max_length=8, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk}: {self.title}"

    def purpose(self, which: str = "text") -> str:
        """The associated data binding a sealed field to this row."""
        return f"evidence.note:{self.pk}" if which == "text" else \
            f"evidence.note.{which}:{self.pk}"

    @property
    def language_supported(self) -> bool:
        from tiplab.qualitative.segment import MODEL_LANGUAGES

        return self.language in MODEL_LANGUAGES

    @property
    def year(self) -> int | None:
        return self.interview_date.year if self.interview_date else None


class CoderDone(models.Model):
    """A coder said they finished coding a note (ends blindness once two have)."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="done")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "coder"],
                                               name="evidence_one_done_per_coder")]

    def __str__(self) -> str:
        return f"note {self.note_id} finished by coder {self.coder_id}"


class CodebookVersion(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    number = models.PositiveIntegerField()
    #: ``Codebook.as_dict()``
    data = models.JSONField()
    content_hash = models.CharField(max_length=64)
    change = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["organisation", "number"],
                                               name="evidence_codebook_number")]

    def __str__(self) -> str:
        return f"codebook v{self.number}"


class Coding(models.Model):
    class Origin(models.TextChoices):
        HUMAN = "human", _("Coded by hand")
        ACCEPTED = "suggestion-accepted", _("Suggestion accepted")

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="codings")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    code = models.CharField(max_length=80)
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    comment = models.TextField(blank=True)
    origin = models.CharField(max_length=24, choices=Origin.choices, default=Origin.HUMAN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "end", "code", "id"]
        constraints = [models.UniqueConstraint(
            fields=["note", "start", "end", "code", "coder"], name="evidence_one_coding")]

    def __str__(self) -> str:
        return f"{self.code} on note {self.note_id} [{self.start}:{self.end}]"


class ClassifierVersion(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    number = models.PositiveIntegerField()
    #: ``TrainedClassifier.to_json()``
    data = models.TextField()
    codebook = models.ForeignKey(CodebookVersion, on_delete=models.PROTECT, related_name="+")
    n_examples = models.PositiveIntegerField()
    #: code -> human positives it was trained on
    positives = models.JSONField(default=dict)
    #: the held-out check: {"method": ..., "notes": ..., "per_code": {code: {...}}}
    agreement = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["organisation", "number"],
                                               name="evidence_classifier_number")]

    def __str__(self) -> str:
        return f"classifier v{self.number}"


class Suggestion(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="suggestions")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    code = models.CharField(max_length=80)
    confidence = models.FloatField()
    method = models.CharField(max_length=16)
    cue = models.CharField(max_length=200, blank=True)
    model_id = models.CharField(max_length=200, blank=True)
    classifier = models.ForeignKey(ClassifierVersion, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "-confidence", "id"]
        indexes = [models.Index(fields=["note", "status"])]

    def __str__(self) -> str:
        return f"suggested {self.code} on note {self.note_id} ({self.status})"


class Quotation(models.Model):
    """A redacted excerpt of a note whose speaker agreed to be quoted, frozen when made (the
    redacted text is stored as it was cited: it is meant to leave the system)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="quotations")
    #: per organisation, for the stable identifier ``EVQ-<number>``
    number = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    codes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "number"],
                                               name="evidence_quotation_number")]

    def __str__(self) -> str:
        return f"quotation {self.identifier}"

    @property
    def identifier(self) -> str:
        return f"EVQ-{self.number:04d}"
