"""Link runs (who linked which agencies' records, how, with what result) and the data
stewards' review decisions that every later run respects."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tiplab_web.core.decisions import Designation


class LinkRun(models.Model):
    """One linkage of the system of record. The result files (clusters, pairs, persons,
    threshold table, review queue; no identifier) live in ``DATA_DIR/linkage/<pk>/``."""

    RUNNING, DONE, FAILED = "running", "done", "failed"
    STATUS = [(RUNNING, "running"), (DONE, "done"), (FAILED, "failed")]

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="link_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="link_runs")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUS, default=RUNNING)
    error = models.TextField(blank=True)
    data_version = models.CharField(max_length=80, blank=True)
    #: sources, mode, threshold (None = the model's choice), LinkSettings as JSON
    settings = models.JSONField(default=dict)
    records = models.IntegerField(null=True)
    persons = models.IntegerField(null=True)
    pairs_scored = models.IntegerField(null=True)
    pairs_above_threshold = models.IntegerField(null=True)
    records_by_agency = models.JSONField(default=dict)
    threshold = models.FloatField(null=True)
    #: ThresholdChoice.to_dict(): threshold, chosen_by, reason, assumptions, tradeoff rows
    threshold_choice = models.JSONField(default=dict)
    #: [{"pattern": [...agencies], "persons": n}] and {"1": n, "2": n, ...}
    capture_patterns = models.JSONField(default=list)
    persons_by_agency_count = models.JSONField(default=dict)
    decisions_applied = models.IntegerField(default=0)
    conflicts = models.JSONField(default=list)
    review_pairs = models.IntegerField(null=True)
    #: LinkageQuality.to_dict() against a truth file (demo data only), else {}
    quality = models.JSONField(default=dict)
    timings = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"link run {self.pk}"

    @property
    def finished(self) -> bool:
        return self.status != self.RUNNING

    @property
    def sources(self) -> list[str]:
        return list(self.settings.get("sources", []))


class LinkDecision(models.Model):
    """A data steward's decision on one pair of records; the latest decision on a pair wins
    and is passed to every later run (``tiplab.linkage.link(..., decisions=...)``)."""

    MATCH, NON_MATCH = "match", "non-match"
    DECISIONS = [(MATCH, "match"), (NON_MATCH, "non-match")]

    source_l = models.CharField(max_length=200)
    record_id_l = models.CharField(max_length=200)
    source_r = models.CharField(max_length=200)
    record_id_r = models.CharField(max_length=200)
    decision = models.CharField(max_length=10, choices=DECISIONS)
    match_probability = models.FloatField(null=True)
    run = models.ForeignKey(LinkRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="decisions")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="link_decisions")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["source_l", "record_id_l", "source_r", "record_id_r"])]

    def __str__(self) -> str:
        return (f"{self.source_l}:{self.record_id_l} ~ {self.source_r}:{self.record_id_r} "
                f"= {self.decision}")


class LinkDesignation(Designation):
    """A data steward's decision that a link run defines who is a person in the figures:
    trends, profiles, routes and hotspots count that run's persons. One is current at a time
    (the snapshot is one); a new designation or a withdrawal closes it; history stays."""

    run = models.ForeignKey(LinkRun, on_delete=models.PROTECT, related_name="designations")
    #: True while current, NULL once ended: unique, so the database itself allows one
    #: current designation (NULLs are distinct in SQLite and PostgreSQL alike)
    slot = models.BooleanField(null=True, default=True, editable=False)

    class Meta(Designation.Meta):
        constraints = [
            models.UniqueConstraint(fields=["slot"], name="one_current_link_designation"),
        ]

    def __str__(self) -> str:
        return f"designated linkage: run {self.run_id}"


class LinkSample(models.Model):
    """A stratified sample of a run's pairs for reviewers to label: the label-based estimate
    of precision and recall (``tiplab.linkage.sample``). Drawn once; labelling it all (or
    marking a pair "can't tell") gives the estimate its intervals."""

    run = models.ForeignKey(LinkRun, on_delete=models.CASCADE, related_name="samples")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="link_samples")
    created_at = models.DateTimeField(auto_now_add=True)
    size = models.IntegerField()
    seed = models.BigIntegerField()
    #: [{"name", "linked", "size", "model_mean", "sampled"}] as drawn
    strata = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"quality sample {self.pk} of link run {self.run_id}"


class LinkSamplePair(models.Model):
    """One sampled pair and its label (empty until a reviewer answers)."""

    MATCH, NON_MATCH, UNSURE = "match", "non-match", "unsure"
    LABELS = [(MATCH, "match"), (NON_MATCH, "non-match"), (UNSURE, "unsure")]

    sample = models.ForeignKey(LinkSample, on_delete=models.CASCADE, related_name="pairs")
    index = models.IntegerField()
    stratum = models.CharField(max_length=60)
    stratum_size = models.BigIntegerField()
    linked = models.BooleanField()
    source_l = models.CharField(max_length=200)
    record_id_l = models.CharField(max_length=200)
    source_r = models.CharField(max_length=200)
    record_id_r = models.CharField(max_length=200)
    match_probability = models.FloatField(null=True)
    label = models.CharField(max_length=10, choices=LABELS, blank=True)
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="link_sample_labels")
    labelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "index"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "index"], name="one_pair_per_index"),
        ]

    def __str__(self) -> str:
        return f"{self.source_l}:{self.record_id_l} ~ {self.source_r}:{self.record_id_r}"
