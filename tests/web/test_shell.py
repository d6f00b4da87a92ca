"""The shell: access helpers, navigation and panel registries, error pages, demo users."""

from __future__ import annotations

import stat
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.web.conftest import make_user

from tiplab_web import audit
from tiplab_web.accounts.models import ApiToken
from tiplab_web.core import nav, panels
from tiplab_web.core.access import can, get_object_for, has_role, user_roles
from tiplab_web.core.roles import ACCOUNT_ROLES, CAPABILITIES

pytestmark = pytest.mark.django_db


# --- access helpers ---------------------------------------------------------------------


def test_has_role_and_can(world):
    steward = world.users["data_steward"]
    assert has_role(steward, "data_steward")
    assert not has_role(steward, "analyst", "administrator")
    assert can(steward, "cases.reveal_identifiers")
    assert not can(world.users["analyst"], "cases.reveal_identifiers")
    assert not can(world.users["administrator"], "cases.view")  # least privilege
    assert not can(world.users["policy_officer"], "cases.view")
    assert can(world.users["policy_officer"], "insights.view")
    assert not can(AnonymousUser(), "dashboard.view")


def test_inactive_users_hold_no_roles(world):
    user = world.users["analyst"]
    user.is_active = False
    assert user_roles(user) == frozenset()


def test_unknown_capability_is_a_programming_error(world):
    with pytest.raises(KeyError, match="unknown capability"):
        can(world.users["analyst"], "cases.veiw")


def test_capability_table_only_names_account_roles():
    for capability, roles in CAPABILITIES.items():
        assert roles <= set(ACCOUNT_ROLES), capability


def test_get_object_for_raises_404_outside_the_scoped_queryset(world):
    owner, other = world.users["agency_reporter"], world.outsiders["agency_reporter"]
    token = world.token_of(owner)
    assert get_object_for(owner, ApiToken.objects.filter(owner=owner), pk=token.pk) == token
    with pytest.raises(Http404):
        get_object_for(other, ApiToken.objects.filter(owner=other), pk=token.pk)
    with pytest.raises(Http404):
        get_object_for(owner, ApiToken.objects.filter(owner=owner), pk="not-a-number")
    with pytest.raises(Http404):
        get_object_for(AnonymousUser(), ApiToken.objects.all(), pk=token.pk)


# --- navigation -------------------------------------------------------------------------------


def _menu(client) -> list[str]:
    return [link.key for link in client.get(reverse("core:home")).context["nav_links"]]


def test_menu_shows_only_what_the_role_may_use(client_as):
    assert _menu(client_as("administrator")) == [
        "home", "plans", "consultations", "monitoring", "evaluation", "groups", "publications",
        "jobs", "audit", "users", "organisations", "security"]
    assert _menu(client_as("analyst")) == [
        "home", "intake", "cases", "linkage", "estimates", "trends", "profiles", "routes",
        "hotspots", "gap", "vulnerability", "evidence", "screening", "assessment", "plans",
        "consultations", "monitoring", "evaluation", "groups", "publications", "jobs", "tokens",
        "security"]
    # Policy officers see aggregate evidence only: estimates and analytics, no case data.
    assert _menu(client_as("policy_officer")) == [
        "home", "estimates", "trends", "profiles", "routes", "hotspots", "gap", "vulnerability",
        "evidence", "assessment", "plans", "consultations", "monitoring", "evaluation", "groups",
        "publications", "jobs", "security"]
    # Data stewards triage the reports of the safe reporting channel
    assert "reporting" in _menu(client_as("data_steward"))
    assert "reporting" not in _menu(client_as("analyst"))
    # Agency reporters see the plan measures their organisation leads, the consultations and
    # working groups their organisation takes part in
    assert _menu(client_as("agency_reporter")) == [
        "home", "submit", "plans", "consultations", "monitoring", "groups", "jobs", "tokens",
        "security"]
    assert _menu(client_as("stakeholder")) == ["home", "consultations", "groups", "security"]


def test_current_section_is_marked_for_screen_readers(client_as):
    html = client_as("administrator").get(reverse("audit:log")).content.decode()
    assert '<a href="/audit/" aria-current="page">' in html


