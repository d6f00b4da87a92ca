"""Releases of statistics, their versions, the privacy-budget ledger and briefs.

A :class:`Release` is a named publication ("Identified victims 2015-2024") with a DOI-like
identifier; each :class:`ReleaseVersion` is prepared by an analyst from one data version
(a spec of items: differentially private tables, k-anonymous or synthetic microdata, key
figures), checked (disclosure, k, budget), approved by a data steward and then **frozen**:
its files are written once under the data directory with their sha256, and nothing about it
changes again except being withdrawn (with a reason; the files stay for the record).

The :class:`PrivacyLedger` of a dataset keeps account of every differentially private figure
released from it: one append-only :class:`LedgerEntry` per measured item, chained by hash
(each entry's hash covers the previous one) and recorded in the audit chain. The total ε
(δ) of a ledger cannot exceed its cap: approving a version that would exceed it is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a ledger entry."""


class PrivacyLedger(models.Model):
    """The privacy budget of one dataset: every release of the same people spends from it."""

    dataset = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    epsilon_cap = models.FloatField()
    delta_cap = models.FloatField(default=1e-6)
    created_at = models.DateTimeField(auto_now_add=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["dataset"]

    def __str__(self) -> str:
        return self.title


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise LedgerIsAppendOnly("privacy-ledger entries cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerIsAppendOnly("privacy-ledger entries cannot be deleted")


class LedgerEntry(models.Model):
    ledger = models.ForeignKey(PrivacyLedger, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveIntegerField()
    version = models.ForeignKey("ReleaseVersion", on_delete=models.PROTECT,
                                related_name="ledger_entries")
    item_key = models.CharField(max_length=80)
    query = models.CharField(max_length=300)
    mechanism = models.CharField(max_length=40)
    unit = models.CharField(max_length=20)
    epsilon = models.FloatField()
    delta = models.FloatField(default=0.0)
    rho = models.FloatField(null=True, blank=True)
    data_version = models.CharField(max_length=80)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["ledger", "seq"]
        constraints = [models.UniqueConstraint(fields=["ledger", "seq"],
                                               name="one_ledger_seq")]

    def __str__(self) -> str:
        return f"{self.ledger.dataset} #{self.seq} ε={self.epsilon:g}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise LedgerIsAppendOnly("privacy-ledger entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise LedgerIsAppendOnly("privacy-ledger entries cannot be deleted")

    def canonical(self) -> dict[str, Any]:
        return {"ledger": self.ledger.dataset, "seq": self.seq, "version": self.version_id,
                "item": self.item_key, "query": self.query, "mechanism": self.mechanism,
                "unit": self.unit, "epsilon": repr(float(self.epsilon)),
                "delta": repr(float(self.delta)),
                "rho": None if self.rho is None else repr(float(self.rho)),
                "data_version": self.data_version, "approved_by": self.approved_by_id,
                "created_at": self.created_at.isoformat(), "prev_hash": self.prev_hash}

    def compute_hash(self) -> str:
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

class Release(models.Model):
    """A named publication; its versions hold the content."""

    number = models.PositiveIntegerField(unique=True)
    identifier = models.CharField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    ledger = models.ForeignKey(PrivacyLedger, on_delete=models.PROTECT, related_name="releases")
    #: the organisation that publishes it (the coordinator): its people prepare and approve
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.identifier} {self.title}"

    def published_versions(self) -> models.QuerySet[ReleaseVersion]:
        return self.versions.filter(status=ReleaseVersion.Status.PUBLISHED)

    def latest_published(self) -> ReleaseVersion | None:
        return self.published_versions().order_by("-number").first()


class ReleaseVersion(models.Model):
    class Status(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        DRAFT = "draft", _("Prepared, awaiting checks")
        CHECKED = "checked", _("Checked, awaiting approval")
        BLOCKED = "blocked", _("Checks failed")
        FAILED = "failed", _("Preparation failed")
        PUBLISHED = "published", _("Approved and published")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DISCARDED = "discarded", _("Discarded")

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default="preparing")
    #: the release spec (tiplab.privacy.release.ReleaseSpec.to_dict())
    spec = models.JSONField()
    data_version = models.CharField(max_length=80, blank=True)
    #: what was counted: persons of the designated link run, or records
    unit = models.JSONField(default=dict, blank=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    prepared_at = models.DateTimeField(auto_now_add=True)
    #: per item: kind, title, files {fmt: {name, sha256, bytes}}, meta (ε, errors, k report…)
    items = models.JSONField(default=list, blank=True)
    #: key figures of the version (identified, estimated, detection gap), with their sources
    figures = models.JSONField(default=list, blank=True)
    #: the disclosure checks: [{name, item, passed, message}]
    checks = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    citation = models.TextField(blank=True)
    #: sha256 over the items' file hashes and the figures: what was frozen
    content_hash = models.CharField(max_length=64, blank=True)
    #: what changed from the previous published version
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, help_text=_("What this version is for or changes."))
    withdrawn_reason = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["release", "-number"]
        constraints = [models.UniqueConstraint(fields=["release", "number"],
                                               name="one_release_version_number")]

    def __str__(self) -> str:
        return f"{self.release.identifier} v{self.number}"

    @property
    def label(self) -> str:
        return f"{self.release.identifier}.v{self.number}"

    @property
    def epsilon(self) -> float:
        return float(sum(float(i.get("meta", {}).get("epsilon") or 0) for i in self.items))

    @property
    def frozen(self) -> bool:
        return self.status in (self.Status.PUBLISHED, self.Status.WITHDRAWN)


class Brief(models.Model):
    """An evidence brief or annual report drawn from one published version."""

    class Kind(models.TextChoices):
        BRIEF = "brief", _("Evidence brief")
        ANNUAL = "annual", _("Annual report")

    version = models.ForeignKey(ReleaseVersion, on_delete=models.PROTECT,
                                related_name="briefs")
    kind = models.CharField(max_length=8, choices=Kind.choices, default="brief")
    title = models.CharField(max_length=200)
    #: editable narrative sections; numbers only as [[figure]] tokens
    narrative = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default="en")
    #: the rendered PDF's sha256 and file name once published (public download)
    published = models.BooleanField(default=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"
