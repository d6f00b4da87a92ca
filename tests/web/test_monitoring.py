"""Reporting rounds: opening, entry (web form, template, API), every validation rule, the
submit → return → correct → approve workflow with its history, completeness and timeliness,
reminders, the CLI, scoping and the demo."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from tests.web import monitoring_support as M
from tests.web.conftest import make_token, make_user, sign_in
from typer.testing import CliRunner

from tiplab_web.audit.models import AuditEntry
from tiplab_web.core.roles import AGENCY_REPORTER, ANALYST, DATA_STEWARD, POLICY_OFFICER
from tiplab_web.monitoring import rules, services, sheets
from tiplab_web.monitoring.models import AgencyForm, FormEvent, ReminderSent, Round, Value

pytestmark = pytest.mark.django_db
E = services.Entry


@pytest.fixture
def rnd(world):
    return M.make_round(world)


@pytest.fixture
def cop(world):
    return M.police_reporter(world)


def police_form(world, r):
    return M.form_of(r, M.police(world))


def shelter_form(r, world):
    return M.form_of(r, world.elsewhere)


def refused(fn, *args, **kwargs) -> str:
    with pytest.raises(services.MonitoringError) as e:
        fn(*args, **kwargs)
    return " ".join(e.value.messages)


# --- rounds ------------------------------------------------------------------------------------


def test_open_round_gives_each_lead_its_indicators(world, rnd):
    forms = {f.organisation.name: sorted(i.indicator_id for i in f.items.all())
             for f in rnd.forms.all()}
    assert forms == {
        M.POLICE: ["PROS-02", "PROS-03", "PROS-04", "PROT-01", "PROT-02"],
        M.SHELTER: ["PART-07", "PROT-03", "PROT-04", "PROT-10"],
        world.home.name: ["PART-10"],
    }
    kinds = {i.indicator_id: (i.kind, i.by_sex) for f in rnd.forms.all() for i in f.items.all()}
    assert kinds["PROT-03"] == ("percent", False)
    assert kinds["PROT-10"] == ("count", False)  # "places; percent occupancy": places
    assert kinds["PART-07"] == ("yesno", False)
    assert kinds["PROT-04"] == ("number", False)
    assert kinds["PROT-02"] == ("count", True)
    assert services.unmatched_leads(rnd.plan) == [("M-NONE", "Ministry of Nothing")]
    assert AuditEntry.objects.filter(action="monitoring.open_round").exists()


def test_open_round_refusals(world, rnd):
    officer = world.users[POLICY_OFFICER]
    plan = rnd.plan
    day = dt.date(2026, 1, 1)
    assert "already has a round for 2025" in refused(
        services.open_round, officer, plan, period="2025", deadline=day, opens_on=day)
    assert "not a period" in refused(services.open_round, officer, plan, period="2025-13",
                                     deadline=day)
    assert "outside it" in refused(services.open_round, officer, plan, period="2031",
                                   deadline=day, opens_on=day)
    assert "before the round opens" in refused(
        services.open_round, officer, plan, period="2026-Q1", deadline=day,
        opens_on=dt.date(2026, 2, 1))
    assert "policy officer" in refused(services.open_round, world.users[ANALYST], plan,
                                       period="2026", deadline=day)
    r = services.open_round(officer, plan, period="2026q2", deadline=day, opens_on=day)
    assert r.period == "2026-Q2"


def test_manager_adds_and_removes_an_indicator(world, rnd):
    officer = world.users[POLICY_OFFICER]
    item = services.add_item(officer, rnd, world.elsewhere, "M-POL", "PROS-03")
    assert item.added
    assert shelter_form(rnd, world).items.count() == 5
    assert "already owes" in refused(services.add_item, officer, rnd, world.elsewhere, "M-POL",
                                     "PROS-03")
    assert "has no indicator" in refused(services.add_item, officer, rnd, world.elsewhere,
                                         "M-POL", "PREV-01")
    services.remove_item(officer, item)
    assert shelter_form(rnd, world).items.count() == 4
    # removing an organisation's last indicator removes its (empty) form
    services.remove_item(officer, M.form_of(rnd, world.home).items.get())
    assert not rnd.forms.filter(organisation=world.home).exists()


def test_round_pages_for_the_manager(world, client_as, rnd):
    c = client_as(POLICY_OFFICER)
    page = c.get(reverse("monitoring:round", args=[rnd.pk])).content.decode()
    assert M.POLICE in page
    assert "Ministry of Nothing" in page
    assert "None" not in page
    r = c.post(reverse("monitoring:add_item", args=[rnd.pk]),
               {"organisation": world.elsewhere.pk, "indicator": "M-POL|PROS-04"})
    assert r.status_code == 302
    assert shelter_form(rnd, world).items.filter(indicator_id="PROS-04").exists()
    r = c.post(reverse("monitoring:new"), {"plan": rnd.plan.pk, "period": "2026-Q1",
                                           "opens_on": "2026-04-01", "deadline": "2026-04-30"})
    new = Round.objects.get(period="2026-Q1")
    assert r["Location"] == reverse("monitoring:round", args=[new.pk])
    r = c.post(reverse("monitoring:new"), {"plan": rnd.plan.pk, "period": "2026-Q1",
                                           "opens_on": "2026-04-01", "deadline": "2026-04-30"},
               follow=True)
    assert "already has a round for 2026-Q1" in r.content.decode()
    for name in ("monitoring:index", "monitoring:overview"):
        body = c.get(reverse(name)).content.decode()
        assert "2025" in body
        assert "None" not in body


# --- validation rules ------------------------------------------------------------------------


@pytest.mark.parametrize(("measure", "indicator", "value", "message"), [
    ("M-SH", "PROT-03", "101", "101 is not a percentage between 0 and 100"),
    ("M-SH", "PROT-03", "-1", "-1 is not a percentage between 0 and 100"),
    ("M-SH", "PROT-10", "-3", "-3 is not a count"),
    ("M-SH", "PROT-10", "2.5", "2.5 is not a count"),
    ("M-SH", "PROT-10", "twelve", "“twelve” is not a number"),
    ("M-SH", "PROT-10", "NaN", "is not a number"),
    ("M-SH", "PART-07", "2", "2 is not yes (1) or no (0)"),
    ("M-SH", "PROT-04", "-4", "-4 is negative"),
    ("M-SH", "PROT-04", "1.23456", "more than 4 decimals"),
    ("M-SH", "PROT-04", "1e20", "too large"),
])
def test_type_and_range_rules(world, rnd, measure, indicator, value, message):
    shelter = world.outsiders[AGENCY_REPORTER]  # the Shelter NGO's reporter
    form = shelter_form(rnd, world)
    services.save_values(shelter, form, [E("M-SH", "PROT-10", 10)])
    valid = E("M-SH", "PROT-03", 50) if indicator != "PROT-03" else E("M-SH", "PROT-10", 11)
    msg = refused(services.save_values, shelter, form, [valid, E(measure, indicator, value)])
    assert message in msg
    assert indicator in msg
    assert f"measure {measure}" in msg
    assert {k: v.value for k, v in services.current_values(form).items()} == {
        "M-SH/PROT-10": Decimal(10)}  # nothing saved, not even the valid entry


def test_valid_values_of_every_kind(world, rnd):
    shelter = world.outsiders[AGENCY_REPORTER]
    form = shelter_form(rnd, world)
    n = services.save_values(shelter, form, [
        E("M-SH", "PROT-03", "99.5"), E("M-SH", "PROT-10", 12.0), E("M-SH", "PART-07", "yes"),
        E("M-SH", "PROT-04", "3.25")])
    assert n == 4
    got = {k: rules.fmt(v.value) for k, v in services.current_values(form).items()}
    assert got == {"M-SH/PROT-03": "99.5", "M-SH/PROT-10": "12", "M-SH/PART-07": "1",
                   "M-SH/PROT-04": "3.25"}
    # an empty value clears one
    services.save_values(shelter, form, [E("M-SH", "PROT-04", "")])
    assert "M-SH/PROT-04" not in services.current_values(form)


def test_breakdown_by_sex(world, rnd, cop):
    form = police_form(world, rnd)
    services.save_values(cop, form, [E("M-POL", "PROT-01", 20),
                                     E("M-POL", "PROT-02", 10, sex={"female": 6, "male": 4})])
    assert services.current_values(form)["M-POL/PROT-02"].sex == {"female": "6", "male": "4"}
    assert "adds up to 12, more than the total 10" in refused(
        services.save_values, cop, form, [E("M-POL", "PROT-02", 10,
                                            sex={"female": 6, "male": 6})])
    shelter = world.outsiders[AGENCY_REPORTER]
    assert "PROT-10 (Specialised accommodation capacity), measure M-SH: this indicator takes " \
        "no breakdown by sex" in refused(services.save_values, shelter, shelter_form(rnd, world),
                                         [E("M-SH", "PROT-10", 20, sex={"female": 3})])
    assert "unknown breakdown" in refused(
        services.save_values, cop, form, [E("M-POL", "PROT-02", 10, sex={"woman": 3})])
    assert "Female: “x” is not a number" in refused(
        services.save_values, cop, form, [E("M-POL", "PROT-02", 10, sex={"female": "x"})])
    assert "needs the total value" in refused(
        services.save_values, cop, form, [E("M-POL", "PROT-02", "", sex={"female": 3})])


@pytest.mark.parametrize(("small", "large", "why"), [
    ("PROS-04", "PROS-03", "no more people can be convicted than were prosecuted"),
    ("PROT-02", "PROT-01", "no more victims can be formally identified"),
    ("PROS-03", "PROS-02", "no more people can be prosecuted than were suspected"),
])
def test_cross_field_rules(world, rnd, cop, small, large, why):
    form = police_form(world, rnd)
    services.save_values(cop, form, [E("M-POL", "PROS-02", 100), E("M-POL", "PROS-03", 50),
                                     E("M-POL", "PROS-04", 20), E("M-POL", "PROT-01", 40),
                                     E("M-POL", "PROT-02", 30)])
    big = {"PROS-04": 51, "PROT-02": 41, "PROS-03": 101}[small]
    msg = refused(services.save_values, cop, form, [E("M-POL", small, big)])
    assert f"{small} (" in msg
    assert f"is {big}, more than {large}" in msg
    assert why in msg
    # the rule reads the saved value of the other indicator; both sides may move at once
    both = {small: big, large: big, "PROS-02": 200, "PROT-01": 100}
    services.save_values(cop, form, [E("M-POL", i, v) for i, v in both.items()])


def test_rule_table_names_library_indicators():
    from tiplab.policy.indicators import library

    lib = library()
    for rule in rules.CROSS_RULES:
        assert rule.smaller in lib
        assert rule.larger in lib


def _approved(world, period, value, *, comment=""):
    """The home organisation's PART-10 for ``period``, approved."""
    r = M.make_round(world, period, opens_on=dt.date(2024, 1, 1))
    form = M.form_of(r, world.home)
    officer = world.users[POLICY_OFFICER]
    services.save_values(officer, form, [E("M-HOME", "PART-10", value, comment)])
    services.submit(officer, form)
    services.review(world.users[DATA_STEWARD], form, "approve")
    return r


