"""Audit entries for authentication events and role changes."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from tiplab_web.accounts.signals import roles_changed
from tiplab_web.audit import actions
from tiplab_web.audit.services import record


@receiver(user_logged_in, dispatch_uid="tiplab-audit-login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None:
        record(user, actions.LOGIN)
        return
    if getattr(request, "user", None) is not user:
        request.user = user  # login() sets it only when the request already had a user
    record(request, actions.LOGIN)


@receiver(user_logged_out, dispatch_uid="tiplab-audit-logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Django sends this before it flushes the session, so request.user is still the user.
    if user is not None:
        record(request if request is not None else user, actions.LOGOUT)


@receiver(user_login_failed, dispatch_uid="tiplab-audit-login-failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Only the username is kept; Django has already masked the password.
    username = str(credentials.get("username", ""))[:150]
    record(request, actions.LOGIN_FAILED, attempted_username=username)


@receiver(user_locked_out, dispatch_uid="tiplab-audit-lockout")
def _locked_out(
    sender: Any,
    request: Any,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    record(request, actions.LOCKOUT, attempted_username=str(username or "")[:150])


@receiver(roles_changed, dispatch_uid="tiplab-audit-roles")
def _roles_changed(
    sender: Any,
    user: Any,
    actor: Any,
    request: Any = None,
    added: tuple[str, ...] = (),
    removed: tuple[str, ...] = (),
    **kwargs: Any,
) -> None:
    record(
        request if request is not None else actor,
        actions.ROLES_CHANGED,
        user,
        username=user.get_username(),
        added=sorted(added),
        removed=sorted(removed),
    )