def test_nav_registry_accepts_new_entries_and_skips_unmounted_urls(client_as):
    before = dict(nav._REGISTRY)
    try:
        nav.register(
            nav.NavItem(
                key="cases-test",
                label="Cases",
                url_name="core:home",
                capability="cases.view",
                order=20,
            )
        )
        nav.register(
            nav.NavItem(
                key="not-mounted",
                label="Nowhere",
                url_name="nowhere:list",
                capability="cases.view",
                order=21,
            )
        )
        assert _menu(client_as("analyst")) == [
            "home", "intake", "cases", "cases-test", "linkage", "estimates", "trends",
            "profiles", "routes", "hotspots", "gap", "vulnerability", "evidence", "screening",
            "assessment", "plans", "consultations", "monitoring", "evaluation", "groups",
            "publications", "jobs", "tokens", "security"]
        assert "cases-test" not in _menu(client_as("policy_officer"))
        with pytest.raises(KeyError):
            nav.register(
                nav.NavItem(key="x", label="x", url_name="core:home", capability="no.such")
            )
    finally:
        nav._REGISTRY.clear()
        nav._REGISTRY.update(before)


def test_base_layout_landmarks_and_skip_link(client_as):
    html = client_as("analyst").get(reverse("core:home")).content.decode()
    assert html.index('class="skip-link" href="#main"') < html.index("<main")
    assert '<main id="main"' in html
    assert '<nav class="main-nav" id="main-nav" aria-label="Main menu">' in html
    assert '<header class="site-header">' in html
    assert '<footer class="site-footer">' in html
    assert '<label for="language-select">' in html


# --- dashboard panels --------------------------------------------------------------------


def test_dashboard_shows_recent_activity_and_admin_counts(world, client_as):
    world.users["analyst"]
    make_user("second-analyst", ["analyst"], world.home)
    admin_page = client_as("administrator").get(reverse("core:home"))
    keys = [p.panel.key for p in admin_page.context["panels"]]
    assert keys == ["overdue_actions", "users_and_roles", "recent_activity"]
    html = admin_page.content.decode()
    assert "Users and roles" in html
    assert "<strong>2</strong> Analyst" in html
    assert "auth.login" in html  # the admin's own sign-in, from the audit log

    analyst_page = client_as("analyst").get(reverse("core:home"))
    assert [p.panel.key for p in analyst_page.context["panels"]] == [
        "latest_estimate", "records_by_source", "data_freshness", "recent_imports",
        "latest_link_run", "open_problems", "evidence", "overdue_actions", "publications",
        "recent_activity",
    ]


def test_lazy_panels_load_through_htmx_and_failures_are_contained(client_as, caplog):
    before = dict(panels._REGISTRY)

    def broken(request):
        raise RuntimeError("panel bug")

    try:
        panels.register(
            panels.Panel(
                key="slow",
                title="Slow",
                lazy=True,
                template="audit/panels/recent_activity.html",
                capability="insights.view",
                order=1,
            )
        )
        panels.register(
            panels.Panel(
                key="broken",
                title="Broken",
                context=broken,
                template="audit/panels/recent_activity.html",
                capability="dashboard.view",
                order=2,
            )
        )
        client = client_as("policy_officer")
        html = client.get(reverse("core:home")).content.decode()
        assert 'hx-get="/panels/slow/"' in html
        assert "This panel could not be loaded" in html
        assert "panel bug" in caplog.text
        assert client.get("/panels/slow/").status_code == 200
        assert client_as("stakeholder").get("/panels/slow/").status_code == 404
        assert client.get("/panels/nope/").status_code == 404
    finally:
        panels._REGISTRY.clear()
        panels._REGISTRY.update(before)


# --- error pages --------------------------------------------------------------------------


def test_403_and_404_pages_use_the_layout(client_as):
    client = client_as("analyst")
    forbidden = client.get(reverse("audit:log"))
    assert forbidden.status_code == 403
    assert "Access denied" in forbidden.content.decode()
    assert 'id="main"' in forbidden.content.decode()
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert "Page not found" in missing.content.decode()


# --- demo users ---------------------------------------------------------------------------------