def test_a_change_beyond_the_threshold_needs_a_comment(world, settings):
    officer = world.users[POLICY_OFFICER]
    _approved(world, "2024", 60)
    r = M.make_round(world, "2025")
    form = M.form_of(r, world.home)
    services.save_values(officer, form, [E("M-HOME", "PART-10", 90)])  # +50%: no comment
    msg = refused(services.save_values, officer, form, [E("M-HOME", "PART-10", "90.5")])
    assert ("PART-10 (Data completeness), measure M-HOME: 90.5 differs from the last approved "
            "value (60 in 2024) by more than 50%; explain the change in a comment.") in msg
    assert "differs" in refused(services.save_values, officer, form,
                                [E("M-HOME", "PART-10", 29)])
    services.save_values(officer, form, [E("M-HOME", "PART-10", 29, "New method")])
    settings.TIPLAB_MONITORING_CHANGE_PERCENT = 80
    services.save_values(officer, form, [E("M-HOME", "PART-10", 20)])
    # a quarter is not compared with a year
    q = M.make_round(world, "2026-Q1")
    services.save_values(officer, M.form_of(q, world.home), [E("M-HOME", "PART-10", 1)])


def test_from_zero_any_change_needs_a_comment(world):
    officer = world.users[POLICY_OFFICER]
    _approved(world, "2024", 0)
    form = M.form_of(M.make_round(world, "2025"), world.home)
    services.save_values(officer, form, [E("M-HOME", "PART-10", 0)])
    assert "differs" in refused(services.save_values, officer, form,
                                [E("M-HOME", "PART-10", 1)])


