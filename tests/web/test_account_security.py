"""Recovery codes, an administrator's reset of a second factor, and the session list with
sign-out elsewhere and everywhere."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.web.conftest import sign_in
from tests.web.test_accounts import login

from tiplab_web.accounts import security
from tiplab_web.accounts.models import RecoveryCode
from tiplab_web.audit.models import AuditEntry


def test_a_recovery_code_signs_in_once_and_is_stored_hashed(world):
    steward = world.users["data_steward"]  # holds a TOTP device
    codes = security.new_codes(None, steward)
    assert len(codes) == 10
    stored = list(RecoveryCode.objects.filter(user=steward).values_list("code_hash", flat=True))
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    client = Client()
    login(client, steward.username)
    verify = reverse("accounts:otp_verify")
    assert client.get("/")["Location"].startswith(verify)
    client.post(verify, {"recovery_code": codes[0].upper()})  # case and dash do not matter
    assert client.get("/").status_code == 200
    entry = AuditEntry.objects.get(action="auth.recovery_code_used")
    assert entry.details["remaining"] == 9
    again = Client()
    login(again, steward.username)
    again.post(verify, {"recovery_code": codes[0]})
    assert again.get("/")["Location"].startswith(verify)  # used once: refused
    # new codes make the old ones useless
    security.new_codes(None, steward)
    third = Client()
    login(third, steward.username)
    third.post(verify, {"recovery_code": codes[1]})
    assert third.get("/")["Location"].startswith(verify)


def test_new_codes_from_the_security_page_need_the_password(world, client_as):
    client = sign_in(Client(), world.users["analyst"], reauth=False)
    response = client.post(reverse("accounts:recovery_codes"))
    assert response.status_code == 302  # to the password confirmation first
    assert RecoveryCode.objects.count() == 0
    page = client_as("analyst").post(reverse("accounts:recovery_codes"))
    assert page.status_code == 200
    assert RecoveryCode.objects.filter(user=world.users["analyst"]).count() == 10


def test_an_administrator_resets_a_lost_second_factor_not_their_own(world, client_as):
    steward = world.users["data_steward"]
    security.new_codes(None, steward)
    admin = client_as("administrator")
    admin.post(reverse("accounts:user_reset_2fa", args=[steward.pk]))
    assert not TOTPDevice.objects.filter(user=steward).exists()
    assert not RecoveryCode.objects.filter(user=steward).exists()
    assert AuditEntry.objects.filter(action="users.second_factor_reset",
                                     object_id=str(steward.pk)).exists()
    client = Client()
    login(client, steward.username)
    assert client.get("/")["Location"].startswith(reverse("accounts:otp_enrol"))
    me = world.users["administrator"]
    admin.post(reverse("accounts:user_reset_2fa", args=[me.pk]))
    assert TOTPDevice.objects.filter(user=me).exists()
    # without a recent password, the reset is not done
    stale = sign_in(Client(), me, reauth=False)
    TOTPDevice.objects.create(user=steward, name="new", confirmed=True)
    stale.post(reverse("accounts:user_reset_2fa", args=[steward.pk]))
    assert TOTPDevice.objects.filter(user=steward).exists()


def test_the_session_list_and_signing_out_elsewhere_and_everywhere(world, client_as):
    user = world.users["analyst"]
    laptop, phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0) Firefox/120.0"), \
        Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/605.1")
    login(laptop, user.username)
    login(phone, user.username)
    page = laptop.get(reverse("accounts:security"))
    rows = page.context["sessions"]
    assert sorted(r["client"] for r in rows) == ["Firefox on Windows", "Safari on iPhone"]
    assert [r["current"] for r in rows].count(True) == 1
    laptop.post(reverse("accounts:end_sessions"), {"others": "1"})
    assert phone.get("/").status_code == 302  # signed out there
    assert laptop.get("/").status_code == 200  # not here
    # an administrator signs the user out everywhere
    client_as("administrator").post(reverse("accounts:user_sign_out", args=[user.pk]))
    assert laptop.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="auth.sessions_ended",
                                     object_id=str(user.pk)).count() == 2
    # a user cannot end another user's session by its key
    other = Client()
    login(other, world.users["policy_officer"].username)
    key = other.session.session_key
    mine = Client()
    login(mine, user.username)
    mine.post(reverse("accounts:end_sessions"), {"session": key})
    assert other.get("/").status_code == 200
