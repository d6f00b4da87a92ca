"""Linkage pages over the system of record: a run on seeded records completes, stores its
counts and identifier-free files, is audited; review decisions are stored, audited and
respected by the next run; analysts never see identifiers."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from django.urls import reverse
from tests.web import test_linkage_support as ls

from tiplab_web.audit.models import AuditEntry
from tiplab_web.linkage import services
from tiplab_web.linkage.models import LinkDecision, LinkRun


@pytest.fixture
def seeded(db, settings):
    return ls.seed_records()


def _run(client, sources=ls.AGENCIES) -> LinkRun:
    response = client.post(reverse("linkage:runs"), {"sources": list(sources)})
    assert response.status_code == 302
    run = LinkRun.objects.latest("id")
    assert response["Location"] == reverse("linkage:run", args=[run.pk])
    assert run.status == LinkRun.DONE, run.error
    return run


def _person(run: LinkRun, source: str, record_id: str) -> str:
    t = pq.read_table(services.run_dir(run) / "clusters.parquet").to_pylist()
    return next(r["person_id"] for r in t if r["source"] == source
                and r["record_id"] == record_id)


def test_link_run_stores_counts_and_files_without_identifiers(client_as, seeded):
    client = client_as("analyst")
    run = _run(client)
    truth = ls.people()
    n_records = sum(len(p["sources"]) for p in truth)
    assert run.records == n_records
    assert run.records_by_agency == {
        a: sum(a in p["sources"] for p in truth) for a in ls.AGENCIES}
    # the persons found are close to the true number, and every person is in the patterns
    assert abs(run.persons - len(truth)) <= 0.1 * len(truth)
    assert sum(p["persons"] for p in run.capture_patterns) == run.persons
    assert sum(run.persons_by_agency_count.values()) == run.persons
    assert run.threshold == run.threshold_choice["threshold"]
    assert run.threshold_choice["tradeoff"]
    assert run.threshold_choice["reason"]
    assert run.quality["pairwise_f1"] > 0.8
    assert run.quality["bcubed_f1"] > 0.9
    assert run.data_version == run.data_version.strip()
    assert run.settings["mode"] == "clear"
    # result files: present, and no clear name or phone number anywhere in them
    folder = services.run_dir(run)
    for name in services.FILES:
        path = folder / f"{name}.parquet"
        raw = path.read_bytes()
        text = str(pq.read_table(path).to_pylist())
        for secret in seeded[:40] + [p["phone"] for p in truth[:20]]:
            assert secret not in text, (name, secret)
            assert secret.encode() not in raw, (name, secret)
    persons = pq.read_table(folder / "persons.parquet")
    assert {"person_id", "sources", "year", "region_of_exploitation"} <= set(
        persons.column_names)
    # audited: the run and the bulk access to identifiers
    started = AuditEntry.objects.get(action="linkage.run")
    assert started.object_id == str(run.pk)
    assert started.details["sources"] == sorted(ls.AGENCIES)
    bulk = AuditEntry.objects.get(action="linkage.identifiers_accessed")
    assert bulk.details["records"] == n_records
    # the run page: trade-off, overlap and quality, and no identifier
    html = client.get(reverse("linkage:run", args=[run.pk])).content.decode()
    assert run.threshold_choice["reason"][:40] in html
    assert "Capture patterns" in html
    assert "B-cubed" in html
    assert "Use for estimation" in html
    assert "Review uncertain pairs" not in html  # analysts do not review
    for secret in seeded[:40]:
        assert secret not in html
    chart = client.get(reverse("linkage:threshold_chart", args=[run.pk]))
    assert chart["Content-Type"] == "image/svg+xml"
    assert b"<svg" in chart.content


def test_review_decisions_are_stored_audited_and_respected(client_as, seeded):
    steward = client_as("data_steward")
    run = _run(steward)
    queue = services.review_queue(run)
    assert queue, "the seeded siblings give uncertain pairs"
    # a pair the run merged (p >= threshold) and one it left apart (p < threshold), if any
    merged = next(p for p in queue if p.match_probability >= run.threshold)
    page = steward.get(reverse("linkage:review", args=[run.pk])).content.decode()
    assert f"{merged.source_l}:{merged.record_id_l}" in page
    assert _person(run, merged.source_l, merged.record_id_l) == _person(
        run, merged.source_r, merged.record_id_r)
    # side by side with identifiers, for the steward; the view is audited
    response = steward.get(reverse("linkage:review_pair", args=[run.pk, merged.index]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    left = services.record_fields(merged.source_l, merged.record_id_l, with_identifiers=True)
    assert left["family_name"]
    assert left["family_name"] in response.content.decode()
    view = AuditEntry.objects.get(action="linkage.review_view")
    assert view.details["pair_index"] == merged.index
    assert left["family_name"] not in str(view.details)
    # decide: non-match
    response = steward.post(reverse("linkage:review_pair", args=[run.pk, merged.index]),
                            {"decision": "non-match"})
    assert response.status_code == 302
    d = LinkDecision.objects.get()
    assert (d.source_l, d.record_id_l, d.decision, d.run) == (
        merged.source_l, merged.record_id_l, "non-match", run)
    decided = AuditEntry.objects.get(action="linkage.decide")
    assert decided.details["decision"] == "non-match"
    assert decided.object_id == str(d.pk)
    assert merged.index not in [p.index for p in services.review_queue(run)]
    # the next run respects the decision: the two records are two persons now
    second = _run(steward)
    assert second.decisions_applied == 1
    assert _person(second, merged.source_l, merged.record_id_l) != _person(
        second, merged.source_r, merged.record_id_r)


def test_analyst_cannot_review_or_see_identifiers(client_as, world, settings):
    run = ls.make_link_run(world, world.users["analyst"])
    analyst = client_as("analyst")
    assert analyst.get(reverse("linkage:review", args=[run.pk])).status_code == 403
    assert analyst.get(reverse("linkage:review_pair", args=[run.pk, 0])).status_code == 403
    assert analyst.post(reverse("linkage:review_pair", args=[run.pk, 0]),
                        {"decision": "match"}).status_code == 403
    assert not LinkDecision.objects.exists()
    assert not AuditEntry.objects.filter(action="linkage.review_view").exists()


def test_choosing_no_agency_starts_nothing(client_as, seeded):
    response = client_as("analyst").post(reverse("linkage:runs"), {"sources": ["nobody"]})
    assert response.status_code == 200
    assert response.context["form"].errors["sources"]
    assert not LinkRun.objects.exists()


def test_stored_case_characteristics_reach_the_model(seeded):
    """A run over the system of record compares the stored HTCDS forms (issue 23: weak
    evidence beside the identifiers); no identifier is needed to read them."""
    from tiplab.linkage.standardise import standardise

    table = services.store().linkage_records(with_identifiers=False)
    inputs = services.link_inputs(table, list(ls.AGENCIES))
    assert inputs
    for inp in inputs:
        assert inp.roles["exploitation_form"] == "exploitation_forms"
        std = standardise(inp)
        stored = inp.table.column("exploitation_forms").to_pylist()
        want = ["|".join(sorted(f.lower() for f in s.split("|"))) if s else None
                for s in stored]
        assert std.column("form").to_pylist() == want
        assert any(want)