def test_unknown_indicator_and_duplicates(world, rnd, cop):
    form = police_form(world, rnd)
    assert "Indicator PROT-10 of measure M-SH is not on National Police's form for 2025" in \
        refused(services.save_values, cop, form, [E("M-SH", "PROT-10", 1)])
    assert "given twice" in refused(services.save_values, cop, form,
                                    [E("M-POL", "PROS-02", 1), E("M-POL", "PROS-02", 2)])


# --- workflow ----------------------------------------------------------------------------------


def test_submit_return_correct_approve_with_history(world, rnd, cop):
    form = police_form(world, rnd)
    steward = world.users[DATA_STEWARD]
    values = [E("M-POL", "PROS-02", 30), E("M-POL", "PROS-03", 12), E("M-POL", "PROS-04", 5),
              E("M-POL", "PROT-01", 40)]
    services.save_values(cop, form, values)
    assert "missing: PROT-02 (Victims formally identified), measure M-POL" in refused(
        services.submit, cop, form)
    services.save_values(cop, form, [E("M-POL", "PROT-02", 25)])
    assert "Only a submitted form" in refused(services.review, steward, form, "approve")
    form = services.submit(cop, form)
    assert (form.status, form.version) == ("submitted", 1)
    assert "submitted, waiting for review: it can no longer be changed" in refused(
        services.save_values, cop, form, [E("M-POL", "PROT-02", 26)])
    assert "Only a data steward" in refused(services.review, cop, form, "approve")
    assert "Say why" in refused(services.review, steward, form, "return", "  ")
    services.review(steward, form, "return", "PROT-02 counts decisions, not people")
    assert services.approved_values(rnd.plan) == {}
    form.refresh_from_db()
    assert form.status == "returned"
    assert form.editable
    services.save_values(cop, form, [E("M-POL", "PROT-02", 21, "Counted people")])
    services.submit(cop, form)
    services.review(steward, form, "approve")
    form.refresh_from_db()
    assert (form.status, form.version) == ("approved", 2)
    kinds = list(form.events.values_list("kind", "version"))
    assert kinds == [("saved", 0), ("saved", 0), ("submitted", 1), ("returned", 1),
                     ("saved", 1), ("submitted", 2), ("approved", 2)]
    first, second = form.events.filter(kind="submitted")
    assert first.values["M-POL/PROT-02"]["value"] == "25"
    assert second.values["M-POL/PROT-02"] == {"value": "21", "comment": "Counted people",
                                              "sex": {}}
    assert "already" not in refused(services.save_values, cop, form,
                                    [E("M-POL", "PROT-02", 1)])  # approved: read-only
    # the form page shows every version and decision
    page = sign_in(Client(), cop).get(reverse("monitoring:form", args=[form.pk]))
    body = page.content.decode()
    assert "PROT-02 counts decisions, not people" in body
    assert body.count("Submitted") >= 2
    assert "Approved" in body
    assert "None" not in body
    assert AuditEntry.objects.filter(action__in=["monitoring.submit", "monitoring.return",
                                                 "monitoring.approve"]).count() == 4


