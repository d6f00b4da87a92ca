"""The demo's interview notes: loaded once, coded by two people, with suggestions."""

from __future__ import annotations

import pytest
from tests.web.conftest import make_user

from tiplab_web.accounts.models import Organisation
from tiplab_web.evidence import demo, services
from tiplab_web.evidence.models import Coding, Note, Quotation, Suggestion

pytestmark = pytest.mark.django_db


def test_the_demo_notes_load_once_with_codes_kappa_and_suggestions():
    org = Organisation.objects.create(name="Demo office", kind=Organisation.Kind.COORDINATOR,
                                      country="ZZ")
    analyst = make_user("demo-analyst", ["analyst"], org)
    make_user("demo-steward", ["data_steward"], org)
    made = demo.load()
    assert made is not None
    assert made["notes"] == len(demo.NOTES)
    assert demo.load() is None  # idempotent
    assert Note.objects.filter(organisation=org).count() == len(demo.NOTES)
    french = Note.objects.get(title__contains="foyer")
    assert french.language == "fr"
    assert not french.language_supported
    assert not Suggestion.objects.filter(note=french).exists()
    assert not Note.objects.get(title__contains="begging").codings.exists()
    assert Coding.objects.values("coder").distinct().count() == 2
    data, rows = services.agreement(org)
    assert data.notes == 3, "three notes coded by both demo coders"
    assert rows
    assert Suggestion.objects.filter(status="pending").exists()
    assert Quotation.objects.exists()
    assert all(q.note.consent_quote for q in Quotation.objects.all())
    assert services.codebook(analyst) is not None
