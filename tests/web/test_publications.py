"""The release workflow on the simulated country: prepare (job), checks, four-eyes approval,
the privacy-budget ledger (cap, append-only, hash chain, audit), withdrawal, new versions and
their changes, briefs from a published version, and the command line."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pypdf
import pytest
from django.db import connection
from django.urls import reverse
from tests.web.conftest import sign_in
from tests.web.test_insights_support import load, simulate

from tiplab.privacy import release as core
from tiplab_web.audit.models import AuditEntry
from tiplab_web.publications import briefs, services
from tiplab_web.publications.models import LedgerEntry, LedgerIsAppendOnly, ReleaseVersion

pytestmark = pytest.mark.django_db

SPEC = core.ReleaseSpec(
    title="Identified victims", years=(2016, 2023),
    items=(core.ItemSpec("key_figures", "figures", "Key figures", epsilon=0.1),
           core.ItemSpec("region_year_form", "dp_table", "By region, year and form",
                         dimensions=("region", "year", "form"), epsilon=0.5),
           core.ItemSpec("region_year", "table", "By region and year, suppressed",
                         dimensions=("region", "year")),
           core.ItemSpec("micro", "kanon", "Microdata", k=11,
                         columns=("year", "sex", "age_band", "form"))))


@pytest.fixture(autouse=True)
def _english():
    """The messages checked here are the English ones, whatever an earlier test activated."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def simulated_country(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("publications-country"))


@pytest.fixture
def country(settings, db, tmp_path, simulated_country):
    settings.DATA_DIR = tmp_path
    settings.TIPLAB_ANALYTICS_JOBS_INLINE = True
    return load(tmp_path, simulated_country)


@pytest.fixture
def analyst(world):
    return world.users["analyst"]


@pytest.fixture
def steward(world):
    return world.users["data_steward"]


def _prepared(analyst, spec=SPEC, title="Identified victims"):
    rel = services.create_release(analyst, title=title)
    return services.new_version(analyst, rel, spec, background=False)


def test_prepare_check_approve_publish(country, analyst, steward, world):
    v = _prepared(analyst)
    assert v.status == "checked", v.checks
    names = {(c["name"], c["item"]) for c in v.checks}
    assert ("k_anonymity", "micro") in names
    assert ("small_cells", "region_year") in names
    assert ("budget", "") in names
    assert ("data_version", "") in names
    # the released files hold no identifier and no record or person id
    for item in v.items:
        cols = set(services.item_table(v, item["key"]).column_names)
        assert not cols & core.NEVER_RELEASED, item["key"]
    # the plain table really is protected: no published count from 1 to 4
    t = services.item_table(v, "region_year")
    published = [n for n in t.column("count").to_pylist() if n is not None]
    assert published
    assert not [n for n in published if 0 < n < 5]
    assert v.figures[0]["key"] == "identified"
    assert v.figures[0]["value"] > 0

    with pytest.raises(services.PublicationError, match="another data steward"):
        services.approve(world.users["data_steward"], _prepared(steward, title="Own"))
    v = services.approve(steward, v)
    assert v.status == "published"
    assert v.content_hash
    assert v.label in v.citation
    entries = list(LedgerEntry.objects.filter(version=v).order_by("seq"))
    assert [e.item_key for e in entries] == ["key_figures", "region_year_form"]
    assert sum(e.epsilon for e in entries) == pytest.approx(0.6)
    assert services.verify_ledger(v.release.ledger) == []
    spends = AuditEntry.objects.filter(action="publications.ledger_spend")
    assert {a.details["hash"] for a in spends} == {e.hash for e in entries}


def test_the_cap_refuses_a_release_that_would_exceed_it(country, analyst, steward, settings):
    settings.TIPLAB_PRIVACY_EPSILON_CAP = 1.0
    services.ledger()  # created with the cap
    first = services.approve(steward, _prepared(analyst, title="First"))
    assert services.spent(first.release.ledger)["epsilon"] == pytest.approx(0.6)
    second = _prepared(analyst, title="Second")
    assert second.status == "blocked"
    budget = next(c for c in second.checks if c["name"] == "budget")
    assert not budget["passed"]
    assert "0.6" in budget["message"]
    assert "1" in budget["message"]
    with pytest.raises(services.PublicationError, match="checks passed"):
        services.approve(steward, second)
    assert LedgerEntry.objects.count() == 2  # nothing more was spent