def test_only_approved_values_count(world):
    officer = world.users[POLICY_OFFICER]
    r24 = _approved(world, "2024", 60)
    r25 = _approved(world, "2025", 70)
    r26 = M.make_round(world, "2026")
    form = M.form_of(r26, world.home)
    services.save_values(officer, form, [E("M-HOME", "PART-10", 80)])
    services.submit(officer, form)  # submitted, not approved: does not count
    plan = r24.plan
    got = services.approved_values(plan)
    assert got == {("M-HOME", "PART-10"): [
        ("2024", 60.0, r24.pk, world.home.name), ("2025", 70.0, r25.pk, world.home.name)]}
    latest = services.latest_approved(plan, "M-HOME", "PART-10")
    assert latest == ("2025", 70.0, r25.pk, world.home.name)
    assert latest.value == 70.0
    assert services.latest_approved(plan, "M-POL", "PROS-03") is None


def test_periods_sort_in_time():
    order = sorted(["2026", "2025-Q4", "2026-Q1", "2025", "2026-Q4"], key=services.period_key)
    assert order == ["2025-Q4", "2025", "2026-Q1", "2026-Q4", "2026"]
    assert services.period_end("2024-Q1") == dt.date(2024, 3, 31)
    assert services.period_end("2024-Q4") == dt.date(2024, 12, 31)


def test_closed_round_refuses_late_submissions(world, rnd, cop, client_as):
    form = police_form(world, rnd)
    services.save_values(cop, form, [E("M-POL", "PROS-02", 3)])
    services.close_round(world.users[POLICY_OFFICER], rnd)
    msg = refused(services.save_values, cop, form, [E("M-POL", "PROS-02", 4)])
    assert "Round 2025 is closed: late submissions and changes are no longer accepted" in msg
    assert "closed" in refused(services.submit, cop, form)
    c = sign_in(Client(), cop)
    r = c.post(reverse("monitoring:values", args=[form.pk]),
               {f"v-{form.items.get(indicator_id='PROS-02').pk}": "5"})
    assert "Round 2025 is closed" in r.content.decode()
    assert services.current_values(form)["M-POL/PROS-02"].value == 3


def test_entry_before_the_round_opens_is_refused(world, cop):
    day = dt.date.today()
    r = M.make_round(world, "2027", opens_on=day + dt.timedelta(days=3),
                     deadline=day + dt.timedelta(days=30))
    assert "opens on" in refused(services.save_values, cop, police_form(world, r),
                                 [E("M-POL", "PROS-02", 1)])


# --- entry by web form -------------------------------------------------------------------------


def test_web_form_entry_errors_in_context_and_submit(world, rnd, cop):
    form = police_form(world, rnd)
    items = {i.indicator_id: i.pk for i in form.items.all()}
    c = sign_in(Client(), cop)
    url = reverse("monitoring:values", args=[form.pk])
    data = {f"v-{items['PROS-02']}": "30", f"v-{items['PROS-03']}": "12",
            f"v-{items['PROS-04']}": "15", f"v-{items['PROT-01']}": "40",
            f"v-{items['PROT-02']}": "25", f"sex-{items['PROT-02']}-female": "20",
            f"c-{items['PROS-04']}": "a comment", "action": "save"}
    r = c.post(url, data)
    body = r.content.decode()
    assert r.status_code == 200
    assert "Nothing was saved" in body
    assert "PROS-04 (Persons convicted of trafficking), measure M-POL is 15, more than " \
           "PROS-03" in body
    assert 'value="15"' in body
    assert "a comment" in body
    assert not services.current_values(form)
    data[f"v-{items['PROS-04']}"] = "5"
    r = c.post(url, {**data, "action": "submit"})
    assert r.status_code == 302
    form.refresh_from_db()
    assert form.status == "submitted"
    assert services.current_values(form)["M-POL/PROT-02"].sex == {"female": "20"}
    page = c.get(reverse("monitoring:form", args=[form.pk])).content.decode()
    assert 'name="action"' not in page  # read-only after submitting


