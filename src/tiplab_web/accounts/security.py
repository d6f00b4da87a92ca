"""Recovery of the second factor and control of sessions.

* **Recovery codes**: ten one-time codes made at enrolment (and on demand), shown once, stored
  as keyed hashes (HMAC-SHA256 with the site's secret key: 40 random bits per code, so a
  copy of the database alone does not give them); one signs in instead of the
  authenticator's code, once; using one is audited and says how many remain.
* **Administrator reset** of a user's second factor (re-authentication, audit): the user's
  authenticator and codes are removed and they enrol again at their next sign-in.
* **Sessions**: each sign-in is recorded (``UserSession``); a user lists theirs and signs out
  one or all the others; an administrator signs a user out everywhere.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice

from tiplab_web import audit

from .models import RecoveryCode, UserSession

CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _hash(user: Any, code: str) -> str:
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    return salted_hmac("tiplab.recovery-code", f"{user.pk}:{normalised}",
                       algorithm="sha256").hexdigest()


def looks_like_code(text: str) -> bool:
    t = text.strip().lower().replace("-", "").replace(" ", "")
    return len(t) == 8 and all(c in _ALPHABET for c in t)


def new_codes(request: Any, user: Any) -> list[str]:
    """Make ``user``'s recovery codes (the old ones stop working); returns them, to show
    once."""
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(8)) for _ in range(CODES)]
    shown = [f"{c[:4]}-{c[4:]}" for c in codes]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            [RecoveryCode(user=user, code_hash=_hash(user, c)) for c in codes])
        audit.record(request, "auth.recovery_codes_made", user, count=CODES)
    return shown


def remaining(user: Any) -> int:
    return RecoveryCode.objects.filter(user=user, used_at=None).count()


def use_code(request: Any, user: Any, code: str) -> bool:
    """True (and the code spent, audited) when ``code`` is one of ``user``'s unused codes."""
    with transaction.atomic():
        found = (RecoveryCode.objects.select_for_update()
                 .filter(user=user, code_hash=_hash(user, code), used_at=None).first())
        if found is None:
            return False
        found.used_at = timezone.now()
        found.save(update_fields=["used_at"])
        audit.record(request, "auth.recovery_code_used", user, remaining=remaining(user))
    return True


def reset_second_factor(request: Any, user: Any) -> None:
    """Remove ``user``'s authenticator and recovery codes and sign them out everywhere:
    they enrol again at their next sign-in."""
    with transaction.atomic():
        devices = TOTPDevice.objects.filter(user=user).delete()[0]
        RecoveryCode.objects.filter(user=user).delete()
        audit.record(request, "users.second_factor_reset", user, devices=devices)
    sign_out_everywhere(request, user)


# --- sessions ---------------------------------------------------------------------------

def record_sign_in(request: Any, user: Any) -> None:
    key = request.session.session_key
    if not key:
        request.session.save()
        key = request.session.session_key
    UserSession.objects.update_or_create(
        session_key=key, defaults={
            "user": user, "ip_address": request.META.get("REMOTE_ADDR", "")[:45],
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300]})


def active_sessions(user: Any) -> list[UserSession]:
    """The user's sessions that are still valid (expired and ended ones are tidied away)."""
    mine = list(UserSession.objects.filter(user=user))
    alive = set(Session.objects.filter(session_key__in=[s.session_key for s in mine],
                                       expire_date__gt=timezone.now())
                .values_list("session_key", flat=True))
    UserSession.objects.filter(pk__in=[s.pk for s in mine if s.session_key not in alive]
                               ).delete()
    return [s for s in mine if s.session_key in alive]


def sign_out(request: Any, user: Any, session_keys: list[str]) -> int:
    """End these sessions of ``user`` (never another user's)."""
    keys = list(UserSession.objects.filter(user=user, session_key__in=session_keys)
                .values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    if keys:
        audit.record(request, "auth.sessions_ended", user, count=len(keys))
    return len(keys)


def sign_out_everywhere(request: Any, user: Any, *, keep: str | None = None) -> int:
    keys = [s.session_key for s in UserSession.objects.filter(user=user)
            if s.session_key != keep]
    return sign_out(request, user, keys)


def browser_of(user_agent: str) -> str:
    """A short, rough name for a user agent ("Firefox on Windows")."""
    ua = user_agent or ""
    browser = next((name for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"),
                                           ("Chrome/", "Chrome"), ("Safari/", "Safari"),
                                           ("curl/", "curl"), ("python", "a script"))
                    if key.lower() in ua.lower()), "a browser")
    system = next((name for key, name in (("Windows", "Windows"), ("Android", "Android"),
                                          ("iPhone", "iPhone"), ("Mac OS", "macOS"),
                                          ("Linux", "Linux")) if key in ua), "")
    return f"{browser} on {system}" if system else browser