def test_the_ledger_is_append_only_and_its_chain_exposes_tampering(country, analyst, steward):
    v = services.approve(steward, _prepared(analyst))
    e = LedgerEntry.objects.filter(version=v).first()
    e.epsilon = 0.0
    with pytest.raises(LedgerIsAppendOnly):
        e.save()
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.filter(pk=e.pk).update(epsilon=0.0)
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.all().delete()
    with connection.cursor() as cur:  # bypassing the model (the test database has no trigger)
        cur.execute("UPDATE publications_ledgerentry SET epsilon = 0.01 WHERE id = %s", [e.pk])
    problems = services.verify_ledger(v.release.ledger)
    assert problems
    assert "does not match its hash" in problems[0]


def test_a_changed_file_is_not_served_and_a_weak_microdata_file_is_blocked(
        country, analyst, steward):
    v = _prepared(analyst)
    path = services.version_dir(v) / "micro.parquet"
    t = pq.read_table(path)
    # make one combination unique: a record the k-anonymity check must catch
    row = {c: [f"tampered-{c}"] for c in t.column_names}
    pq.write_table(pa.concat_tables([t, pa.table(row, schema=t.schema)]), path)
    with pytest.raises(services.PublicationError, match="no longer pass"):
        services.approve(steward, v)
    checked = services.check(analyst, v)
    assert checked.status == "blocked"
    assert any(c["name"] == "k_anonymity" and not c["passed"] for c in checked.checks)


def test_new_data_blocks_approval_until_a_new_version(country, analyst, steward, monkeypatch):
    v = _prepared(analyst)
    from tiplab_web.insights import services as insights

    monkeypatch.setattr(insights, "data_version", lambda: "a-newer-data-version")
    with pytest.raises(services.PublicationError, match=r"data changed|no longer pass"):
        services.approve(steward, v)
    assert ReleaseVersion.objects.get(pk=v.pk).status == "checked"


def test_versions_keep_history_and_changes(country, analyst, steward):
    v1 = services.approve(steward, _prepared(analyst))
    smaller = core.ReleaseSpec(title=SPEC.title, years=SPEC.years, items=SPEC.items[:2])
    v2 = services.new_version(analyst, v1.release, smaller, note="without microdata",
                              background=False)
    v2 = services.approve(steward, v2)
    assert v2.number == 2
    assert v2.changes["previous"] == 1
    assert v2.changes["removed"] == ["micro", "region_year"]
    assert "region_year_form" in v2.changes["changed"]  # new noise, new file
    services.withdraw(steward, v1, "superseded by version 2")
    v1.refresh_from_db()
    assert v1.status == "withdrawn"
    assert v1.withdrawn_reason
    assert LedgerEntry.objects.filter(version=v1).count() == 2  # spent stays spent


def test_the_pages_walk_the_workflow(country, world, client_as):
    c = client_as("analyst")
    r = c.post(reverse("publications:new"), {
        "title": "Web release", "year_start": 2016, "year_end": 2023, "mechanism": "laplace",
        "k": 11, "use_key_figures": "on", "eps_key_figures": "0.1",
        "use_sex_age": "on", "eps_sex_age": "0.3"})
    assert r.status_code == 302, r.content.decode()[:2000]
    v = ReleaseVersion.objects.get(release__title="Web release")
    assert v.status == "checked"
    page = c.get(r["Location"]).content.decode()
    assert "Disclosure checks" in page
    assert "sex_age" in page
    s = client_as("data_steward")
    r = s.post(reverse("publications:version_action", args=[v.release.number, 1, "approve"]))
    v.refresh_from_db()
    assert v.status == "published"
    ledger = s.get(reverse("publications:ledger")).content.decode()
    assert "intact" in ledger
    assert v.label in ledger
    # an organisation's releases are its own
    outsider = sign_in(type(c)(), world.outsiders["analyst"])
    assert outsider.get(reverse("publications:version", args=[v.release.number, 1])
                        ).status_code == 404


def test_a_brief_takes_figures_from_the_release_only(country, analyst, steward, world):
    v = services.approve(steward, _prepared(analyst))
    policy = world.users["policy_officer"]
    b = briefs.create(policy, v, kind="brief")
    problems = briefs.save_narrative(policy, b, {"key_messages": "We identified 1234 victims."})
    assert problems
    assert "1234" in problems[0]
    assert briefs.save_narrative(policy, b, {
        "key_messages": "Agencies identified [[identified]] victims in 2016."}) == []
    identified = v.figures[0]["value"]
    html = briefs.render(b, "html").decode()
    assert f"{identified:,}" in html or str(identified) in html
    assert v.label.split(".v")[0] in html
    assert v.data_version in html
    pdf = briefs.render(b, "pdf")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert f"{identified:,}" in text or str(identified) in text
    assert v.data_version in text


