"""The designated linkage: a data steward decides which link run defines a person; the
analytics count its persons by default, say so, and offer records; approved data arriving
later make the designation stale, and an incremental re-link replaces it."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.urls import reverse
from tests.web import test_linkage_support as ls

from tiplab.snapshot import open_snapshot
from tiplab.store import run_import
from tiplab_web.audit.models import AuditEntry
from tiplab_web.cases import services as case_services
from tiplab_web.linkage.models import LinkDesignation, LinkRun


def _total(page) -> int:  # the trend table's counts (no breakdown, no forecast)
    rows = page.context["rows"]
    return sum(int(r["value"].replace(",", "")) for r in rows if not r.get("forecast"))


def _link(client, agencies) -> LinkRun:
    client.post(reverse("linkage:runs"), {"sources": list(agencies)})
    run = LinkRun.objects.latest("id")
    assert run.status == LinkRun.DONE, run.error
    return run


@pytest.fixture(autouse=True)
def _own_data_dir(settings, tmp_path):
    """A data directory of this test's own: the snapshot and its designation are files."""
    settings.DATA_DIR = tmp_path


def test_a_designated_run_makes_the_figures_count_persons(client_as, world):
    ls.seed_records()
    analyst, steward = client_as("analyst"), client_as("data_steward")
    officer = client_as("policy_officer")
    run = _link(analyst, ls.AGENCIES)
    assert run.persons < run.records
    trends = reverse("insights:trends") + "?horizon=0"
    before = analyst.get(trends)
    assert "Counting <strong>records</strong>" in before.content.decode()
    assert _total(before) == run.records
    # analysts cannot designate; stewards can, with a reason kept and audited
    assert analyst.post(reverse("linkage:designate", args=[run.pk])).status_code == 403
    page = steward.get(reverse("linkage:run", args=[run.pk])).content.decode()
    assert "Count persons with this run" in page
    steward.post(reverse("linkage:designate", args=[run.pk]), {"note": "reviewed pairs"})
    d = LinkDesignation.objects.get(ended_at=None)
    assert (d.run, d.note) == (run, "reviewed pairs")
    assert AuditEntry.objects.filter(action="linkage.designate", object_id=str(run.pk)).exists()
    linkage = open_snapshot(Path(settings.DATA_DIR)).linkage
    assert linkage is not None
    assert linkage.run == str(run.pk)
    # persons by default, for every role; records on request
    after = analyst.get(trends)
    html = after.content.decode()
    assert "Counting <strong>persons</strong>" in html
    assert f"link run #{run.pk}" in html
    assert _total(after) == run.persons
    assert _total(analyst.get(trends + "&unit=records")) == run.records
    assert "Counting <strong>persons</strong>" in officer.get(trends).content.decode()
    export = analyst.get(reverse("insights:trends_export") + "?horizon=0")
    text = b"".join(export.streaming_content if export.streaming else [export.content])
    header, first = text.decode().splitlines()[:2]
    assert header.endswith("data_version,unit")
    assert first.endswith(f"persons (link run {run.pk})")
    for path in ("insights:profiles",):  # the seeded data have no routes nor map regions
        assert "Counting <strong>persons</strong>" in analyst.get(
            reverse(path)).content.decode(), path
    # withdraw: records again, kept in the history
    steward.post(reverse("linkage:withdraw"), {"note": "new agency joins"})
    assert open_snapshot(Path(settings.DATA_DIR)).linkage is None
    assert _total(analyst.get(trends)) == run.records
    listing = steward.get(reverse("linkage:runs")).content.decode()
    assert "new agency joins" in listing
    assert AuditEntry.objects.filter(action="linkage.withdraw").exists()


def test_new_approved_records_make_it_stale_and_a_relink_replaces_it(client_as, world):
    ls.seed_records(agencies=("police", "ngo"))
    analyst, steward = client_as("analyst"), client_as("data_steward")
    base = _link(analyst, ("police", "ngo"))
    steward.post(reverse("linkage:designate", args=[base.pk]), {"note": "first"})
    assert "Re-link and designate" not in steward.get(reverse("linkage:runs")).content.decode()
    # the hotline's file arrives and is approved (a steward's own import)
    text, _truth = ls.agency_csv(ls.people(), "hotline")
    path = Path(settings.DATA_DIR) / "hotline-later.csv"
    path.write_text(text, encoding="utf-8")
    batch, _ = run_import(case_services.store(), path,
                          case_services.parse(ls.profile_for("hotline"), "test"), user="setup")
    hotline_records = batch.accepted
    listing = steward.get(reverse("linkage:runs")).content.decode()
    assert "Re-link and designate" in listing
    assert f"{hotline_records} records approved since the run are not linked" in listing
    trends = reverse("insights:trends") + "?horizon=0"
    assert _total(analyst.get(trends)) == base.persons + hotline_records
    # the re-link: incremental from the designated run, then designated in its place
    steward.post(reverse("linkage:relink"))
    new = LinkRun.objects.latest("id")
    assert new.status == LinkRun.DONE, new.error
    assert new.settings["base_run"] == base.pk
    assert "incremental_refused" not in new.settings
    assert new.records == base.records + hotline_records
    assert LinkDesignation.objects.get(ended_at=None).run == new
    # the persons of the base run keep their ids; hotline records joined some of them
    old = pq.read_table(Path(settings.DATA_DIR) / "linkage" / str(base.pk) / "clusters.parquet")
    now = pq.read_table(Path(settings.DATA_DIR) / "linkage" / str(new.pk) / "clusters.parquet")
    before = dict(zip(zip(old["source"].to_pylist(), old["record_id"].to_pylist(), strict=True),
                      old["person_id"].to_pylist(), strict=True))
    after = dict(zip(zip(now["source"].to_pylist(), now["record_id"].to_pylist(), strict=True),
                     now["person_id"].to_pylist(), strict=True))
    kept = sum(after[k] == v for k, v in before.items())
    assert kept >= 0.95 * len(before)  # a hotline record may merge two earlier persons
    assert new.persons < base.persons + hotline_records  # hotline callers were known
    assert _total(analyst.get(trends)) == new.persons
    assert "Re-link and designate" not in steward.get(reverse("linkage:runs")).content.decode()
