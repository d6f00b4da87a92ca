"""Estimation pages: a published table through the page gives the published number; runs
are stored with their input provenance and audited; uploads and link runs as inputs."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.web import test_linkage_support as ls

from tiplab_web.audit.models import AuditEntry
from tiplab_web.estimates import services
from tiplab_web.estimates.models import EstimateOfRecord, EstimationRun
from tiplab_web.linkage.models import LinkRun

UK5 = "uk2013_5lists.csv"


def _post(client, **data) -> EstimationRun:
    form = {"method": "stepwise", "nboot": 0, "seed": 1234, **data}
    response = client.post(reverse("estimates:new"), form)
    assert response.status_code == 302, response.context["form"].errors
    run = EstimationRun.objects.latest("id")
    assert response["Location"] == reverse("estimates:run", args=[run.pk])
    assert run.status == EstimationRun.DONE, run.error
    return run


def test_uk_five_lists_stepwise_gives_the_published_estimate(client_as, world):
    client = client_as("analyst")
    run = _post(client, input_kind="shipped", shipped=UK5, nboot=200)
    o = run.overall
    # Silverman (2014), Modern Slavery: an application of MSE (Home Office): 11,313
    assert round(o["estimate"]) == 11313
    assert o["observed"] == 2744
    assert round(o["dark_figure"]) == 11313 - 2744
    lo, hi = o["interval"]
    assert lo < o["estimate"] < hi
    assert o["interval_type"].lower().startswith("bca")
    assert o["minus_infinity_terms"] == []
    assert "LA:NG" in o["terms"]
    # provenance: the file's SHA-256, the parameters
    path = services.tables_dir() / UK5
    assert run.input_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert run.parameters == {"method": "stepwise", "nboot": 200, "seed": 1234, "by": [],
                              "pool_below": 0, "sensitivity": False, "compare": False}
    entry = AuditEntry.objects.get(action="estimates.run")
    assert entry.object_id == str(run.pk)
    assert entry.details["sha256"] == run.input_sha256
    # the page shows it, the charts are served by the app, the JSON download carries it
    html = client.get(reverse("estimates:run", args=[run.pk])).content.decode()
    assert "11,313" in html
    assert "LA-GP" in html
    # the bootstrap chart is drawn in the browser from its Vega-Lite spec (data inline)
    assert 'data-chart-spec="' in html
    assert services.chart_specs(run)["bootstrap"]["$schema"].startswith(
        "https://vega.github.io/schema/vega-lite/")
    svg = client.get(reverse("estimates:chart", args=[run.pk, "bootstrap", "svg"]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    png = client.get(reverse("estimates:chart", args=[run.pk, "bootstrap", "png"]))
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    body = json.loads(client.get(reverse("estimates:run_json", args=[run.pk])).content)
    assert round(body["result"]["overall"]["estimate"]) == 11313
    assert body["input"]["sha256"] == run.input_sha256
    assert AuditEntry.objects.filter(action="estimates.download").count() == 1
    # a policy officer of the organisation reads it; the list shows it
    officer = client_as("policy_officer")
    assert "11,313" in officer.get(reverse("estimates:runs")).content.decode()
    assert officer.get(reverse("estimates:run", args=[run.pk])).status_code == 200


def test_sensitivity_table_agrees_with_the_main_estimate(client_as, world):
    # Korea (3 lists): stepwise 268.7778 (MultipleSystemsEstimation 1.2.0 guide)
    client = client_as("analyst")
    run = _post(client, input_kind="shipped", shipped="korea_palembang_3lists.csv",
                sensitivity="on")
    assert run.overall["estimate"] == pytest.approx(268.7778, abs=1e-3)
    rows = {r["method"]: r for r in run.result["sensitivity"]["rows"]}
    assert rows["stepwise pthresh=0.02"]["estimate"] == pytest.approx(268.7778, abs=1e-3)
    lo, hi = run.result["sensitivity_range"]
    assert lo <= run.overall["estimate"] <= hi
    assert "methods" in run.result["charts"]
    # the result page renders every row, those with a model and those with an error
    page = client.get(reverse("estimates:run", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Sensitivity across methods" in html
    for method in rows:
        assert method in html


def test_uploaded_table_is_stored_with_its_hash(client_as, world):
    text = b"A,B,count\n1,0,60\n0,1,40\n1,1,20\n"
    run = _post(client_as("data_steward"), input_kind="upload", method="main",
                upload=SimpleUploadedFile("two.csv", text, content_type="text/csv"))
    assert run.input_name == "two.csv"
    assert run.input_sha256 == hashlib.sha256(text).hexdigest()
    assert (services.run_dir(run) / "input.csv").read_bytes() == text
    # two lists, independence: N = n_A * n_B / n_AB = 80 * 60 / 20 (Lincoln-Petersen)
    assert run.overall["estimate"] == pytest.approx(240.0)


def test_bad_upload_fails_with_a_message(client_as, world):
    client = client_as("analyst")
    response = client.post(reverse("estimates:new"), {
        "input_kind": "upload", "method": "stepwise", "nboot": 0, "seed": 1,
        "upload": SimpleUploadedFile("bad.csv", b"A,B\n1,0\n", content_type="text/csv")})
    run = EstimationRun.objects.get()
    assert response["Location"] == reverse("estimates:run", args=[run.pk])
    assert run.status == EstimationRun.FAILED
    assert "count" in run.error
    html = client.get(reverse("estimates:run", args=[run.pk])).content.decode()
    assert "The estimation failed" in html


def test_link_run_person_table_by_year(client_as, world):
    ls.seed_records()
    client = client_as("analyst")
    client.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    link_run = LinkRun.objects.get()
    assert link_run.status == LinkRun.DONE, link_run.error
    page = client.get(reverse("estimates:new"), {"link_run": link_run.pk}).content.decode()
    assert f'value="{link_run.pk}" selected' in page
    run = _post(client, input_kind="link_run", link_run=link_run.pk, by=["year"])
    assert run.link_run == link_run
    assert run.data_version == link_run.data_version
    assert run.overall["observed"] == link_run.persons
    strata = run.result["strata"]["strata"]
    assert sorted(str(s["stratum"]["year"]) for s in strata) == ["2022", "2023"]
    assert sum(s["observed"] for s in strata) == link_run.persons
    assert "strata" in run.result["charts"]
    page = client.get(reverse("estimates:run", args=[run.pk]))
    assert page.status_code == 200
    for s in strata:
        assert str(s["stratum"]["year"]) in page.content.decode()


def test_the_form_defaults_on_a_link_run_give_a_page_that_renders(client_as, world):
    """The defaults a first user keeps (stepwise, sensitivity table on), on the person table
    of a link run — the run page answered 500 for every sensitivity row without an error."""
    ls.seed_records()
    client = client_as("analyst")
    client.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    link_run = LinkRun.objects.get()
    form = client.get(reverse("estimates:new"), {"link_run": link_run.pk}).context["form"]
    data = {name: field.initial for name, field in form.fields.items()
            if field.initial is not None}
    data.update(input_kind="link_run", link_run=link_run.pk, nboot=50,
                sensitivity="on", by=["year"])
    run = _post(client, **data)
    assert run.status == EstimationRun.DONE, run.error
    assert run.result["sensitivity"]["rows"]
    page = client.get(reverse("estimates:run", args=[run.pk]))
    assert page.status_code == 200
    assert "Sensitivity across methods" in page.content.decode()


def test_home_page_shows_identified_estimated_and_not_yet_identified(client_as, world):
    """The policy officer's headline: from a run made by the code, the home panel shows the
    persons identified, the estimate with its interval and the difference, with its interval."""
    ls.seed_records()
    analyst = client_as("analyst")
    analyst.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    run = _post(analyst, input_kind="link_run", link_run=LinkRun.objects.get().pk, nboot=50)
    steward = client_as("data_steward")
    assert steward.post(reverse("estimates:designate", args=[run.pk]),
                        {"note": "the national figure"}).status_code == 302
    o = run.overall
    lo, hi = o["interval"]
    html = client_as("policy_officer").get("/").content.decode()
    panel = html[html.index("Latest estimate of the hidden number"):]
    panel = panel[:panel.index("</section>")]

    def n(x: float) -> str:
        return f"{round(x):,}"

    assert f"<strong>{n(o['observed'])}</strong>" in panel
    assert f"<strong>{n(o['estimate'])}</strong>" in panel
    assert f"95% interval {n(lo)}–{n(hi)}" in panel
    assert f"<strong>{n(o['estimate'] - o['observed'])}</strong>" in panel
    assert f"between {n(lo - o['observed'])} and {n(hi - o['observed'])}" in panel
    assert f"About {round(100 * o['observed'] / o['estimate'])}%" in panel
    assert reverse("estimates:run", args=[run.pk]) in panel
    assert "No estimate of record yet" not in panel
    assert "Estimate of record, designated by data_steward" in panel


def test_home_page_says_when_an_estimate_is_being_computed(client_as, world):
    from tiplab_web.jobs.models import Job
    from tiplab_web.linkage.services import JOB_KIND

    officer = client_as("policy_officer")
    assert "No estimate of record yet" in officer.get("/").content.decode()
    Job.objects.create(kind=JOB_KIND, label="Record linkage of police, ngo", status=Job.RUNNING,
                       stage="scoring pairs", fraction=0.4, owner=world.users["analyst"],
                       organisation=world.home)
    html = officer.get("/").content.decode()
    assert "Computing: Record linkage of police, ngo — scoring pairs (40%)" in html
    assert "No estimate of record yet" not in html
    follow = "Follow it on the Jobs page"
    assert follow not in html  # the officer may not follow a linkage job there
    assert follow in client_as("analyst").get("/").content.decode()
    # another organisation's jobs are not announced
    outsider = Job.objects.get()
    outsider.organisation = world.elsewhere
    outsider.owner = world.outsiders["analyst"]
    outsider.save()
    assert "Computing:" not in officer.get("/").content.decode()


def test_the_home_page_shows_the_estimate_of_record_not_the_last_run(client_as, world):
    """A practice run on a published table after the designation changes nothing on the home
    page; practice runs cannot be designated; a withdrawal is said and kept in the history."""
    ls.seed_records()
    analyst = client_as("analyst")
    steward = client_as("data_steward")
    officer = client_as("policy_officer")
    analyst.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)})
    national = _post(analyst, input_kind="link_run", link_run=LinkRun.objects.get().pk)
    steward.post(reverse("estimates:designate", args=[national.pk]), {"note": "ours"})
    practice = _post(analyst, input_kind="shipped", shipped=UK5)
    home = officer.get("/").content.decode()
    figure = f"<strong>{round(national.overall['estimate']):,}</strong>"
    assert figure in home
    assert f"<strong>{round(practice.overall['estimate']):,}</strong>" not in home
    # practice runs are labelled and refused
    page = steward.get(reverse("estimates:run", args=[practice.pk])).content.decode()
    assert "Practice estimate" in page
    assert "Make this the estimate of record" not in page
    steward.post(reverse("estimates:designate", args=[practice.pk]))
    assert EstimateOfRecord.objects.get(ended_at=None).run == national
    # only stewards designate
    assert analyst.post(reverse("estimates:designate", args=[national.pk])).status_code == 403
    # withdraw: said on the home page, kept in the history, audited
    steward.post(reverse("estimates:withdraw"), {"note": "new data arrived"})
    assert "No estimate of record yet" in officer.get("/").content.decode()
    listing = steward.get(reverse("estimates:runs")).content.decode()
    assert "new data arrived" in listing
    actions = list(AuditEntry.objects.filter(action__startswith="estimates.")
                   .values_list("action", flat=True))
    assert "estimates.designate" in actions
    assert "estimates.withdraw" in actions


def test_the_estimate_list_filters_and_hides_failed_runs(client_as, world):
    client = client_as("analyst")
    good = _post(client, input_kind="shipped", shipped=UK5)
    client.post(reverse("estimates:new"), {
        "input_kind": "upload", "method": "stepwise", "nboot": 0, "seed": 1,
        "upload": SimpleUploadedFile("bad.csv", b"A,B\n1,0\n", content_type="text/csv")})
    failed = EstimationRun.objects.get(status=EstimationRun.FAILED)

    def listed(**query) -> set[int]:
        return {r.pk for r in client.get(reverse("estimates:runs"), query).context["runs"]}

    assert listed() == {good.pk}
    assert listed(status="all") == {good.pk, failed.pk}
    assert listed(status="failed") == {failed.pk}
    assert listed(kind="link_run") == set()
    assert listed(kind="practice", status="all") == {good.pk, failed.pk}
    assert "1 failed run is hidden" in client.get(reverse("estimates:runs")).content.decode()


def test_bayesian_methods_and_the_comparison_on_the_page(client_as, world, monkeypatch):
    from tiplab.estimation import api

    real = api._bayesian
    monkeypatch.setattr(api, "_bayesian", lambda t, m, lv, sd, b, w: real(
        t, m, lv, sd, {"chains": 2, "burnin": 200, "samples": 100, "thin": 2}
        if m == "lcmcr" else b, w))
    client = client_as("analyst")
    run = _post(client, input_kind="shipped", shipped="kosovo_1999_4lists.csv", method="dga",
                compare="on")
    assert run.overall["interval_type"] == "posterior credible interval"
    comparison = run.result["comparison"]
    assert comparison["recommended"] == "lcmcr"
    assert {m["method"] for m in comparison["methods"]} >= {"stepwise", "lcmcr", "dga"}
    html = client.get(reverse("estimates:run", args=[run.pk])).content.decode()
    assert 'id="comparison-table"' in html
    assert "Recommended: lcmcr" in html
    assert "R-hat" in html
