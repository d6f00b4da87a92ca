"""``tiplab codes`` and ``tiplab consultation`` act on the database as a named user."""

from __future__ import annotations

import csv
import io
import json

import pytest
from tests.web import test_consultations_support as support
from typer.testing import CliRunner

from tiplab.cli import app
from tiplab_web.audit.models import AuditEntry
from tiplab_web.consultations import services
from tiplab_web.core.roles import ANALYST, POLICY_OFFICER

pytestmark = pytest.mark.django_db


def _run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_codes_issue_writes_the_only_copy_and_they_work(world, tmp_path):
    officer = world.users[POLICY_OFFICER]
    c = support.make_consultation(officer)
    out = tmp_path / "codes.csv"
    r = _run("codes", "issue", "--consultation", str(c.pk), "--n", "4", "--out", str(out),
             "--by", officer.username, "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert result["codes"] == 4
    assert result["consultation"] == c.pk
    codes = [row["code"] for row in csv.DictReader(io.StringIO(out.read_text()))]
    assert len(codes) == 4
    assert all(services.redeem(code) is not None for code in codes)
    assert AuditEntry.objects.filter(action="voice.issue_codes",
                                     actor_username=officer.username).exists()
    pdf = tmp_path / "codes.pdf"
    r = _run("codes", "issue", "--questionnaire", "barriers-to-justice", "--n", "3", "--out",
             str(pdf), "--by", officer.username)
    assert r.exit_code == 0, r.output
    assert pdf.read_bytes().startswith(b"%PDF")


def test_codes_refuse_a_user_whose_role_does_not_allow_it(world, tmp_path):
    analyst = world.users[ANALYST]
    r = _run("codes", "issue", "--questionnaire", "support-services", "--out",
             str(tmp_path / "c.csv"), "--by", analyst.username, "--json")
    assert r.exit_code == 2
    assert "voice.issue_codes" in json.loads(r.output)["error"]["message"]
    assert not (tmp_path / "c.csv").exists()
    r = _run("codes", "issue", "--questionnaire", "support-services", "--out",
             str(tmp_path / "c.docx"), "--by", "nobody", "--json")
    assert r.exit_code == 2
    assert ".pdf, .html or .csv" in json.loads(r.output)["error"]["message"]


def test_consultation_export_and_stats(world, tmp_path):
    officer = world.users[POLICY_OFFICER]
    c = support.make_consultation(officer)
    services.contribute(officer, c, "measure:M1", "comment", "Our own note")
    out = tmp_path / "ysw.csv"
    r = _run("consultation", "export", str(c.pk), "--out", str(out), "--by",
             officer.username, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"consultation": c.pk, "out": str(out),
                                    "contributions": 1, "answered": 0}
    assert "Our own note" in out.read_text()
    r = _run("consultation", "stats", str(c.pk), "--by", officer.username, "--json")
    groups = {g["group"]: g for g in json.loads(r.output)["groups"]}
    assert groups["government"]["comments"] == 1
    r = _run("consultation", "stats", "999", "--by", officer.username, "--json")
    assert r.exit_code == 2
