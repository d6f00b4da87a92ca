"""Password reset by e-mail: the same answer for any address, a single-use link that
expires, validators, sign-out everywhere, the second factor still asked, rate limits, audit."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from unittest import mock

from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from tests.web.conftest import sign_in

from tiplab_web.audit.models import AuditEntry

NEW = "a new long passphrase 2026!"


def _ask(client: Client, email: str):
    return client.post(reverse("accounts:password_reset"), {"email": email})


def _link() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", body).group(1)


def test_the_same_answer_for_any_address_and_a_mail_only_for_an_account(world):
    user = world.users["analyst"]
    known = _ask(Client(), user.email)
    unknown = _ask(Client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    entries = AuditEntry.objects.filter(action="auth.password_reset_requested")
    assert entries.filter(object_id=str(user.pk)).count() == 1
    assert "nobody@example.org" not in str(list(entries.values_list("details", flat=True)))


def test_the_link_sets_a_new_password_once_and_signs_out_everywhere(world):
    user = world.users["analyst"]
    elsewhere = sign_in(Client(), user)
    assert elsewhere.get("/").status_code == 200
    _ask(Client(), user.email)
    client = Client()
    form = client.get(_link(), follow=True)  # Django swaps the token for a session key
    assert form.context["validlink"]
    weak = client.post(form.redirect_chain[-1][0], {"new_password1": "123",
                                                     "new_password2": "123"})
    assert weak.status_code == 200
    assert weak.context["form"].errors
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW,
                                                    "new_password2": NEW})
    assert done["Location"] == reverse("accounts:password_reset_done")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert elsewhere.get("/").status_code == 302  # the other session is signed out
    again = Client().get(_link(), follow=True)
    assert not again.context["validlink"]  # used once: no more
    assert AuditEntry.objects.filter(action="auth.password_reset",
                                     object_id=str(user.pk)).exists()


def test_an_old_link_has_expired(world, settings):
    user = world.users["policy_officer"]
    _ask(Client(), user.email)
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with mock.patch.object(default_token_generator, "_now", return_value=later):
        page = Client().get(_link(), follow=True)
    assert not page.context["validlink"]
    assert "no longer valid" in page.content.decode()


def test_the_second_factor_is_still_asked_after_a_reset(world):
    steward = world.users["data_steward"]  # holds a TOTP device
    steward.set_password(NEW)
    steward.save()
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": steward.username,
                                                       "password": NEW})
    assert response.status_code == 302
    assert client.get("/")["Location"].startswith(reverse("accounts:otp_verify"))


def test_requests_are_rate_limited_per_address(world):
    user = world.users["analyst"]
    answers = [_ask(Client(REMOTE_ADDR=f"10.0.0.{i}"), user.email).status_code
               for i in range(7)]
    assert answers[:5] == [302] * 5
    assert answers[5:] == [429, 429]
    assert len(mail.outbox) == 5