def test_another_agencys_form_is_404(world, rnd, cop):
    other = shelter_form(rnd, world)
    c = sign_in(Client(), cop)
    for name in ("monitoring:form", "monitoring:template"):
        kwargs = {"pk": other.pk, **({"fmt": "csv"} if name == "monitoring:template" else {})}
        assert c.get(reverse(name, kwargs=kwargs)).status_code == 404
    assert c.post(reverse("monitoring:values", args=[other.pk]), {}).status_code == 404
    assert c.get(reverse("monitoring:round", args=[rnd.pk])).status_code == 404
    # a reporter lists their own forms only
    index = c.get(reverse("monitoring:index")).content.decode()
    assert reverse("monitoring:form", args=[police_form(world, rnd).pk]) in index
    assert reverse("monitoring:form", args=[other.pk]) not in index


# --- templates ---------------------------------------------------------------------------------


def _fill_csv(text: str, values: dict[str, str], **cols: str) -> bytes:
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        row["value"] = values.get(row["indicator"], "")
        row.update(cols)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=sheets.COLUMNS)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


POLICE_VALUES = {"PROS-02": "30", "PROS-03": "12", "PROS-04": "5", "PROT-01": "40",
                 "PROT-02": "25"}


def test_csv_template_round_trip(world, rnd, cop):
    form = police_form(world, rnd)
    c = sign_in(Client(), cop)
    r = c.get(reverse("monitoring:template", args=[form.pk, "csv"]))
    assert f"round-{rnd.pk}-2025-national-police.csv" in r["Content-Disposition"]
    text = r.content.decode()
    first = next(csv.DictReader(io.StringIO(text)))
    assert first["round"] == str(rnd.pk)
    assert first["period"] == "2025"
    data = _fill_csv(text, POLICE_VALUES)
    up = io.BytesIO(data)
    up.name = "filled.csv"
    r = c.post(reverse("monitoring:upload", args=[form.pk]), {"file": up})
    assert r.status_code == 302
    got = {k.split("/")[1]: rules.fmt(v.value) for k, v in services.current_values(form).items()}
    assert got == POLICE_VALUES
    assert form.events.get().via == "upload"
    # the template now carries the values: download, upload again, nothing changes
    again = sheets.write_csv(form)
    assert sheets.upload(cop, form, "again.csv", again.encode()) == 0


def test_xlsx_template_round_trip(world, rnd, cop):
    from openpyxl import load_workbook

    form = police_form(world, rnd)
    c = sign_in(Client(), cop)
    r = c.get(reverse("monitoring:template", args=[form.pk, "xlsx"]))
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["values"]
    header = [x.value for x in ws[1]]
    for row in ws.iter_rows(min_row=2):
        ind = row[header.index("indicator")].value
        row[header.index("value")].value = int(POLICE_VALUES[ind])
    buf = io.BytesIO()
    wb.save(buf)
    assert sheets.upload(cop, form, "filled.xlsx", buf.getvalue()) == 5
    assert rules.fmt(services.current_values(form)["M-POL/PROS-03"].value) == "12"


def test_template_from_another_round_is_refused(world, rnd, cop):
    form = police_form(world, rnd)
    other = M.make_round(world, "2024", opens_on=dt.date(2024, 1, 1))
    old = _fill_csv(sheets.write_csv(police_form(world, other)), POLICE_VALUES)
    msg = refused(sheets.upload, cop, form, "old.csv", old)
    assert f"this template is for round {other.pk}, not round {rnd.pk} (2025)" in msg
    assert not services.current_values(form)
    # through the page: the message in context
    up = io.BytesIO(old)
    up.name = "old.csv"
    r = sign_in(Client(), cop).post(reverse("monitoring:upload", args=[form.pk]), {"file": up})
    assert "Download this round&#x27;s template" in r.content.decode()


@pytest.mark.parametrize(("change", "message"), [
    ({"period": "2024"}, "period 2024, but this round is for 2025"),
    ({"organisation": "Shelter NGO"}, "this row is Shelter NGO's, but the form is National "
                                      "Police's"),
    ({"indicator": "PREV-99"}, "indicator PREV-99 of measure M-POL is not on this form"),
])
def test_template_checks(world, rnd, cop, change, message):
    form = police_form(world, rnd)
    data = _fill_csv(sheets.write_csv(form), POLICE_VALUES, **change)
    msg = refused(sheets.upload, cop, form, "t.csv", data)
    assert message in msg
    assert "Row 2" in msg
    assert not services.current_values(form)


def test_template_bad_values_and_files_save_nothing(world, rnd, cop):
    form = police_form(world, rnd)
    bad = _fill_csv(sheets.write_csv(form), {**POLICE_VALUES, "PROS-04": "5.5"})
    assert "5.5 is not a count" in refused(sheets.upload, cop, form, "t.csv", bad)
    assert not services.current_values(form)
    assert "as .csv or .xlsx" in refused(sheets.upload, cop, form, "t.pdf", b"%PDF")
    assert "lacks the column(s) round" in refused(sheets.upload, cop, form, "t.csv",
                                                  b"measure,indicator,value\nM,I,1\n")
    assert "not a readable XLSX" in refused(sheets.upload, cop, form, "t.xlsx", b"junk")
    semi = sheets.write_csv(form).replace(",", ";")
    assert sheets.upload(cop, form, "semi.csv", semi.encode()) == 0  # ; read as well


