"""The system of record for case data: import batches, records, statistics, rejects, issues.

Identifying fields never reach these tables in clear: a record's identifiers are sealed
(AES-256-GCM, key outside the database) in ``identity_sealed``, and exact identifiers have
keyed pseudonyms (see ``tiplab.records.protect``). Rows are written in bulk by
``tiplab_web.cases.store`` inside one transaction per batch.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WrittenJSONField(models.JSONField):  # type: ignore[type-arg]
    """A JSONField without SQLite's ``JSON_VALID`` CHECK constraint.

    Record rows are written only by the import (DuckDB's ``to_json``) or Django's encoder, so
    the text is valid JSON by construction; the per-column CHECK cost more than half of the
    bulk-insert time on SQLite (six columns x one million rows, ``benchmarks/README.md``).
    Lookups, reads and PostgreSQL's ``jsonb`` (which validates natively) are unchanged.
    """

    def db_check(self, connection: Any) -> str | None:
        return None


class ImportBatch(models.Model):
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    #: an agency's submission waiting for a data steward, and one the steward sent back
    SUBMITTED = "submitted"
    RETURNED = "returned"
    STATUS = [(ACTIVE, _("approved")), (SUPERSEDED, _("superseded")),
              (SUBMITTED, _("awaiting review")), (RETURNED, _("returned"))]
    KINDS = [("case", _("case records")), ("aggregate", _("aggregate statistics"))]

    batch_id = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=16, choices=KINDS)
    source_agency = models.CharField(max_length=200, db_index=True)
    file_name = models.CharField(max_length=500)
    file_size = models.BigIntegerField()
    file_format = models.CharField(max_length=16)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=8, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    profile_name = models.CharField(max_length=200)
    profile_sha256 = models.CharField(max_length=64)
    profile_text = models.TextField(blank=True)
    schema_version = models.CharField(max_length=16)
    tiplab_version = models.CharField(max_length=32)
    key_id = models.CharField(max_length=32, blank=True)
    imported_by = models.CharField(max_length=150)
    imported_at = models.DateTimeField()
    rows = models.IntegerField()
    accepted = models.IntegerField()
    rejected = models.IntegerField()
    warnings = models.IntegerField()
    censored = models.IntegerField(default=0)
    reasons = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=STATUS, default=ACTIVE, db_index=True)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    superseded_at = models.DateTimeField(null=True, blank=True)
    data_version = models.CharField(max_length=32, blank=True)
    #: a submission's correction: the batch it replaces once approved (``supersedes`` is set
    #: only then, so that pending submissions never hold the old batch)
    replaces = models.CharField(max_length=40, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.batch_id} ({self.source_agency}, {self.file_name})"


class CaseRecord(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="cases")
    source_row = models.IntegerField()
    source_agency = models.CharField(max_length=200)
    record_id = models.CharField(max_length=200)
    registration_date = models.DateField(null=True)
    sex = models.CharField(max_length=32, null=True)
    age = models.IntegerField(null=True)
    age_band = models.CharField(max_length=8, null=True)
    majority_status = models.CharField(max_length=16, null=True)
    citizenship = models.CharField(max_length=3, null=True)
    country_of_exploitation = models.CharField(max_length=3, null=True)
    region_of_exploitation = models.CharField(max_length=100, null=True)
    origin_country = models.CharField(max_length=3, null=True)
    origin_region = models.CharField(max_length=200, null=True)
    transit_countries = WrittenJSONField(null=True)
    exploitation_forms = WrittenJSONField(null=True)
    labour_sectors = WrittenJSONField(null=True)
    sexual_exploitation_types = WrittenJSONField(null=True)
    means_of_control = WrittenJSONField(null=True)
    recruiter_relation = models.CharField(max_length=32, null=True)
    trafficking_status = models.CharField(max_length=32, null=True)
    case_status = models.CharField(max_length=32, null=True)
    identity_sealed = models.BinaryField(null=True)
    # Pseudonyms are not indexed: exact-match searches are rare (a steward looking up a
    # document number) and an index on random keys would triple the bulk-insert cost.
    birth_date_pseudonym = models.CharField(max_length=32, null=True)
    document_number_pseudonym = models.CharField(max_length=32, null=True)
    phone_pseudonym = models.CharField(max_length=32, null=True)
    warnings = WrittenJSONField(default=list)

    class Meta:
        # Analyses read the Parquet snapshot, not this table: only the lookups the import
        # and the case browser need are indexed.
        indexes = [models.Index(fields=["source_agency", "record_id"])]

    def __str__(self) -> str:
        return f"{self.source_agency}:{self.record_id}"


class AggregateRecord(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="statistics")
    source_row = models.IntegerField()
    source_agency = models.CharField(max_length=200)
    country = models.CharField(max_length=3)
    indicator = models.CharField(max_length=200)
    dimension = models.CharField(max_length=200)
    category = models.CharField(max_length=300)
    sex = models.CharField(max_length=16)
    age_group = models.CharField(max_length=32)
    year = models.IntegerField()
    unit = models.CharField(max_length=64, null=True)
    value = models.BigIntegerField(null=True)
    value_low = models.BigIntegerField(null=True)
    value_high = models.BigIntegerField(null=True)
    censored = models.BooleanField(default=False)
    warnings = WrittenJSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["country", "indicator", "year"])]

    def __str__(self) -> str:
        return f"{self.country} {self.indicator} {self.year}"


class RejectedRow(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="rejects")
    source_row = models.IntegerField()
    raw = models.JSONField(help_text="the row as read, identifier columns redacted")
    raw_sealed = models.BinaryField(null=True, help_text="the full row, sealed (data stewards)")
    reasons = models.JSONField()

    class Meta:
        ordering = ["source_row"]

    def __str__(self) -> str:
        return f"{self.batch_id} row {self.source_row}"


class RowIssue(models.Model):
    ERROR = "error"
    WARNING = "warning"
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="issues")
    source_row = models.IntegerField()
    column = models.CharField(max_length=300)
    field = models.CharField(max_length=64, null=True)
    value = models.TextField(null=True)
    code = models.CharField(max_length=64, db_index=True)
    severity = models.CharField(max_length=8)
    message = models.TextField()

    class Meta:
        ordering = ["source_row", "code"]

    def __str__(self) -> str:
        return f"{self.code} row {self.source_row}"
