"""Translations: the shell renders in French and Spanish; catalogs are complete and compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import tiplab_web

pytestmark = pytest.mark.django_db
LOCALE = Path(tiplab_web.__file__).parent / "locale"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Se connecter", "Aller au contenu principal", "Nom d'utilisateur", "Langue"]),
        ("es", ["Iniciar sesión", "Saltar al contenido principal", "Nombre de usuario", "Idioma"]),
    ],
)
def test_login_page_in_each_language(language, expected):
    html = (
        Client(headers={"accept-language": language})
        .get(reverse("accounts:login"))
        .content.decode()
    )
    assert f'<html lang="{language}">' in html
    for text in expected:
        assert text.replace("'", "&#x27;") in html


def test_language_switcher_sets_the_language(client_as):
    client = client_as("administrator")
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("core:home")).content.decode()
    assert "Inicio" in html
    assert "Usuarios y roles" in html
    assert "Cerrar sesión" in html
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    html = client.get(reverse("audit:log")).content.decode()
    assert "Journal d&#x27;audit" in html
    assert "Exporter en CSV" in html


def _po_entries(path: Path) -> list[tuple[str, str]]:
    """(msgid, first msgstr) pairs; enough to check completeness."""
    text = path.read_text(encoding="utf-8")
    blocks = [b for b in text.split("\n\n") if "msgid" in b][1:]  # skip the header
    pairs = []
    for block in blocks:
        assert "#, fuzzy" not in block, block
        msgid = "".join(re.findall(r'"(.*)"', block.split("msgid_plural")[0].split("msgstr")[0]))
        msgstr = "".join(
            re.findall(r'"(.*)"', re.split(r"msgstr(?:\[0\])? ", block)[1].split("msgstr[")[0])
        )
        pairs.append((msgid, msgstr))
    return pairs


@pytest.mark.parametrize("language", ["fr", "es"])
def test_catalogs_are_complete_and_compiled(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    entries = _po_entries(po)
    assert len(entries) > 150
    untranslated = [m for m, s in entries if not s]
    assert not untranslated
    with mo.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    assert catalog.gettext("Skip to main content") != "Skip to main content"
    compiled = {k if isinstance(k, str) else k[0] for k in catalog._catalog if k}
    assert len(compiled) == len(entries), "run compilemessages: the .mo is stale"


def test_the_language_choice_follows_the_user_to_another_browser(world):
    """Chosen in one browser, it is stored with the account and applied in another."""
    from tests.web.conftest import sign_in

    user = world.users["policy_officer"]
    first = sign_in(Client(), user)
    first.post(reverse("set_language"), {"language": "fr", "next": "/"})
    user.profile.refresh_from_db()
    assert user.profile.language == "fr"
    other = sign_in(Client(), user)  # a new browser: no language cookie
    response = other.get("/")
    assert '<html lang="fr"' in response.content.decode()
    assert response.cookies["django_language"].value == "fr"
    # signed out, the browser's own choice applies
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="es"' in anonymous.get(reverse("accounts:login")).content.decode()


def _marked_strings() -> set[str]:
    """Literal strings marked for translation: {% translate "..." %} in templates and
    _("...") / gettext("...") / gettext_lazy("...") in Python (single literals)."""
    root = Path(tiplab_web.__file__).parent
    found: set[str] = set()
    for f in root.rglob("*.html"):
        text = f.read_text(encoding="utf-8")
        found |= set(re.findall(r'{%\s*translate\s+"([^"]+)"', text))
        found |= set(re.findall(r"{%\s*translate\s+'([^']+)'", text))
    for f in root.rglob("*.py"):
        if "migrations" in f.parts:
            continue
        text = f.read_text(encoding="utf-8")
        found |= set(re.findall(r'\b(?:_|gettext|gettext_lazy)\(\s*"((?:[^"\\]|\\.)*)"\s*\)',
                                text))
    return {s.encode().decode("unicode_escape") if "\\" in s else s for s in found}


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_marked_string_is_in_the_catalogue(language):
    """A string marked for translation but missing from the catalogue (makemessages not
    run) would stay English: run makemessages and translate it."""
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    ids = {m for m, _s in _po_entries(po)}
    ids = {i.replace('\\"', '"').replace("\\n", "\n").replace("%%", "%") for i in ids}
    # both sides with "%%" as "%": a template's "%" is "%%" in the catalogue, a Python
    # format string's "%%" is "%%" in both
    missing = sorted(s for s in _marked_strings() if s.replace("%%", "%") not in ids)
    assert missing == [], missing[:10]


def test_dates_are_iso_in_english_and_local_in_french(world, client_as):
    from django.utils import timezone
    from tests.web import test_cases_support as cs

    batch = cs.make_batch(world, world.users["analyst"])
    when = timezone.localtime(batch.imported_at)
    client = client_as("analyst")
    page = client.get(reverse("cases:batches")).content.decode()
    assert when.strftime("%Y-%m-%d %H:%M") in page  # one format, not 12/03/2026
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    page = client.get(reverse("cases:batches")).content.decode()
    assert when.strftime("%d/%m/%Y %H:%M") in page
