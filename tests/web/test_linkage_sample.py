"""The quality sample in the review queue: drawn, labelled side by side (audited), and the
estimate the labels give beside the model's own, on the run page and the designated-linkage
section. The seeded world's truth plays the reviewer."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.conf import settings as dj_settings
from django.urls import reverse
from tests.web import test_linkage_support as ls

from tiplab_web.audit.models import AuditEntry
from tiplab_web.linkage import designation, quality
from tiplab_web.linkage.models import LinkDecision, LinkRun, LinkSample


@pytest.fixture
def seeded(db, settings):
    return ls.seed_records()


def _truth() -> dict[tuple[str, str], str]:
    path = Path(dj_settings.DATA_DIR) / "demo" / "truth" / "records.csv"
    with path.open(encoding="utf-8") as fh:
        return {(r["source"], r["record_id"]): r["true_id"] for r in csv.DictReader(fh)}


def test_a_sample_is_drawn_labelled_and_gives_an_estimate(client_as, seeded):
    steward = client_as("data_steward")
    steward.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    run = LinkRun.objects.latest("id")
    assert run.status == LinkRun.DONE, run.error
    # the review queue offers the sample
    page = steward.get(reverse("linkage:review", args=[run.pk])).content.decode()
    assert reverse("linkage:sample", args=[run.pk]) in page
    assert "No labelled sample yet." in page
    response = steward.post(reverse("linkage:sample", args=[run.pk]), {"size": "40"})
    assert response.status_code == 302
    sample = LinkSample.objects.get(run=run)
    assert sample.pairs.count() >= 20
    assert AuditEntry.objects.filter(action="linkage.sample_draw").count() == 1
    # the estimate survives a reload: it is stored, not in the session
    assert "no pair is labelled yet" in steward.get(
        reverse("linkage:sample", args=[run.pk])).content.decode()
    truth = _truth()
    first = quality.next_unlabelled(sample)
    assert first is not None
    view = steward.get(reverse("linkage:sample_pair", args=[run.pk, first.index]))
    assert view.status_code == 200
    assert view["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="linkage.sample_view").count() == 1
    labelled = 0
    while (pair := quality.next_unlabelled(sample)) is not None:
        same = truth[(pair.source_l, pair.record_id_l)] == truth[(pair.source_r,
                                                                   pair.record_id_r)]
        r = steward.post(reverse("linkage:sample_pair", args=[run.pk, pair.index]),
                         {"label": "match" if same else "non-match"})
        assert r.status_code == 302
        labelled += 1
    assert labelled == sample.pairs.count()
    assert AuditEntry.objects.filter(action="linkage.sample_label").count() == labelled
    # every answer is also a review decision later runs respect
    assert LinkDecision.objects.count() == labelled
    q = quality.quality(run)
    assert q.labelled is not None
    assert not q.labelled.provisional
    true_p = run.quality["pairwise_precision"]
    assert q.labelled.precision_low <= true_p <= q.labelled.precision_high
    page = steward.get(reverse("linkage:sample", args=[run.pk])).content.decode()
    assert "Every pair of the sample is labelled." in page
    assert "Linked, match probability 0.99 or more" in page
    assert f"{q.labelled.precision:.3f}" in page
    # the run page and the designated-linkage section show both estimates
    run_page = steward.get(reverse("linkage:run", args=[run.pk])).content.decode()
    assert "The model&#x27;s estimate" in run_page or "The model's estimate" in run_page
    assert f"{q.labelled.precision:.3f}" in run_page
    designation.designate(world_user(run), run, "test")
    runs_page = steward.get(reverse("linkage:runs")).content.decode()
    assert f"{q.labelled.precision_low:.3f}" in runs_page


def world_user(run: LinkRun):  # the steward who started the run designates it
    return run.created_by


def test_cant_tell_is_counted_and_makes_no_decision(client_as, world, settings):
    steward = client_as("data_steward")
    run = ls.make_link_run(world, world.users["data_steward"])
    steward.post(reverse("linkage:sample", args=[run.pk]), {"size": "20"})
    pair = quality.next_unlabelled(quality.current(run))
    steward.post(reverse("linkage:sample_pair", args=[run.pk, pair.index]), {"label": "unsure"})
    assert not LinkDecision.objects.exists()
    est = quality.estimate(quality.current(run))
    assert est is not None
    assert est.unsure == 1


def test_a_sample_needs_the_review_role(client_as, world, settings):
    run = ls.make_link_run(world, world.users["analyst"])
    analyst = client_as("analyst")
    assert analyst.get(reverse("linkage:sample", args=[run.pk])).status_code == 403
    assert analyst.post(reverse("linkage:sample", args=[run.pk]),
                        {"size": "20"}).status_code == 403
    assert not LinkSample.objects.exists()
    # the run page shows no link to the sample for an analyst
    page = analyst.get(reverse("linkage:run", args=[run.pk])).content.decode()
    assert reverse("linkage:sample", args=[run.pk]) not in page


def test_a_size_out_of_range_is_refused(client_as, world, settings):
    steward = client_as("data_steward")
    run = ls.make_link_run(world, world.users["data_steward"])
    response = steward.post(reverse("linkage:sample", args=[run.pk]), {"size": "5"})
    assert response.status_code == 200
    assert response.context["form"].errors["size"]
    assert not LinkSample.objects.exists()


def test_every_stratum_has_words_on_the_pages():
    from tiplab.linkage.sample import STRATA

    assert set(quality.STRATUM_LABELS) == {s[0] for s in STRATA}
