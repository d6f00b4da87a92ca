"""Legal-framework assessments: a country's law answered item by item against an instrument
(the Palermo Protocol, the CoE Convention, the EU Directive, the TVPA standards, or an
instrument an organisation added), with the evidence for each answer, an assessor and a
reviewer. Scores, gaps and the harmonisation across countries are computed by
``tiplab.policy.legal`` from these rows, never stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models

ANSWER_CHOICES = [("yes", "yes"), ("partial", "partial"), ("no", "no"),
                  ("not_applicable", "not applicable"), ("unknown", "unknown")]


class Instrument(models.Model):
    """An instrument an organisation added (the shipped ones live in the package)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="legal_instruments")
    ident = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    yaml = models.TextField()
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ident", "-version"]
        constraints = [models.UniqueConstraint(fields=["organisation", "ident", "version"],
                                               name="one_instrument_version")]

    def __str__(self) -> str:
        return f"{self.ident}@{self.version}"


class LegalAssessment(models.Model):
    DRAFT, REVIEWED = "draft", "reviewed"
    STATUS = [(DRAFT, "draft"), (REVIEWED, "reviewed")]

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="legal_assessments")
    country = models.CharField(max_length=3)
    instrument = models.CharField(max_length=80)
    instrument_version = models.PositiveIntegerField()
    date = models.DateField()
    status = models.CharField(max_length=10, choices=STATUS, default=DRAFT)
    #: answered for a demonstration from public knowledge, not a legal opinion
    illustrative = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="legal_assessments")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    #: the assessment this one re-assesses (its answers were the starting point)
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="next")

    class Meta:
        ordering = ["country", "instrument", "-date", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["organisation", "country", "instrument", "date"],
            name="one_assessment_per_country_instrument_date")]

    def __str__(self) -> str:
        return f"{self.country} {self.instrument} {self.date}"

    @property
    def editable(self) -> bool:
        return self.status == self.DRAFT


class LegalAnswer(models.Model):
    assessment = models.ForeignKey(LegalAssessment, on_delete=models.CASCADE,
                                   related_name="answers")
    item = models.CharField(max_length=80)
    answer = models.CharField(max_length=16, choices=ANSWER_CHOICES, default="unknown")
    statute = models.CharField(max_length=300, blank=True)
    article = models.CharField(max_length=120, blank=True)
    excerpt = models.TextField(blank=True)
    link = models.URLField(max_length=500, blank=True)
    comment = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["assessment", "item"],
                                               name="one_answer_per_item")]

    def __str__(self) -> str:
        return f"{self.item}: {self.answer}"