def test_seed_demo_users_is_stable_and_private(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo_users", stdout=StringIO())
    logins = tmp_path / "demo-logins.txt"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    first = logins.read_text()
    call_command("seed_demo_users", stdout=StringIO())
    assert logins.read_text() == first  # same passwords and TOTP secrets after a restart
    users = get_user_model().objects
    assert users.filter(username__startswith="demo-").count() == 7
    rows = [line.split("\t") for line in first.splitlines() if not line.startswith("#")]
    by_name = {r[0]: r for r in rows}
    assert {r[1] for r in rows} == set(ACCOUNT_ROLES)
    admin = users.get(username="demo-admin")
    assert admin.check_password(by_name["demo-admin"][2])
    assert admin.profile.organisation.name == "National Rapporteur's Office"
    assert TOTPDevice.objects.get(user=admin).confirmed
    assert by_name["demo-analyst"][3] == "-"
    code = StringIO()
    call_command("demo_otp_code", "demo-steward", stdout=code)
    device = TOTPDevice.objects.get(user__username="demo-steward")
    assert device.verify_token(code.getvalue().strip())


def test_demo_users_can_sign_in(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo_users", stdout=StringIO())
    rows = [
        line.split("\t")
        for line in (tmp_path / "demo-logins.txt").read_text().splitlines()
        if not line.startswith("#")
    ]
    username, _role, password, _secret = next(r for r in rows if r[0] == "demo-policy")
    client = Client()
    client.post("/accounts/login/", {"username": username, "password": password})
    assert client.get("/").status_code == 200


def test_audit_record_accepts_a_plain_user_outside_requests(world):
    entry = audit.record(world.users["analyst"], "cases.import", ("cases.importbatch", 4), rows=120)
    assert entry.actor_username == "analyst"
    assert entry.ip_address is None


def test_create_administrator_command(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("a long first admin passphrase 9\n")
    out = StringIO()
    call_command(
        "create_administrator",
        "alice",
        email="alice@example.org",
        organisation="National Rapporteur's Office",
        country="fr",
        password_file=secret,
        stdout=out,
    )
    alice = get_user_model().objects.get(username="alice")
    assert user_roles(alice) == {"administrator"}
    assert alice.check_password("a long first admin passphrase 9")
    assert alice.profile.organisation.country == "FR"
    assert "TOTP enrolment" in out.getvalue()
    weak = tmp_path / "weak"
    weak.write_text("123")
    with pytest.raises(CommandError, match="too short"):
        call_command(
            "create_administrator",
            "bob",
            email="b@example.org",
            organisation="X",
            password_file=weak,
        )


def test_organisation_of(world):
    from tiplab_web.core.access import organisation_of

    assert organisation_of(world.users["agency_reporter"]) == world.home
    assert organisation_of(world.outsiders["agency_reporter"]) == world.elsewhere
    assert organisation_of(AnonymousUser()) is None
    assert organisation_of(get_user_model().objects.create_user("noprofile")) is None


def test_the_menu_marks_only_the_current_page(client_as, world):
    """Before, every entry of a section was marked ("Data intake" and "Cases" together)."""
    import re

    from tests.web import test_cases_support as cs

    batch = cs.make_batch(world, world.users["analyst"])
    record = batch.cases.get()
    client = client_as("analyst")
    expected = {
        reverse("core:home"): "Home",
        reverse("cases:intake"): "Data intake",
        reverse("cases:batches"): "Data intake",
        reverse("cases:batch", args=[batch.batch_id]): "Data intake",
        reverse("cases:list"): "Cases",
        reverse("cases:detail", args=[record.pk]): "Cases",
        reverse("estimates:runs"): "Estimates",
        reverse("jobs:list"): "Jobs",
    }
    for path, label in expected.items():
        html = client.get(path).content.decode()
        nav = html[html.index('aria-label="Main menu"'):]
        nav = nav[:nav.index("</nav>")]
        marked = re.findall(r'aria-current="page">([^<]+)</a>', nav)
        assert [m.strip() for m in marked] == [label], path


def test_the_glossary_explains_the_terms_the_pages_link(client_as, world):
    import re

    from tiplab_web.core.glossary import TERMS

    page = client_as("policy_officer").get(reverse("core:glossary")).content.decode()
    for slug in TERMS:
        assert f'id="{slug}"' in page
    # every {% term %} used in a template names a glossary entry
    from pathlib import Path

    import tiplab_web

    used = set()
    for f in Path(tiplab_web.__file__).parent.rglob("*.html"):
        used |= set(re.findall(r'{%\s*term\s+"([^"]+)"', f.read_text(encoding="utf-8")))
    assert used
    assert used <= set(TERMS)
    runs = client_as("analyst").get(reverse("estimates:runs")).content.decode()
    assert f'href="{reverse("core:glossary")}#mse"' in runs
