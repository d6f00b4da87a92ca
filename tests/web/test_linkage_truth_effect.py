"""How linkage error moves the estimate, on a finished link run of demo-like data (three
agencies' records imported through the real pipeline, with the demo's truth file): the
estimate from the run beside the estimate from the true linkage, cached in the run's folder,
and the partial that shows it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from tests.web import test_linkage_support as ls

from tiplab.estimation import capture_tables_from_persons, estimate
from tiplab_web.linkage import services
from tiplab_web.linkage import truth_effect as te
from tiplab_web.linkage.models import LinkRun


@pytest.fixture(autouse=True)
def _own_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def _finished_run(client_as) -> LinkRun:
    ls.seed_records()
    client_as("analyst").post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    run = LinkRun.objects.latest("id")
    assert run.status == LinkRun.DONE, run.error
    # the link job computed it at the end of the run; the tests start from no cache
    cache = services.run_dir(run) / "truth_effect.json"
    assert cache.exists()
    cache.unlink()
    return run


def test_the_run_beside_the_true_linkage_cached_and_rendered(client_as, world):
    run = _finished_run(client_as)
    truth = services.truth_file()
    assert truth is not None
    # the simulator's parameters give the true total: every seeded person was recorded
    people = ls.people()
    (truth.parent / "parameters.json").write_text(
        json.dumps({"realised": {"true_n": len(people)}}), encoding="utf-8"
    )
    data = te.for_run(run)
    assert data is not None
    assert "error" not in data, data.get("error")
    assert (data["method"], data["by"], data["nboot"], data["seed"]) == (
        "stepwise",
        ["year"],
        200,
        1234,
    )
    assert data["attributes_from"] == "records"  # the store still holds every record
    assert data["records"] == run.records
    assert data["linked_persons"] == run.persons
    assert data["true_persons"] == len(people)
    assert data["overall"]["true_n"] == len(people)
    # the true side is the same estimate on the truth file's own person ids
    persons = duckdb.sql(
        f"SELECT CAST(true_id AS VARCHAR) AS person_id, "
        f"list(DISTINCT source ORDER BY source) AS sources "
        f"FROM read_csv('{truth}', all_varchar = true) GROUP BY true_id"
    ).to_arrow_table()
    table, _ = capture_tables_from_persons(persons).tables[()].remove_noninformative_lists()
    expected = estimate(table, "stepwise", nboot=200, seed=1234)
    assert data["overall"]["true"]["estimate"] == pytest.approx(expected.estimate, rel=1e-9)
    assert data["overall"]["true"]["lower"] == pytest.approx(expected.interval[0], rel=1e-9)
    linked = data["overall"]["linked"]["estimate"]
    assert data["rows"][0]["difference_percent"] == pytest.approx(
        round(100 * (linked / expected.estimate - 1), 1)
    )
    assert [r["stratum_text"] for r in data["rows"][1:3]] == ["2022", "2023"]
    assert data["rows"][-1]["kind"] == "sum of strata"
    # cached whole in the run's folder, and used while the truth file is unchanged
    cache = services.run_dir(run) / "truth_effect.json"
    assert json.loads(cache.read_text(encoding="utf-8")) == data
    assert not list(cache.parent.glob("*.tmp"))
    cache.write_text(json.dumps({**data, "linked_persons": -1}), encoding="utf-8")
    assert te.for_run(run, compute=False)["linked_persons"] == -1
    # a changed truth file makes the cache stale: not shown until recomputed
    with truth.open("a", encoding="utf-8") as fh:
        fh.write("police,P-unknown,T9999\n")
    assert te.for_run(run, compute=False) is None
    assert te.for_run(run)["linked_persons"] == run.persons
    # the partial: the table with both estimates and the sentence on simulated data
    html = render_to_string("linkage/_mse_effect.html", {"truth_effect": data})
    assert "How linkage error moves the estimate" in html
    assert "Only possible on simulated data" in html
    assert f"{expected.estimate:,.0f}" in html
    assert f"{linked:,.0f}" in html
    assert "All persons (unstratified)" in html
    assert "True number" in html
    assert '<h2 id="mse-effect-heading">' in html
    nested = render_to_string("linkage/_mse_effect.html", {"truth_effect": data, "nested": True})
    assert '<h3 id="mse-effect-heading">' in nested  # inside the designated-linkage section


def test_without_a_truth_file_there_is_nothing_to_show(client_as, world):
    run = _finished_run(client_as)
    (Path(settings.DATA_DIR) / "demo" / "truth" / "records.csv").unlink()
    assert te.for_run(run) is None
    assert not (services.run_dir(run) / "truth_effect.json").exists()
    assert render_to_string("linkage/_mse_effect.html", {"truth_effect": None}).strip() == ""


def test_a_run_whose_records_the_truth_does_not_know_says_why(client_as, world):
    run = _finished_run(client_as)
    truth = services.truth_file()
    truth.write_text("source,record_id,true_id\nelsewhere,X-1,T1\n", encoding="utf-8")
    data = te.for_run(run)
    assert "no record of the clustering appears in the truth file" in data["error"]
    html = render_to_string("linkage/_mse_effect.html", {"truth_effect": data})
    assert "cannot be computed for this run" in html


def test_records_withdrawn_since_the_run_take_their_linked_persons_strata(
    client_as, world, monkeypatch
):
    run = _finished_run(client_as)
    store = services.store()
    real = store.linkage_records(with_identifiers=False)
    monkeypatch.setattr(
        type(store), "linkage_records", lambda self, with_identifiers=True: real.slice(1)
    )
    data = te.for_run(run)
    assert data["attributes_from"] == "linked persons"
    assert data["records"] == run.records


def test_the_link_job_can_compute_it_before_the_run_is_marked_done(client_as, world, monkeypatch):
    run = _finished_run(client_as)
    run.status = LinkRun.RUNNING
    assert te.for_run(run) is None  # pages show only finished runs
    data = te.precompute(run)
    assert data is not None
    assert data["records"] == run.records
    run.status = LinkRun.DONE
    assert te.for_run(run, compute=False) == data  # the page reads the job's cache

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    (services.run_dir(run) / "truth_effect.json").unlink()
    monkeypatch.setattr(te, "truth_effect", broken)
    assert te.precompute(run) is None  # logged; the linkage itself is not lost