# --- completeness and timeliness ---------------------------------------------------------------


def test_completeness_and_timeliness_arithmetic(world, cop):
    shelter = world.outsiders[AGENCY_REPORTER]
    officer = world.users[POLICY_OFFICER]
    r = M.make_round(world, "2025", opens_on=dt.date(2026, 1, 1),
                     deadline=dt.date(2026, 1, 31))
    pol, sh, _home = police_form(world, r), shelter_form(r, world), M.form_of(r, world.home)
    services.save_values(cop, pol, [E("M-POL", i, v) for i, v in POLICE_VALUES.items()],
                         at=M.at(2026, 1, 20))
    services.submit(cop, pol, at=M.at(2026, 1, 31, 23))  # the deadline day: on time
    services.save_values(shelter, sh, [E("M-SH", "PROT-10", 3), E("M-SH", "PROT-03", 50),
                                       E("M-SH", "PART-07", 1), E("M-SH", "PROT-04", 2)],
                         at=M.at(2026, 2, 1))
    services.submit(shelter, sh, at=M.at(2026, 2, 4))  # 4 days late
    services.review(world.users[DATA_STEWARD], pol, "return", "check PROS-04")
    c = services.completeness(r, day=dt.date(2026, 2, 10))
    assert (c.expected, c.submitted, c.on_time, c.approved, c.returned) == (3, 2, 1, 0, 1)
    assert c.completeness == pytest.approx(200 / 3)
    assert c.timeliness == pytest.approx(100 / 3)
    rows = {s.form.organisation.name: s for s in c.rows}
    assert (rows[M.POLICE].state, rows[M.POLICE].days_late) == ("returned", 0)
    assert (rows[M.SHELTER].state, rows[M.SHELTER].days_late, rows[M.SHELTER].on_time) == (
        "submitted", 4, False)
    assert (rows[world.home.name].state, rows[world.home.name].days_late) == ("overdue", 10)
    # the corrected resubmission after the deadline keeps the first submission's timeliness
    services.save_values(cop, pol, [E("M-POL", "PROS-04", 4)], at=M.at(2026, 2, 11))
    services.submit(cop, pol, at=M.at(2026, 2, 12))
    services.review(world.users[DATA_STEWARD], pol, "approve")
    c = services.completeness(r, day=dt.date(2026, 2, 12))
    assert (c.submitted, c.on_time, c.approved, c.returned) == (2, 1, 1, 0)
    assert pol.events.get(version=2, kind="submitted").late
    # before the deadline a missing form is not late
    c = services.completeness(r, day=dt.date(2026, 1, 15))
    assert {s.state for s in c.rows if not s.submitted} == {"open"}
    # the dashboard: agencies × rounds, with totals
    ov = services.overview(officer, day=dt.date(2026, 2, 12))
    assert [x.period for x in ov.rounds] == ["2025"]
    totals = {name: t for name, _cells, t in ov.agencies}
    assert totals[M.SHELTER] == {"expected": 1, "submitted": 1, "on_time": 0, "approved": 0}
    assert totals[M.POLICE] == {"expected": 1, "submitted": 1, "on_time": 1, "approved": 1}
    # late agencies for the manager (and the dashboard panel)
    assert [s.form.organisation.name for s in services.late_forms(
        officer, day=dt.date(2026, 2, 12))] == [world.home.name]


def test_round_status_page_and_panel(world, client_as):
    r = M.make_round(world, "2025", opens_on=dt.date(2025, 1, 1), deadline=dt.date(2025, 2, 1))
    c = client_as(POLICY_OFFICER)
    page = c.get(reverse("monitoring:round", args=[r.pk])).content.decode()
    assert "late: not submitted" in page
    from tiplab_web.core import panels

    assert panels.get("monitoring_late") is not None
    home = c.get("/").content.decode()
    assert "Reporting rounds: late agencies" in home
    assert M.POLICE in home


# --- API ---------------------------------------------------------------------------------------