def test_a_brief_needs_a_published_version(country, analyst, world):
    from django.utils import translation

    v = _prepared(analyst)
    with translation.override("en"), pytest.raises(services.PublicationError,
                                                   match="published"):
        briefs.create(world.users["policy_officer"], v)


def test_the_command_line(country, analyst, steward, world, capsys):
    from typer.testing import CliRunner

    from tiplab.cli import app

    runner = CliRunner()
    spec = country / "spec.json"
    spec.write_text(json.dumps(core.ReleaseSpec(
        title="CLI release", years=(2016, 2023), items=SPEC.items[:2]).to_dict()))
    r = runner.invoke(app, ["release", "prepare", "--spec", str(spec), "--title", "CLI release",
                            "--by", analyst.username, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["status"] == "checked"
    assert out["epsilon"] == pytest.approx(0.6)
    r = runner.invoke(app, ["release", "approve", out["label"], "--by", analyst.username,
                            "--json"])
    assert r.exit_code != 0
    assert "publications.approve" in r.output
    r = runner.invoke(app, ["release", "approve", out["label"], "--by", steward.username,
                            "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["status"] == "published"
    r = runner.invoke(app, ["ledger", "--by", steward.username, "--json"])
    led = json.loads(r.output)
    assert led["chain_intact"]
    assert led["spent"]["epsilon"] == pytest.approx(0.6)
    pdf = country / "brief.pdf"
    r = runner.invoke(app, ["brief", "--release", out["label"], "--out", str(pdf), "--by",
                            world.users["policy_officer"].username, "--json"])
    assert r.exit_code == 0, r.output
    assert pdf.read_bytes()[:5] == b"%PDF-"
    r = runner.invoke(app, ["release", "show", "--by", analyst.username, "--json"])
    assert [x["title"] for x in json.loads(r.output)["releases"]] == ["CLI release"]


def test_synthetic_microdata_keeps_every_person_and_spends_its_budget(country, analyst):
    spec = core.ReleaseSpec(title="Synthetic", years=(2016, 2023), items=(
        core.ItemSpec("synthetic", "synthetic", "Synthetic microdata", epsilon=1.0,
                      delta=1e-8, columns=("year", "sex", "age_band", "citizenship", "form")),))
    v = _prepared(analyst, spec, title="Synthetic")
    assert v.status == "checked", v.checks
    item = v.items[0]
    t = services.item_table(v, "synthetic")
    assert t.column_names == ["year", "sex", "age_band", "citizenship", "form"]
    assert item["meta"]["epsilon"] == pytest.approx(1.0, rel=1e-3)
    assert item["meta"]["delta"] == pytest.approx(1e-8)
    # missing fields became "unknown" rather than dropping the person; the simulated
    # country's own citizenship code is part of the domain
    assert item["meta"]["internal"]["rows_dropped"] == 0
    assert set(t.column("year").to_pylist()) <= {str(y) for y in range(2016, 2024)}


@pytest.mark.parametrize("fmt", ["ctdc", "htcds"])
def test_tiplab_export_writes_the_exchange_layouts_without_identifiers(country, fmt):
    from typer.testing import CliRunner

    from tiplab.cli import app

    out = country / f"cases.{fmt}.csv"
    r = CliRunner().invoke(app, ["export", "--format", fmt, "--out", str(out), "--data-dir",
                                 str(country), "--unit", "records", "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["rows"] > 1000
    header = [h.strip('"') for h in out.read_text(encoding="utf-8").splitlines()[0].split(",")]
    assert ("yearOfRegistration" if fmt == "ctdc" else "prs_Gender") in header
    for banned in ("given_name", "family_name", "prs_FirstName", "prs_SecondName",
                   "birth_date", "prs_Birthdate", "document_number", "prs_IdentityNumber",
                   "phone", "prs_MobilePhone"):
        assert banned not in header
    r = CliRunner().invoke(app, ["export", "--format", "xml", "--out", str(out), "--json"])
    assert r.exit_code != 0
    assert "use ctdc or htcds" in r.output
