"""The accounts app's menu entries and the administrators' "users and roles" panel."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from tiplab_web.accounts.models import Invitation, RoleGrant
from tiplab_web.core import nav, panels
from tiplab_web.core.roles import ACCOUNT_ROLES, ROLE_LABELS


def users_and_roles(request: HttpRequest) -> dict[str, Any]:
    users = get_user_model().objects
    counts = dict(
        RoleGrant.objects.filter(user__is_active=True)
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    need_2fa = set(
        RoleGrant.objects.filter(
            role__in=("administrator", "data_steward"), user__is_active=True
        ).values_list("user_id", flat=True)
    )
    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True, user_id__in=need_2fa).values_list(
            "user_id", flat=True
        )
    )
    return {
        "active_users": users.filter(is_active=True).count(),
        "roles": [(ROLE_LABELS[r], counts.get(r, 0)) for r in ACCOUNT_ROLES],
        "pending_invitations": Invitation.objects.filter(
            accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).count(),
        "missing_2fa": len(need_2fa - enrolled),
    }


nav.register(
    nav.NavItem(
        key="users",
        label=_("Users"),
        url_name="accounts:users",
        capability="users.manage",
        order=910,
        also=("accounts:user_*",),
    )
)
nav.register(
    nav.NavItem(
        key="organisations",
        label=_("Organisations"),
        url_name="accounts:organisations",
        capability="users.manage",
        order=915,
    )
)
nav.register(
    nav.NavItem(
        key="security",
        label=_("Security"),
        url_name="accounts:security",
        capability="account.self",
        order=930,
    )
)
nav.register(
    nav.NavItem(
        key="tokens",
        label=_("API tokens"),
        url_name="accounts:tokens",
        capability="api.tokens",
        order=920,
        also=("accounts:token_*",),
    )
)
panels.register(
    panels.Panel(
        key="users_and_roles",
        title=_("Users and roles"),
        template="accounts/panels/users_and_roles.html",
        capability="users.manage",
        context=users_and_roles,
        order=800,
    )
)
