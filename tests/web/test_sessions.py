"""Idle expiry without a write per request: activity keeps a session alive (one save a
minute at most), idleness for the timeout ends it."""

from __future__ import annotations

from unittest import mock

from django.contrib.sessions.models import Session
from django.urls import reverse

from tiplab_web.core import sessions


def _expiry(client) -> float:
    return Session.objects.get(session_key=client.session.session_key).expire_date.timestamp()


def test_activity_refreshes_the_session_at_most_once_a_minute(client_as):
    client = client_as("analyst")
    t0 = 1_800_000_000.0
    with mock.patch("tiplab_web.core.sessions.time.time", return_value=t0):
        client.get(reverse("core:home"))
    first = _expiry(client)
    with mock.patch("tiplab_web.core.sessions.time.time", return_value=t0 + 10), \
            mock.patch("django.contrib.sessions.backends.db.SessionStore.save") as save:
        client.get(reverse("core:home"))
    assert not save.called  # 10 s later: no write
    with mock.patch("tiplab_web.core.sessions.time.time",
                    return_value=t0 + sessions.slack_seconds() + 1):
        client.get(reverse("core:home"))
    assert _expiry(client) >= first  # saved again, with a new expiry


def test_an_idle_session_ends_after_the_timeout(client_as):
    from datetime import timedelta

    from django.utils import timezone

    client = client_as("analyst")
    assert client.get(reverse("core:home")).status_code == 200
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1))  # the timeout passed, idle
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_refresh_interval_is_a_tenth_of_the_timeout_at_most_a_minute(settings):
    settings.SESSION_COOKIE_AGE = 30 * 60
    assert sessions.slack_seconds() == 60
    settings.SESSION_COOKIE_AGE = 5 * 60
    assert sessions.slack_seconds() == 30
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