def _api(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {make_token(user)}")


def test_api_put_values_and_submit(world, rnd, cop):
    form = police_form(world, rnd)
    c = _api(cop)
    forms = c.get("/api/monitoring/forms").json()
    assert [f["id"] for f in forms] == [form.pk]
    assert forms[0]["items"][0]["value"] is None
    url = f"/api/monitoring/forms/{form.pk}/values"
    bad = {"values": [{"measure": "M-POL", "indicator": "PROS-04", "value": 60},
                      {"measure": "M-POL", "indicator": "PROS-03", "value": 50}]}
    r = c.put(url, json.dumps(bad), content_type="application/json")
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_values"
    assert "PROS-04" in err["details"][0]
    assert not services.current_values(form)
    good = {"values": [{"measure": "M-POL", "indicator": i, "value": float(v),
                        **({"by_sex": {"female": 10, "male": 15}} if i == "PROT-02" else {})}
                       for i, v in POLICE_VALUES.items()]}
    r = c.put(url, json.dumps(good), content_type="application/json")
    assert r.status_code == 200
    assert r.json() == {"form": form.pk, "changed": 5,
                                                 "status": "draft"}
    r = c.post(f"/api/monitoring/forms/{form.pk}/submit")
    assert r.status_code == 200
    assert r.json()["status"] == "submitted"
    assert r.json()["first_submitted_at"]
    r = c.put(url, json.dumps(good), content_type="application/json")
    assert r.status_code == 409
    assert "can no longer be changed" in r.json()["error"]["message"]
    assert form.events.filter(via="api").count() == 2
    # another agency's form, and the round's status: 404 for an agency reporter
    other = shelter_form(rnd, world)
    assert c.get(f"/api/monitoring/forms/{other.pk}").status_code == 404
    assert c.put(f"/api/monitoring/forms/{other.pk}/values", json.dumps(good),
                 content_type="application/json").status_code == 404
    assert c.get(f"/api/monitoring/rounds/{rnd.pk}/status").status_code == 404
    status = _api(world.users[ANALYST]).get(f"/api/monitoring/rounds/{rnd.pk}/status").json()
    assert (status["expected"], status["submitted"]) == (3, 1)


def test_api_refuses_a_closed_round(world, rnd, cop):
    services.close_round(world.users[POLICY_OFFICER], rnd)
    r = _api(cop).post(f"/api/monitoring/forms/{police_form(world, rnd).pk}/submit")
    assert r.status_code == 409
    assert "closed" in r.json()["error"]["message"]


# --- reminders ---------------------------------------------------------------------------------


def test_reminders_before_and_after_the_deadline_never_twice(world, cop, settings):
    settings.TIPLAB_MONITORING_REMINDER_DAYS = 5
    make_user("shelter-2", [AGENCY_REPORTER], world.elsewhere)
    world.outsiders[AGENCY_REPORTER]
    r = M.make_round(world, "2025", opens_on=dt.date(2026, 1, 1), deadline=dt.date(2026, 1, 31))
    pol = police_form(world, r)
    services.save_values(cop, pol, [E("M-POL", i, v) for i, v in POLICE_VALUES.items()],
                         at=M.at(2026, 1, 2))
    services.submit(cop, pol, at=M.at(2026, 1, 3))  # submitted: no reminder
    assert services.send_reminders(dt.date(2026, 1, 20))["before"] == 0  # too early
    got = services.send_reminders(dt.date(2026, 1, 27))
    assert got["before"] == 2  # Shelter NGO and the home organisation
    shelter_mail = next(m for m in mail.outbox if "shelter-2@example.org" in m.to)
    assert sorted(shelter_mail.to) == ["outsider-agency_reporter@example.org",
                                       "shelter-2@example.org"]
    assert "due on 2026-01-31, in 4 days" in shelter_mail.body
    assert reverse("monitoring:form", args=[shelter_form(r, world).pk]) in shelter_mail.body
    assert services.send_reminders(dt.date(2026, 1, 28))["before"] == 0  # never twice
    assert len(mail.outbox) == 2
    got = services.send_reminders(dt.date(2026, 2, 2))
    assert got["late"] == 2
    assert "Overdue" in mail.outbox[-1].subject
    assert services.send_reminders(dt.date(2026, 2, 3)) == {"before": 0, "late": 0,
                                                            "skipped_no_recipient": 0}
    assert ReminderSent.objects.count() == 4
    services.close_round(world.users[POLICY_OFFICER], r)
    M.make_round(world, "2024", opens_on=dt.date(2024, 1, 1), deadline=dt.date(2024, 2, 1))
    services.close_round(world.users[POLICY_OFFICER], Round.objects.get(period="2024"))
    assert services.send_reminders(dt.date(2026, 3, 1))["late"] == 0  # closed rounds: none


def test_reminder_command_and_job(world, cop):
    M.make_round(world, "2025", opens_on=dt.date(2026, 1, 1), deadline=dt.date(2026, 1, 31))
    out = io.StringIO()
    call_command("send_round_reminders", "--date", "2026-02-05", stdout=out)
    assert json.loads(out.getvalue()) == {"before": 0, "late": 2, "skipped_no_recipient": 1}
    assert len(mail.outbox) == 2  # police and home; Shelter NGO has no reporter yet
    out = io.StringIO()
    world.outsiders[AGENCY_REPORTER]
    call_command("send_round_reminders", "--date", "2026-02-06", "--queue", "--by",
                 world.users[POLICY_OFFICER].username, stdout=out)
    assert "queued job" in out.getvalue()
    from tiplab_web.jobs.models import Job

    job = Job.objects.get(kind="monitoring.reminders")
    assert job.status == "succeeded", job.error
    assert job.result["late"] == 1
    assert len(mail.outbox) == 3
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("send_round_reminders", "--queue", "--by", cop.username)


# --- CLI ---------------------------------------------------------------------------------------


def _cli(*args: str):
    from tiplab.cli import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_cli_open_status_import(world, cop, tmp_path):
    officer = world.users[POLICY_OFFICER]
    M.make_plan(world)
    r = _cli("round", "open", "mon", "--period", "2026", "--deadline", "2027-01-31",
             "--opens", "2026-01-01", "--by", officer.username, "--json")
    assert r.exit_code == 0, r.output
    opened = json.loads(r.output)
    assert opened["period"] == "2026"
    assert len(opened["forms"]) == 3
    assert opened["unmatched_leads"] == [{"measure": "M-NONE", "lead": "Ministry of Nothing"}]
    rid = opened["round"]
    r = _cli("round", "open", "mon", "--period", "2026", "--deadline", "2027-01-31",
             "--by", officer.username, "--json")
    assert r.exit_code == 2
    assert "already has a round" in json.loads(r.output)["error"]["message"]
    r = _cli("round", "open", "mon", "--period", "2027", "--deadline", "2027-01-31",
             "--by", cop.username, "--json")
    assert r.exit_code == 2
    assert "monitoring.manage" in r.output
    form = AgencyForm.objects.get(round_id=rid, organisation__name=M.POLICE)
    f = tmp_path / "police.csv"
    f.write_bytes(_fill_csv(sheets.write_csv(form), POLICE_VALUES))
    r = _cli("round", "import", str(rid), str(f), "--by", cop.username, "--submit", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"round": rid, "form": form.pk,
                                    "organisation": M.POLICE, "changed": 5,
                                    "status": "submitted", "version": 1}
    r = _cli("round", "import", str(rid), str(f), "--by", cop.username, "--json")
    assert r.exit_code == 2
    assert "can no longer be changed" in r.output
    r = _cli("round", "status", str(rid), "--json")
    status = json.loads(r.output)
    assert (status["expected"], status["submitted"], status["on_time"]) == (3, 1, 1)
    r = _cli("round", "status", str(rid))
    assert r.exit_code == 0
    assert "1/3 submitted" in r.output
    r = _cli("round", "status", str(rid), "--by", cop.username, "--json")
    assert r.exit_code == 2
    assert "not visible" in r.output


# --- demo --------------------------------------------------------------------------------------


def test_demo_rounds(world, tmp_path, settings):
    from tiplab_web.monitoring import demo
    from tiplab_web.plans import demo as plans_demo

    settings.DATA_DIR = tmp_path
    from tiplab_web.accounts.models import Organisation

    officer = world.users[POLICY_OFFICER]
    for name, kind in (("National Police", "police"), ("Labour Inspectorate",
                                                        "labour_inspectorate")):
        Organisation.objects.get_or_create(name=name, defaults={"kind": kind, "country": "ZZ"})
    plan = plans_demo.load(officer, world.home)
    assert demo.load(officer) == 2
    assert demo.load(officer) == 0  # idempotent
    r25 = Round.objects.get(plan=plan, period="2025")
    c = services.completeness(r25)
    assert (c.expected, c.approved, c.on_time) == (4, 4, 3)
    assert r25.is_closed
    late = [s for s in c.rows if not s.on_time]
    assert [(s.form.organisation.name, s.days_late) for s in late] == [("Shelter NGO", 12)]
    q1 = Round.objects.get(plan=plan, period="2026-Q1")
    c = services.completeness(q1)
    states = {s.form.organisation.name: s.state for s in c.rows}
    assert states == {"Labour Inspectorate": "overdue", "National Police": "approved",
                      "National Rapporteur's Office": "submitted", "Shelter NGO": "approved"}
    police = q1.forms.get(organisation__name="National Police")
    assert list(police.events.exclude(kind="saved").values_list("kind", flat=True)) == [
        "submitted", "returned", "submitted", "approved"]
    values = services.approved_values(plan)
    assert [(v.period, v.value) for v in values[("PR1.1", "PROT-11")]] == [
        ("2025", 310.0), ("2026-Q1", 145.0)]
    assert Value.objects.filter(item__form__round__plan=plan).count() == 9
    assert FormEvent.objects.filter(form__round=q1, kind="returned").get().reason


def test_demo_pages_render(world, tmp_path, settings):
    from tiplab_web.accounts.models import Organisation
    from tiplab_web.monitoring import demo
    from tiplab_web.plans import demo as plans_demo

    settings.DATA_DIR = tmp_path
    officer = world.users[POLICY_OFFICER]
    Organisation.objects.create(name="National Police", kind="police", country="ZZ")
    plans_demo.load(officer, world.home)
    demo.load(officer)
    q1 = Round.objects.get(period="2026-Q1")
    urls = [reverse("monitoring:index"), reverse("monitoring:overview"),
            reverse("monitoring:round", args=[q1.pk])]
    urls += [reverse("monitoring:form", args=[f.pk]) for f in q1.forms.all()]
    for role in (POLICY_OFFICER, DATA_STEWARD, ANALYST):
        c = sign_in(Client(), world.users[role])
        for url in urls:
            r = c.get(url)
            assert r.status_code == 200, url
            assert "None" not in r.content.decode(), url
    police = q1.forms.get(organisation__name="National Police")
    body = sign_in(Client(), world.users[DATA_STEWARD]).get(
        reverse("monitoring:form", args=[police.pk])).content.decode()
    assert "1,450 looks like training sessions" in body
    assert "Corrected: 145 officials trained" in body
