"""Sign-in, lockout, two-factor enforcement, invitations, re-authentication, sessions."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.web.conftest import PASSWORD, make_user, sign_in

from tiplab_web.accounts.models import Invitation
from tiplab_web.audit.models import AuditEntry
from tiplab_web.core.access import user_roles
from tiplab_web.core.reauth import SESSION_KEY, require_recent_password

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def totp_code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def login(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


# --- passwords and lockout -----------------------------------------------------------------


def test_passwords_are_hashed_with_argon2_outside_tests():
    from tiplab_web.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert base.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert base.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_login_succeeds_then_lockout_after_five_failures(world):
    world.users["analyst"]
    client = Client()
    assert login(client, "analyst").status_code == 302
    client.post(reverse("accounts:logout"))
    for attempt in range(5):
        response = login(client, "analyst", "not-my-password")
        assert response.status_code in (200, 429), attempt
    locked = login(client, "analyst")  # even the right password is refused now
    assert locked.status_code == 429
    assert "Sign-in locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.lockout").exists()


def test_login_form_is_rate_limited_per_ip(settings, world):
    settings.TIPLAB_RATE_LIMITS = {**settings.TIPLAB_RATE_LIMITS, "login": (3, 60)}
    client = Client()
    statuses = [login(client, f"nobody{i}", "x").status_code for i in range(4)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_session_cookie_settings():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    # the idle timeout restarts with activity, by a save a minute at most (test_sessions.py)
    assert "tiplab_web.core.sessions.SessionRefreshMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def test_session_cookie_is_a_browser_session_cookie(world):
    world.users["analyst"]
    response = login(Client(), "analyst")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["expires"]
    assert not cookie["max-age"]


def test_logout_needs_post(client_as):
    client = client_as("analyst")
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("core:home")).status_code == 302


# --- two-factor ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["administrator", "data_steward"])
def test_two_factor_roles_are_held_at_verification_until_they_pass(world, role):
    user = world.users[role]
    client = Client()
    response = login(client, role)
    assert response.status_code == 302
    home = client.get(reverse("core:home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("accounts:otp_verify"))
    assert client.get(reverse("audit:log")).status_code == 302  # nothing else either
    device = TOTPDevice.objects.get(user=user)
    wrong = client.post(reverse("accounts:otp_verify"), {"code": "000000"})
    assert wrong.status_code == 200
    assert client.get(reverse("core:home")).status_code == 302
    throttled = client.post(reverse("accounts:otp_verify"), {"code": totp_code(device)})
    assert throttled.status_code == 200  # django-otp backs off after a failure
    device.refresh_from_db()
    device.throttle_reset()
    ok = client.post(reverse("accounts:otp_verify"), {"code": totp_code(device), "next": "/"})
    assert ok.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200
    actions = set(AuditEntry.objects.filter(actor=user).values_list("action", flat=True))
    assert {"auth.login", "auth.otp_failed", "auth.otp_verified"} <= actions


def test_two_factor_roles_without_a_device_must_enrol(world):
    admin = make_user("newadmin", ["administrator"], world.home, totp=False)
    client = Client()
    login(client, "newadmin")
    response = client.get(reverse("core:home"))
    assert response["Location"].startswith(reverse("accounts:otp_enrol"))
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    assert "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    secret = re.search(r'class="secret">([A-Z2-7]+)<', html).group(1)
    assert secret  # the manual-entry key is shown next to the QR code
    done = client.post(reverse("accounts:otp_enrol"), {"code": totp_code(device)})
    assert done.status_code == 200  # the recovery codes, shown once
    assert len(re.findall(r"<li><code>[a-z2-9]{4}-[a-z2-9]{4}</code></li>",
                          done.content.decode())) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("core:home")).status_code == 200


def test_other_roles_do_not_need_two_factor(world):
    world.users["policy_officer"]
    client = Client()
    login(client, "policy_officer")
    assert client.get(reverse("core:home")).status_code == 200


def test_htmx_requests_get_hx_redirect_to_verification(world):
    world.users["data_steward"]
    client = Client()
    login(client, "data_steward")
    response = client.get(reverse("core:home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:otp_verify"))


def test_admin_can_reset_a_users_two_factor(world, client_as):
    steward = world.users["data_steward"]
    client_as("administrator").post(
        reverse("accounts:user_edit", args=[steward.pk]),
        {
            "organisation": world.home.pk,
            "roles": ["data_steward"],
            "is_active": "on",
            "reset_two_factor": "on",
        },
    )
    assert not TOTPDevice.objects.filter(user=steward).exists()


# --- invitations -------------------------------------------------------------------------


def _invite(client: Client, world, roles=("analyst",)) -> str:
    response = client.post(
        reverse("accounts:user_invite"),
        {"email": "new.person@example.org", "organisation": world.home.pk, "roles": list(roles)},
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.org"]
    return re.search(r"http://testserver(/accounts/invitation/[^/]+/)", mail.outbox[0].body)[1]


def test_invitation_flow_creates_the_account_once(world, client_as):
    link = _invite(client_as("administrator"), world, roles=("analyst", "policy_officer"))
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(token_hash=token).exists()  # only the hash is stored
    visitor = Client()
    assert visitor.get(link).status_code == 200
    weak = visitor.post(link, {"username": "newbie", "password1": "short", "password2": "short"})
    assert weak.status_code == 200
    assert weak.context["form"].errors
    done = visitor.post(
        link,
        {
            "username": "newbie",
            "password1": "a long new passphrase 7",
            "password2": "a long new passphrase 7",
        },
    )
    assert done.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "new.person@example.org"
    assert user.profile.organisation == world.home
    assert user_roles(user) == {"analyst", "policy_officer"}
    assert user.password.startswith("md5$")  # hashed (argon2 outside the fast test settings)
    # single use
    assert visitor.get(link).status_code == 404
    again = Client().post(
        link,
        {
            "username": "other",
            "password1": "a long new passphrase 7",
            "password2": "a long new passphrase 7",
        },
    )
    assert again.status_code == 404
    assert AuditEntry.objects.filter(action="users.invitation_accepted").count() == 1
    assert AuditEntry.objects.filter(action="users.invited").count() == 1


def test_expired_and_unknown_invitations_are_404(world, client_as):
    link = _invite(client_as("administrator"), world)
    Invitation.objects.update(expires_at=timezone.now())
    assert Client().get(link).status_code == 404
    assert Client().get("/accounts/invitation/made-up-token/").status_code == 404


def test_invitation_rejects_a_taken_username(world, client_as):
    world.users["analyst"]
    link = _invite(client_as("administrator"), world)
    response = Client().post(
        link,
        {
            "username": "analyst",
            "password1": "a long new passphrase 7",
            "password2": "a long new passphrase 7",
        },
    )
    assert response.status_code == 200
    assert "username" in response.context["form"].errors


def test_admin_cannot_remove_own_admin_role(world, client_as):
    admin = world.users["administrator"]
    response = client_as("administrator").post(
        reverse("accounts:user_edit", args=[admin.pk]),
        {"organisation": world.home.pk, "roles": ["analyst"], "is_active": "on"},
    )
    assert response.status_code == 200
    assert user_roles(get_user_model().objects.get(pk=admin.pk)) == {"administrator"}


def test_user_edit_of_unknown_user_is_404(client_as):
    assert (
        client_as("administrator").get(reverse("accounts:user_edit", args=[999999])).status_code
        == 404
    )


def test_deactivated_users_lose_every_role(world, client_as):
    analyst = world.users["analyst"]
    client = sign_in(Client(), analyst)
    client_as("administrator").post(
        reverse("accounts:user_edit", args=[analyst.pk]),
        {"organisation": world.home.pk, "roles": ["analyst"]},
    )
    analyst.refresh_from_db()
    assert not analyst.is_active
    assert user_roles(analyst) == frozenset()
    assert client.get(reverse("core:home")).status_code == 302  # session no longer valid


# --- re-authentication ------------------------------------------------------------------------


def test_require_recent_password_decorator(world):
    calls = []

    @require_recent_password(minutes=10)
    def destroy(request):
        calls.append(request)
        return HttpResponse("done")

    factory = RequestFactory()
    request = factory.post("/destroy/?x=1")
    request.user = world.users["analyst"]
    request.session = {}
    response = destroy(request)
    assert response.status_code == 302
    assert response["Location"] == "/confirm-password/?next=%2Fdestroy%2F%3Fx%3D1"
    assert calls == []
    request.session = {SESSION_KEY: time.time() - 11 * 60}  # too old
    assert destroy(request).status_code == 302
    request.session = {SESSION_KEY: time.time() - 60}
    assert destroy(request).content == b"done"
    assert destroy.requires_recent_password


def test_confirm_password_page_unlocks_and_returns(world, client_as):
    client = client_as("administrator", reauth=False)
    target = reverse("accounts:user_edit", args=[world.users["analyst"].pk])
    first = client.get(target)
    assert first.status_code == 302
    confirm = first["Location"]
    wrong = client.post(confirm, {"password": "nope", "next": target})
    assert wrong.status_code == 200
    right = client.post(confirm, {"password": PASSWORD, "next": target})
    assert right.status_code == 302
    assert right["Location"] == target
    assert client.get(target).status_code == 200
    assert AuditEntry.objects.filter(action="auth.reauth").exists()
    assert AuditEntry.objects.filter(action="auth.reauth_failed").exists()


def test_confirm_password_refuses_offsite_next(client_as):
    response = client_as("analyst").post(
        reverse("core:confirm_password"), {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_five_wrong_reauth_passwords_sign_the_user_out(client_as):
    client = client_as("analyst", reauth=False)
    for _ in range(5):
        response = client.post(reverse("core:confirm_password"), {"password": "wrong"})
    assert response.status_code == 302
    assert client.get(reverse("core:home")).status_code == 302


# --- API tokens page -----------------------------------------------------------------------


def test_token_is_shown_once_and_stored_hashed(world, client_as):
    client = client_as("agency_reporter")
    response = client.post(reverse("accounts:tokens"), {"name": "police ETL", "days": 90})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = response.context["created"]
    assert raw.startswith("tip_")
    assert len(raw) > 40
    token = world.users["agency_reporter"].api_tokens.get()
    assert raw not in (token.token_hash, token.prefix)
    assert raw.startswith(token.prefix)
    again = client.get(reverse("accounts:tokens"))
    assert raw not in again.content.decode()
    revoke = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert revoke.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
