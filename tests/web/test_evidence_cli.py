"""``tiplab notes import`` and ``tiplab code suggest|train|evaluate`` with ``--json``."""

from __future__ import annotations

import json

import pytest
from tests.web import evidence_support as ev
from typer.testing import CliRunner

from tiplab_web.evidence import services
from tiplab_web.evidence.models import Note, Suggestion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


def _run(*args: str):
    from tiplab.cli import app

    r = CliRunner().invoke(app, list(args))
    return r, (json.loads(r.output) if r.output.strip().startswith("{") else None)


def test_import_text_files_and_a_csv(world, tmp_path):
    analyst = world.users["analyst"]
    a = tmp_path / "first.txt"
    a.write_text(ev.TEXT, encoding="utf-8")
    sheet = tmp_path / "notes.csv"
    sheet.write_text("title,text,source_type,consent_analysis\n"
                     "From the sheet,\"We were watched all the time.\",ngo,yes\n",
                     encoding="utf-8")
    r, out = _run("notes", "import", str(a), str(sheet), "--source-type", "survivor",
                  "--consent-analysis", "--as", analyst.username, "--json")
    assert r.exit_code == 0, r.output
    assert out["imported"] == 2
    first, second = (Note.objects.get(pk=n["id"]) for n in out["notes"])
    assert services.full_text(first) == ev.TEXT
    assert first.source_type == "survivor"
    assert first.consent_analysis
    assert first.source_file_kind == "txt"
    assert second.source_type == "ngo"
    assert second.title == "From the sheet"


def test_import_is_all_or_nothing(world, tmp_path):
    analyst = world.users["analyst"]
    good = tmp_path / "good.txt"
    good.write_text(ev.TEXT, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    r, out = _run("notes", "import", str(good), str(empty), "--source-type", "ngo",
                  "--as", analyst.username, "--json")
    assert r.exit_code == 2
    assert "empty" in out["error"]["message"].lower()
    bad = tmp_path / "bad.csv"
    bad.write_text("title,text,source_type\nok,Some text.,ngo\nbad,More text.,astrologer\n",
                   encoding="utf-8")
    r, out = _run("notes", "import", str(good), str(bad), "--as", analyst.username,
                  "--source-type", "ngo", "--json")
    assert r.exit_code == 2
    assert "line 3" in out["error"]["message"]
    assert "astrologer" in out["error"]["message"]
    assert Note.objects.count() == 0


def test_import_needs_the_role(world, tmp_path):
    a = tmp_path / "n.txt"
    a.write_text(ev.TEXT, encoding="utf-8")
    r, out = _run("notes", "import", str(a), "--source-type", "ngo", "--as",
                  world.users["policy_officer"].username, "--json")
    assert r.exit_code == 2
    assert "evidence.manage" in out["error"]["message"]


def test_suggest_train_and_evaluate(world):
    from tiplab.qualitative import embed

    analyst = world.users["analyst"]
    notes = [ev.make_note(analyst, title=f"n{i}") for i in range(5)]
    r, out = _run("code", "suggest", "--note", str(notes[0].pk), "--as", analyst.username,
                  "--json")
    assert r.exit_code == 0, r.output
    assert out["suggestions"] == Suggestion.objects.filter(note=notes[0]).count() > 0
    r, out = _run("code", "suggest", "--all", "--as", analyst.username, "--json")
    assert r.exit_code == 0
    assert out["notes"] == 5
    # code the notes by hand, two coders on each, and finish them
    steward = world.users["data_steward"]
    keys = services.codebook(analyst).keys()
    for n in notes:
        us = services.units(ev.TEXT)
        for coder in (analyst, steward):
            services.add_coding(coder, n, us[0].start, us[0].end, keys[0])
            services.finish(coder, n)
        services.add_coding(analyst, n, us[3].start, us[3].end, keys[1])
    r, out = _run("code", "train", "--as", analyst.username, "--json")
    if embed.available():
        assert r.exit_code == 0, r.output
        assert out["classifier"] == 1
        assert out["examples"] == 5 * len(services.units(ev.TEXT))
        assert out["held_out"]["method"] == "held-out notes"
    else:
        assert r.exit_code == 2
        assert "not installed" in out["error"]["message"]
    r, out = _run("code", "evaluate", "--as", analyst.username, "--json")
    assert r.exit_code == 0, r.output
    coders = out["coders"]
    assert coders["notes"] == 5
    assert len(coders["coders"]) == 2
    by_code = {row["code"]: row for row in coders["per_code"]}
    assert by_code[keys[0]]["kappa"] == pytest.approx(1.0)
    assert out["model_available"] == embed.available()
