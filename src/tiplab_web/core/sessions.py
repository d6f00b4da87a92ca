"""Idle expiry without a database write on every request.

``SESSION_SAVE_EVERY_REQUEST`` re-saves the session (a write, and on SQLite a lock) on every
request so that the idle timeout (``TIPLAB_SESSION_IDLE_MINUTES``) counts from the last one.
This middleware re-saves it only when a tenth of the timeout (at most a minute) has passed
since the last save: the session still expires after the idle timeout, give or take that
slack, and a busy user costs one write a minute instead of one per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

#: the session key holding the time of the last save (seconds since the epoch)
REFRESHED = "_tiplab_refreshed"


def slack_seconds() -> float:
    return min(60.0, settings.SESSION_COOKIE_AGE / 10)


class SessionRefreshMiddleware:
    """Place right after Django's ``SessionMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session: Any = getattr(request, "session", None)
        if session is None or session.is_empty() or response.status_code >= 500:
            return response
        now = time.time()
        last = session.get(REFRESHED)
        if not isinstance(last, int | float) or now - last >= slack_seconds():
            # marks the session modified: SessionMiddleware (outside this one) saves it
            # and sends the cookie with a new expiry
            session[REFRESHED] = now
        return response
