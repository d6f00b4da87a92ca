"""Account operations. Views call these; each writes its audit entry."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from tiplab_web import audit
from tiplab_web.accounts.models import ApiToken, Invitation, Organisation, Profile, RoleGrant
from tiplab_web.accounts.signals import roles_changed
from tiplab_web.audit import actions
from tiplab_web.core.access import can, forget_roles, requires_two_factor
from tiplab_web.core.roles import ACCOUNT_ROLES

User = get_user_model()
TOKEN_PREFIX = "tip_"  # noqa: S105 - a label, not a secret


class AccountsError(Exception):
    """Base class of account errors; the message is safe to show the user."""


class InvitationInvalid(AccountsError):
    pass


class UsernameTaken(AccountsError):
    pass


def hash_secret(raw: str) -> str:
    """SHA-256 hex digest: tokens are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _check_roles(roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    unknown = wanted - set(ACCOUNT_ROLES)
    if unknown:
        raise AccountsError(f"unknown roles: {', '.join(sorted(unknown))}")
    return wanted


def set_roles(
    user: Any, roles: Iterable[str], *, actor: Any = None, request: HttpRequest | None = None
) -> tuple[set[str], set[str]]:
    """Give ``user`` exactly ``roles``. Returns (added, removed); sends ``roles_changed``."""
    wanted = _check_roles(roles)
    with transaction.atomic():
        current = set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
        added, removed = wanted - current, current - wanted
        RoleGrant.objects.filter(user=user, role__in=removed).delete()
        RoleGrant.objects.bulk_create(
            [RoleGrant(user=user, role=r, granted_by=actor) for r in sorted(added)]
        )
        forget_roles(user)
        if added or removed:
            roles_changed.send(
                sender=User,
                user=user,
                actor=actor,
                request=request,
                added=tuple(added),
                removed=tuple(removed),
            )
    return added, removed


def create_organisation(
    request: HttpRequest, *, name: str, kind: str, country: str
) -> Organisation:
    org = Organisation.objects.create(name=name.strip(), kind=kind, country=country.upper())
    audit.record(request, actions.ORGANISATION_CREATED, org, name=org.name)
    return org


def create_user(
    username: str,
    *,
    organisation: Organisation,
    roles: Iterable[str],
    password: str | None = None,
    email: str = "",
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Any:
    """Create an account with its profile and roles (used by invitations and demo users)."""
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTaken(_("That username is taken; choose another."))
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        Profile.objects.create(user=user, organisation=organisation)
        set_roles(user, roles, actor=actor, request=request)
    return user


def invite(
    request: HttpRequest, *, email: str, organisation: Organisation, roles: Iterable[str]
) -> tuple[Invitation, str]:
    """Create an invitation and e-mail its one-time link. Returns (invitation, link)."""
    role_list = sorted(_check_roles(roles))
    if not role_list:
        raise AccountsError(_("Choose at least one role."))
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        organisation=organisation,
        roles=role_list,
        token_hash=hash_secret(token),
        created_by=request.user,
        expires_at=timezone.now() + timedelta(days=settings.TIPLAB_INVITATION_DAYS),
    )
    link = request.build_absolute_uri(reverse("accounts:invitation", args=[token]))
    send_mail(
        subject=_("Your invitation to tiplab"),
        message=_(
            "You have been invited to tiplab by %(org)s.\n\nOpen this link to choose "
            "your username and password (it works once and expires in %(days)s days):"
            "\n\n%(link)s\n"
        )
        % {"org": organisation.name, "link": link, "days": settings.TIPLAB_INVITATION_DAYS},
        from_email=None,
        recipient_list=[email],
    )
    audit.record(
        request,
        actions.INVITATION_SENT,
        invitation,
        email=email,
        organisation=organisation.name,
        roles=role_list,
    )
    return invitation, link


def usable_invitation(token: str) -> Invitation:
    """The invitation for this one-time token, or ``InvitationInvalid``."""
    invitation = Invitation.objects.filter(token_hash=hash_secret(token)).first()
    if invitation is None or not invitation.is_usable:
        raise InvitationInvalid(_("This invitation link is invalid, used or expired."))
    return invitation


def accept_invitation(request: HttpRequest, token: str, *, username: str, password: str) -> Any:
    """Create the invited account. The token works once: the row is locked and marked used."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=hash_secret(token)).first()
        )
        if invitation is None or not invitation.is_usable:
            raise InvitationInvalid(_("This invitation link is invalid, used or expired."))
        validate_password(password, User(username=username, email=invitation.email))
        user = create_user(
            username,
            organisation=invitation.organisation,
            roles=invitation.roles,
            password=password,
            email=invitation.email,
            actor=invitation.created_by,
            request=request,
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])
        audit.record(request, actions.INVITATION_ACCEPTED, invitation, username=username)
    return user


def update_user(
    request: HttpRequest,
    user: Any,
    *,
    organisation: Organisation,
    roles: Iterable[str],
    is_active: bool,
    reset_two_factor: bool = False,
) -> None:
    with transaction.atomic():
        changes: dict[str, Any] = {}
        profile = Profile.objects.filter(user=user).first()
        if profile is None:
            Profile.objects.create(user=user, organisation=organisation)
            changes["organisation"] = organisation.name
        elif profile.organisation_id != organisation.pk:
            profile.organisation = organisation
            profile.save(update_fields=["organisation"])
            changes["organisation"] = organisation.name
        if user.is_active != is_active:
            user.is_active = is_active
            user.save(update_fields=["is_active"])
            changes["is_active"] = is_active
        if reset_two_factor:
            TOTPDevice.objects.filter(user=user).delete()
            changes["two_factor_reset"] = True
        if changes:
            audit.record(
                request, actions.USER_UPDATED, user, username=user.get_username(), **changes
            )
        set_roles(user, roles, actor=request.user, request=request)


def has_confirmed_totp(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def create_token(request: HttpRequest, *, name: str, days: int) -> tuple[ApiToken, str]:
    """A new API token for the signed-in user. Returns (token row, the token: shown once)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        owner=request.user,
        name=name,
        prefix=raw[:12],
        token_hash=hash_secret(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit.record(request, actions.TOKEN_CREATED, token, name=name, days=days)
    return token, raw


def revoke_token(request: HttpRequest, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(request, actions.TOKEN_REVOKED, token, name=token.name)


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token matching ``raw`` (its owner active and allowed API access), or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = ApiToken.objects.select_related("owner").filter(token_hash=hash_secret(raw)).first()
    if token is None or not token.is_active or not token.owner.is_active:
        return None
    if requires_two_factor(token.owner) or not can(token.owner, "api.tokens"):
        return None  # 2FA roles may not use tokens (they would bypass the second factor)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
